import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import anyTest, { type TestFn } from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startTestService, type TestService } from '../helpers/service.js';
import { eventBody, MISSING_ID } from '../helpers/fixtures.js';
import { signToken } from '../helpers/tokens.js';

const test = anyTest as TestFn<{ svc: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

/** Every admin operation from the OpenAPI document, with ids filled in. */
async function adminOperations(svc: TestService): Promise<Array<{ method: string; path: string }>> {
  const doc = (await svc.api('GET', '/openapi.json')).body;
  const ops: Array<{ method: string; path: string }> = [];
  for (const [path, methods] of Object.entries<Record<string, { security?: unknown }>>(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.security) ops.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, MISSING_ID) });
    }
  }
  return ops;
}

test.serial('auth matrix over every admin route: none, bad signature, expired, wrong role', async (t) => {
  const { svc } = t.context;
  const ops = await adminOperations(svc);
  t.true(ops.length >= 11, `found ${ops.length} admin operations`);
  const cases: Array<[string, string | null, number, string]> = [
    ['no token', null, 401, 'UNAUTHENTICATED'],
    ['garbage', 'not.a.jwt', 401, 'UNAUTHENTICATED'],
    ['bad signature', await signToken({ secret: 'another-secret-another-secret-another!!' }), 401, 'UNAUTHENTICATED'],
    ['expired', await signToken({ expiresIn: Math.floor(Date.now() / 1000) - 3600 }), 401, 'UNAUTHENTICATED'],
    ['wrong role', await signToken({ roles: ['customer'] }), 403, 'FORBIDDEN'],
    ['no roles', await signToken({ roles: [] }), 403, 'FORBIDDEN'],
  ];
  for (const { method, path } of ops) {
    for (const [name, token, status, code] of cases) {
      const res = await svc.api(method, path, { token, body: {} });
      t.is(res.status, status, `${name}: ${method} ${path}`);
      t.is(res.body.error.code, code, `${name}: ${method} ${path}`);
    }
  }
  const { rows } = await svc.db.query('SELECT count(*)::int AS n FROM events');
  t.is(rows[0].n, 0);
});

test('an admin token passes, and the expired-token message says so', async (t) => {
  const { svc } = t.context;
  const ok = await svc.api('POST', '/events', { body: eventBody(), token: await signToken({ roles: ['admin', 'service'] }) });
  t.is(ok.status, 201);
  const expired = await svc.api('POST', '/events', {
    body: eventBody(),
    token: await signToken({ expiresIn: Math.floor(Date.now() / 1000) - 3600 }),
  });
  t.is(expired.body.error.message, 'token expired');
  // Public reads need no token, and a bad token on a public route is ignored.
  t.is((await svc.api('GET', '/events', { token: 'junk' })).status, 200);
});

test('tokens from a JWKS endpoint (JWT_JWKS_URL)', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  const svc = await startTestService({ JWT_SECRET: '', JWT_JWKS_URL: url });
  try {
    const sign = async (key: Parameters<SignJWT['sign']>[0], roles: string[]) =>
      new SignJWT({ roles }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a').setExpirationTime('5m').sign(key);
    t.is((await svc.api('POST', '/events', { body: eventBody(), token: await sign(privateKey, ['admin']) })).status, 201);
    t.is((await svc.api('POST', '/events', { body: eventBody(), token: await sign(privateKey, ['viewer']) })).status, 403);
    const other = await generateKeyPair('RS256');
    t.is((await svc.api('POST', '/events', { body: eventBody(), token: await sign(other.privateKey, ['admin']) })).status, 401);
  } finally {
    await svc.close();
    server.close();
  }
});
