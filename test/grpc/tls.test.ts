/** gRPC over TLS with a self-signed certificate made by the test; clear errors for bad files. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { pino } from 'pino';
import { createVerifier } from '../../src/auth/verifier.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startGrpcServer } from '../../src/grpc/server.js';
import { grpcClients, grpcError, grpcTestConfig, healthStatus, startedTestHealth, testServices } from '../helpers/grpc.js';

const test = anyTest as TestFn<{ dir: string; cert: string; key: string }>;

test.before((t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'grpc-tls-'));
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ed25519', '-nodes', '-days', '1',
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  t.context = { dir, cert, key };
});

test.after.always((t) => {
  rmSync(t.context.dir, { recursive: true, force: true });
});

async function deps() {
  return {
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    verifier: createVerifier({ disabled: true }),
    health: await startedTestHealth(),
  };
}

function tlsEnv(cert: string, key: string): Record<string, string> {
  return { GRPC_TLS_ENABLED: 'true', GRPC_TLS_CERT_PATH: cert, GRPC_TLS_KEY_PATH: key };
}

test('a TLS server accepts a client trusting its certificate and refuses plaintext', async (t) => {
  const { cert, key } = t.context;
  const server = await startGrpcServer(grpcTestConfig(tlsEnv(cert, key)), testServices(), await deps());
  t.teardown(() => server.stop(1000));
  const address = `127.0.0.1:${server.port}`;

  const secure = grpcClients(address, grpc.credentials.createSsl(readFileSync(cert)), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  t.teardown(() => secure.close());
  t.is(await healthStatus(secure), 'SERVING');

  const plain = grpcClients(address);
  t.teardown(() => plain.close());
  const err = await grpcError(healthStatus(plain));
  t.is(err.code, grpc.status.UNAVAILABLE);
});

test('an unreadable certificate or key names its variable', async (t) => {
  const { cert, key, dir } = t.context;
  const missing = path.join(dir, 'nope.crt');
  const noCert = await t.throwsAsync(startGrpcServer(grpcTestConfig(tlsEnv(missing, key)), testServices(), await deps()));
  t.regex(noCert?.message ?? '', /GRPC_TLS_CERT_PATH.*nope\.crt/);
  const noKey = await t.throwsAsync(startGrpcServer(grpcTestConfig(tlsEnv(cert, missing)), testServices(), await deps()));
  t.regex(noKey?.message ?? '', /GRPC_TLS_KEY_PATH/);
});

test('a key that does not match the certificate is refused at start-up', async (t) => {
  const { cert, dir } = t.context;
  const otherKey = path.join(dir, 'other.key');
  writeFileSync(otherKey, execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519']));
  const err = await t.throwsAsync(startGrpcServer(grpcTestConfig(tlsEnv(cert, otherKey)), testServices(), await deps()));
  t.regex(err?.message ?? '', /GRPC_TLS_CERT_PATH.*GRPC_TLS_KEY_PATH/);
});
