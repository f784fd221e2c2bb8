/**
 * The shipped configuration: gRPC over TLS between three pod processes, with the routing,
 * `ticketctl shards move` and kill -9 scenarios of the plaintext cluster and the same
 * assertions. Two setups, one cluster each, certificates from a CA the test makes; the
 * certificates name `ticket-service-pods` (as k8s/ does), never the IP pods dial:
 *
 *  - mutual TLS (TLS on, GRPC_TLS_CA_PATH, GRPC_TLS_SERVER_NAME; what k8s/ ships), and no
 *    TICKET_SIGNING_KEY: the pods agree on one signing key through Postgres, so a code
 *    signed on the owner checks in through any pod;
 *  - TLS with the pods' CA among the system roots (NODE_EXTRA_CA_CERTS) and no CA
 *    configured: pods prove themselves with pod tokens instead of client certificates.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { Cluster, type ClusterTls } from '../helpers/cluster.js';
import { makeTestPki, POD_SERVER_NAME, type TestPki } from '../helpers/certs.js';
import { kill9Scenario, moveScenario, routingScenario } from '../helpers/clusterScenarios.js';

const test = anyTest as TestFn<{ cluster: Cluster }>;

const LEASE_MS = 2000;
let pki: TestPki | undefined;
const started: Cluster[] = [];

function clientTls(env: Record<string, string>): ClusterTls {
  const ca = readFileSync((pki as TestPki).pods.ca);
  return { env, credentials: grpc.credentials.createSsl(ca), channelOptions: { 'grpc.ssl_target_name_override': POD_SERVER_NAME } };
}

const setups = {
  'mutual TLS': () => ({ tls: clientTls((pki as TestPki).env()), signingKey: false }),
  'TLS with pod tokens': () => {
    const { pods } = pki as TestPki;
    return {
      tls: clientTls({
        GRPC_TLS_ENABLED: 'true',
        GRPC_TLS_CERT_PATH: pods.cert,
        GRPC_TLS_KEY_PATH: pods.key,
        GRPC_TLS_SERVER_NAME: POD_SERVER_NAME,
        NODE_EXTRA_CA_CERTS: pods.ca,
      }),
      signingKey: true,
    };
  },
} as const;

test.before(() => {
  pki = makeTestPki();
});

test.after.always(async () => {
  for (const cluster of started) await cluster.close();
  pki?.remove();
});

for (const [name, setup] of Object.entries(setups)) {
  const clusterFor = (() => {
    let starting: Promise<Cluster> | undefined;
    return () =>
      (starting ??= Cluster.start({ pods: 3, shardCount: 8, leaseMs: LEASE_MS, ...setup() }).then((c) => {
        started.push(c);
        return c;
      }));
  })();
  const run = (scenario: (t: Parameters<typeof routingScenario>[0]) => Promise<void>) =>
    async (t: Parameters<typeof routingScenario>[0]) => {
      t.context.cluster = await clusterFor();
      try {
        await scenario(t);
      } finally {
        if (!t.passed) t.log(`pod logs (last lines):\n${t.context.cluster.tails(30)}`);
      }
    };
  test.serial(`${name}: a reservation through any pod reaches the single owner; steady load sees no errors`, run(routingScenario));
  test.serial(`${name}: ticketctl shards move and rebalance under load: callers see no failed attempt, nothing lost`, run(moveScenario));
  test.serial(`${name}: kill -9 of an owner: another pod serves its events within lease TTL + 1 s; nothing acknowledged lost`, run(kill9Scenario));
  // One cluster at a time on this machine: this one goes before the next setup starts.
  test.serial(`${name}: every pod stops when the cluster closes`, async (t) => {
    const cluster = await clusterFor();
    await cluster.close();
    t.true(cluster.pods.every((p) => p.status === 'exited'));
  });
}
