/**
 * Auth and HTTP hygiene: tokens need `exp` (and the configured `aud`/`iss`), on REST and
 * gRPC; admin tokens are checked before a body is read; failed authentications spend a
 * per-client budget; security headers on every response; a slow sender is cut off after
 * REQUEST_TIMEOUT_MS while an SSE stream stays open.
 */
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { createEvent, createTicketType, eventBody, MISSING_ID } from '../helpers/fixtures.js';
import { grpcClients, grpcError, unaryCall } from '../helpers/grpc.js';
import { startTestService, type ApiResponse, type TestService } from '../helpers/service.js';
import { signToken } from '../helpers/tokens.js';

// `short` is a second pod on the same database with a request timeout short enough to test;
// everything else talks to `svc`, whose default timeout a busy machine cannot run into.
const test = anyTest as TestFn<{ svc: TestService; short: TestService }>;
test.before(async (t) => {
  t.context.svc = await startTestService();
  t.context.short = await startTestService({ REQUEST_TIMEOUT_MS: '300' }, t.context.svc);
});
test.after.always(async (t) => {
  await t.context.short?.close();
  await t.context.svc?.close();
});

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

function hasSecurityHeaders(t: { is: (a: unknown, b: unknown, m?: string) => void }, headers: Headers, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) t.is(headers.get(name), value, `${name} on ${what}`);
}

test('a token without exp is UNAUTHENTICATED on REST and gRPC', async (t) => {
  const { svc } = t.context;
  const noExp = await signToken({ roles: ['admin', 'service'], expiresIn: null });
  const res = await svc.api('POST', '/events', { body: eventBody(), token: noExp });
  t.is(res.status, 401);
  t.is(res.body.error.code, 'UNAUTHENTICATED');
  t.is(res.body.error.message, 'token has no exp claim');
  const clients = grpcClients(`127.0.0.1:${svc.service.grpcPort}`);
  try {
    const err = await grpcError(unaryCall(clients.ticket, 'GetReservation', { event_id: MISSING_ID, reservation_id: MISSING_ID }, { token: noExp }));
    t.is(err.code, grpc.status.UNAUTHENTICATED);
  } finally {
    clients.close();
  }
});

test('JWT_AUDIENCE and JWT_ISSUER are checked when set', async (t) => {
  const svc = await startTestService({ JWT_AUDIENCE: 'ticket-service', JWT_ISSUER: 'https://auth.example' });
  try {
    const post = async (claims: { audience?: string; issuer?: string }) =>
      svc.api('POST', '/events', { body: eventBody(), token: await signToken(claims) });
    t.is((await post({ audience: 'ticket-service', issuer: 'https://auth.example' })).status, 201);
    for (const [claims, message] of [
      [{ issuer: 'https://auth.example' }, 'token has no aud claim'],
      [{ audience: 'ticket-service' }, 'token has no iss claim'],
      [{ audience: 'billing', issuer: 'https://auth.example' }, 'token aud claim not accepted'],
      [{ audience: 'ticket-service', issuer: 'https://evil.example' }, 'token iss claim not accepted'],
    ] as const) {
      const res = await post(claims);
      t.is(res.status, 401, JSON.stringify(claims));
      t.is(res.body.error.message, message);
    }
  } finally {
    await svc.close();
  }
});

test('an admin route checks the token before reading the body: 401 before 413', async (t) => {
  const { svc } = t.context;
  const big = JSON.stringify({ ...eventBody(), description: 'x'.repeat(1_200_000) });
  const anonymous = await svc.api('POST', '/events', { body: big, token: null });
  t.is(anonymous.status, 401);
  t.is(anonymous.body.error.code, 'UNAUTHENTICATED');
  const bad = await svc.api('POST', '/events', { body: big, token: 'not.a.jwt' });
  t.is(bad.status, 401);
  const admin = await svc.api('POST', '/events', { body: big });
  t.is(admin.status, 413);
  t.is(admin.body.error.code, 'PAYLOAD_TOO_LARGE');
});

test('failed authentications spend a per-client budget: then 429 with Retry-After, even for a good token', async (t) => {
  const svc = await startTestService({ AUTH_FAILURE_LIMIT: '5', TRUST_PROXY: 'true' });
  try {
    const from = (ip: string, token: string | null): Promise<ApiResponse> =>
      svc.api('POST', '/events', { body: eventBody(), token, headers: { 'x-forwarded-for': ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await from('203.0.113.1', i % 2 ? null : 'bad.token.here')).status);
    t.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const limited = await from('203.0.113.1', 'bad.token.here');
    t.is(limited.status, 429);
    t.is(limited.body.error.code, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    t.true(retryAfter >= 1 && retryAfter <= 60, `retry after ${retryAfter}`);
    t.is((await from('203.0.113.1', svc.adminToken)).status, 429, 'the client is refused before its token is looked at');
    t.is((await svc.api('GET', '/events', { token: 'junk', headers: { 'x-forwarded-for': '203.0.113.1' } })).status, 200, 'public reads are unaffected');
    // Another client is unaffected, and a valid token without the role is not a failed authentication.
    t.is((await from('203.0.113.2', svc.adminToken)).status, 201);
    const viewer = await signToken({ roles: ['viewer'] });
    for (let i = 0; i < 8; i++) t.is((await from('203.0.113.3', viewer)).status, 403);
    t.is((await from('203.0.113.3', svc.adminToken)).status, 201);
  } finally {
    await svc.close();
  }
});

test('security headers on every response; admin responses are not stored', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  await createTicketType(svc, event.id);
  for (const path of ['/health', '/events', `/events/${event.id}`, `/events/${event.id}`, `/events/${event.id}/tickets`, `/events/${event.id}/tickets`, '/nope', '/events/x', '/metrics']) {
    const res = await svc.api('GET', path, { token: null });
    hasSecurityHeaders(t, res.headers, `GET ${path} (${res.status})`);
    t.is(res.headers.get('cache-control'), null, path);
  }
  for (const [method, path, token] of [
    ['POST', '/events', undefined],
    ['POST', '/events', null],
    ['PUT', `/events/${event.id}`, undefined],
    ['GET', `/events/${event.id}/promo-codes`, undefined],
  ] as const) {
    const res = await svc.api(method, path, { token, body: method === 'GET' ? undefined : eventBody() });
    hasSecurityHeaders(t, res.headers, `${method} ${path} (${res.status})`);
    t.is(res.headers.get('cache-control'), 'no-store', `${method} ${path}`);
  }
});

/** Read from an SSE body until `done(text so far)` holds, or fail after `ms`. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean, ms: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  while (!done(text)) {
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no matching data within ${ms} ms: ${text}`)), Math.max(1, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    if (chunk.done) throw new Error(`stream ended: ${text}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

test('REQUEST_TIMEOUT_MS cuts off a client that sends its body slowly', async (t) => {
  const { short: svc } = t.context;
  const { port } = new URL(svc.service.httpUrl);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  const started = Date.now();
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connection was still open after 10 s')), 10_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.once('connect', () => {
    socket.write(
      `POST /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${svc.adminToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title": "slo',
    );
  });
  await closed;
  const elapsed = Date.now() - started;
  t.regex(received, /^HTTP\/1\.1 408 /);
  t.true(elapsed >= 250, `closed after ${elapsed} ms`);
  t.true(elapsed < 5000, `closed after ${elapsed} ms`);
});

test('an SSE stream outlives REQUEST_TIMEOUT_MS: it is a response, not a slow request', async (t) => {
  const { svc, short } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 10 });
  const res = await fetch(`${short.service.httpUrl}/events/${event.id}/availability/stream`);
  t.is(res.status, 200);
  hasSecurityHeaders(t, res.headers, 'SSE');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  try {
    await readUntil(reader, (s) => s.includes('event: availability'), 5000);
    // Past the request timeout (and its connection check) the stream still carries changes.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const changed = await svc.api('PUT', `/events/${event.id}/tickets/${type.id}`, { body: { quantity: 7 } });
    t.is(changed.status, 200);
    const text = await readUntil(reader, (s) => /"available":7\b/.test(s), 5000);
    t.regex(text, /"available":7\b/);
  } finally {
    await reader.cancel();
  }
});
