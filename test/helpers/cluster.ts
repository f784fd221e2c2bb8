/**
 * A real cluster for test/cluster: N pod processes (the service's entry point) on one
 * machine sharing one Postgres database and one Redis, as in production.
 *
 *  - Postgres: a fresh database (createTestDatabase) on the run's server (TEST_DATABASE_URL),
 *    or on a Postgres of our own when the file runs without test/run.ts.
 *  - Redis: always a dedicated redis-server, so a test can stop it and start it again on
 *    the same port (the pods' REDIS_URL stays valid).
 *  - Pods: PORT=0, GRPC_PORT=0 and INTERNAL_GRPC_PORT=0 (the kernel picks at bind time, so
 *    no other process can take a port between choosing and binding it), each start's ports
 *    read from the pod's PORTS_FILE (test/helpers/clusterPod.ts), POD_NAME pod-a, pod-b, …,
 *    SHARD_COUNT 8, a short lease, one Ed25519 ticket-signing key shared by all (or none:
 *    then the pods agree on one through Postgres), plaintext gRPC or the TLS the test
 *    gives, JSON logs to one file per pod (the last lines go into failure messages).
 *
 * Pod control (each pod's process in test/helpers/clusterPod.ts): kill -9, SIGSTOP/SIGCONT,
 * SIGTERM (drain) with the exit status, restart (on new ports: the Pod record and its
 * clients follow). Ownership views: lease owners from Redis, epochs from Postgres, the
 * desired owners exactly as the pods compute them, and the owner of an event.
 * Nothing outlives the cluster: close() kills every pod and server it started, and a
 * process 'exit' hook SIGKILLs pods and Redis if the test process dies first.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ensureBinaries, startPostgres, startRedis, type Binaries, type RunningPostgres, type RunningRedis } from '../../src/dev/localStack.js';
import { shardOf } from '../../src/shards/shardOf.js';
import { grpcClients, healthStatus } from './grpc.js';
import { createTestDatabase, type TestDatabase } from './testDatabase.js';
import { signToken, TEST_JWT_SECRET } from './tokens.js';
import * as views from './clusterViews.js';
import { Pod, type PodExit } from './clusterPod.js';
import { programArgs } from './program.js';
import { ROOT, track, waitFor, type ClusterOptions, type CommandResult } from './clusterProcess.js';

export * from './clusterProcess.js';
export * from './clusterPod.js';
export class Cluster {
  readonly pods: Pod[] = [];
  /** Test-side Redis client under the pods' key prefix (reconnects after a Redis restart). */
  readonly redis: Redis;
  /** Test-side pool on the pods' database. */
  readonly db: pg.Pool;
  private redisServer: RunningRedis | undefined;
  private closed = false;

  private constructor(
    private readonly bins: Binaries,
    readonly database: TestDatabase,
    private readonly ownPostgres: RunningPostgres | undefined,
    redisServer: RunningRedis,
    readonly redisPort: number,
    readonly keyPrefix: string,
    readonly shardCount: number,
    readonly leaseMs: number,
    private readonly signingKeyPem: string | undefined,
    private readonly extraEnv: Record<string, string>,
    readonly logDir: string,
    /** A token with roles service and admin (writes, REST admin). */
    readonly token: string,
  ) {
    this.redisServer = redisServer;
    track(redisServer.process);
    this.redis = new Redis(`redis://127.0.0.1:${redisPort}`, {
      db: 0,
      keyPrefix,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    this.redis.on('error', () => undefined); // expected while the test stops Redis
    this.db = new pg.Pool({ connectionString: database.url, max: 4 });
    this.db.on('error', () => undefined);
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const bins = await ensureBinaries((line) => process.stderr.write(`${line}\n`));
    let ownPostgres: RunningPostgres | undefined;
    let serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) {
      ownPostgres = await startPostgres(bins, { unsafeFast: true });
      serverUrl = ownPostgres.url('postgres');
    }
    const logDir = await mkdtemp(path.join(os.tmpdir(), 'ticket-cluster-'));
    const database = await createTestDatabase(serverUrl);
    const redisServer = await startRedis(bins, { dir: logDir });
    const signingKeyPem = options.signingKey === false
      ? undefined
      : generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cluster = new Cluster(
      bins,
      database,
      ownPostgres,
      redisServer,
      redisServer.port,
      `c${randomBytes(4).toString('hex')}:`,
      options.shardCount ?? 8,
      options.leaseMs ?? 2000,
      signingKeyPem,
      { ...options.tls?.env, ...options.env },
      logDir,
      await signToken({ roles: ['service', 'admin'], subject: 'cluster-test' }),
    );
    try {
      const count = options.pods ?? 3;
      for (let i = 0; i < count; i++) {
        const name = `pod-${String.fromCharCode(97 + i)}`;
        const tls = options.tls;
        const clientsFor = tls ? (address: string) => grpcClients(address, tls.credentials, tls.channelOptions) : undefined;
        cluster.pods.push(new Pod(name, path.join(logDir, `${name}.log`), path.join(logDir, `${name}.ports.json`), clientsFor));
      }
      await Promise.all(cluster.pods.map((p) => p.start(cluster.env(p))));
      await Promise.all(cluster.pods.map((p) => cluster.waitReady(p.name)));
      await cluster.waitForStableOwnership();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  pod(name: string): Pod {
    const pod = this.pods.find((p) => p.name === name);
    if (!pod) throw new Error(`no pod ${name}`);
    return pod;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`;
  }

  /** The environment every pod (and ticketctl) gets; `pod` adds its name and where to report its ports. */
  env(pod?: Pod): Record<string, string> {
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      DATABASE_URL: this.database.url,
      DATABASE_SSL: 'false',
      DATABASE_POOL_MAX: '10',
      REDIS_URL: this.redisUrl,
      REDIS_DATABASE: '0',
      REDIS_KEY_PREFIX: this.keyPrefix,
      JWT_SECRET: TEST_JWT_SECRET,
      GRPC_TLS_ENABLED: 'false',
      SHARD_COUNT: String(this.shardCount),
      SHARD_LEASE_MS: String(this.leaseMs),
      ...(this.signingKeyPem ? { TICKET_SIGNING_KEY: this.signingKeyPem } : {}),
      RATE_LIMIT_POINTS: '1000000',
      GRPC_RATE_LIMIT_READ_POINTS: '1000000',
      // A busy CI machine starves processes for longer than the 200 ms default: tests of load
      // shedding inject their own lag.
      OVERLOAD_LAG_MS: '60000',
      // Snapshots every 50 journal rows: failover recovers from snapshot + journal.
      INVENTORY_SNAPSHOT_EVERY_EVENTS: '50',
      LOG_LEVEL: 'info',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      ...this.extraEnv,
    };
    if (!pod) return base;
    return {
      ...base,
      POD_NAME: pod.name,
      // Ports picked at bind time; it advertises 127.0.0.1 with its bound internal port.
      PORT: '0',
      GRPC_PORT: '0',
      INTERNAL_GRPC_PORT: '0',
      PORTS_FILE: pod.portsFile,
    };
  }

  /**
   * gRPC health SERVING, REST /ready 200 (which includes its first shard assignment having
   * settled) and present (not shutting down) in the pod registry, registered by this process.
   */
  async waitReady(name: string, timeoutMs = 60_000): Promise<void> {
    const pod = this.pod(name);
    await waitFor(
      `${name} to serve, be ready and register`,
      async () => {
        if (pod.status === 'exited') throw new Error(`${name} exited during start:\n${this.tail(name, 30)}`);
        if ((await healthStatus(pod.clients)) !== 'SERVING') return false;
        if ((await fetch(`${pod.httpUrl}/ready`).then((r) => r.status).catch(() => 0)) !== 200) return false;
        const raw = await this.redis.hget('pods', name);
        const registered = raw === null ? undefined : (JSON.parse(raw) as { address: string; draining: boolean });
        // Registered by this process, not the last one: at one of the ports it reported.
        const reported = Object.values(pod.ports).map((port) => `127.0.0.1:${port}`);
        return registered?.draining === false && reported.includes(registered.address);
      },
      { timeoutMs, intervalMs: 200, describe: () => `status ${pod.status}\n${this.tail(name, 30)}` },
    );
  }

  /** Start (again) a pod that exited, on new ports; waits until it is ready. */
  async restart(name: string): Promise<void> {
    const pod = this.pod(name);
    await pod.start(this.env(pod));
    await this.waitReady(name);
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(name: string): Promise<PodExit> {
    const pod = this.pod(name);
    pod.signal('SIGKILL');
    return pod.exited;
  }

  sigstop(name: string): void {
    this.pod(name).signal('SIGSTOP');
    this.pod(name).status = 'stopped';
  }

  sigcont(name: string): void {
    this.pod(name).signal('SIGCONT');
    this.pod(name).status = 'running';
  }

  /** SIGTERM (drain) and wait for the exit; fails after `timeoutMs`. */
  terminate(name: string, timeoutMs = 40_000): Promise<PodExit> {
    return this.pod(name).terminate(timeoutMs);
  }

  /** Last `n` log lines of a pod. */
  tail(name: string, n = 40): string {
    return this.pod(name).tail(n);
  }

  /** A pod's whole log so far. */
  log(name: string): string {
    return this.pod(name).log();
  }

  /** Every pod's log tail, for failure messages. */
  tails(n = 25): string {
    return this.pods.map((p) => `── ${p.name} (${p.status}) ${p.logFile}\n${p.tail(n)}`).join('\n');
  }

  /** Pods whose process runs (not stopped, not exited). */
  runningPods(): Pod[] {
    return this.pods.filter((p) => p.status === 'running');
  }

  // ── Redis ─────────────────────────────────────────────────────────────────────────

  /** Stop the cluster's redis-server (its data is gone: persistence is off). */
  async stopRedis(): Promise<void> {
    await this.redisServer?.stop();
    this.redisServer = undefined;
  }

  /** Start redis-server again on the same port. */
  async startRedis(): Promise<void> {
    if (this.redisServer) return;
    this.redisServer = await startRedis(this.bins, { port: this.redisPort, dir: this.logDir });
    track(this.redisServer.process);
  }

  // ── Ownership and catalog (test/helpers/clusterViews.ts) ─────────────────────────

  leaseOwners = () => views.leaseOwners(this);
  epochs = () => views.epochs(this);
  livePods = () => views.livePods(this);
  desiredOwners = () => views.desiredOwnersNow(this);
  waitForStableOwnership = (timeoutMs?: number) => views.waitForStableOwnership(this, timeoutMs);
  api = <T = any>(method: string, urlPath: string, body?: unknown, pod?: Pod) => views.api<T>(this, method, urlPath, body, pod);
  createEvent = (capacity: number, maxPerPurchase?: number) => views.createEvent(this, capacity, maxPerPurchase);
  createSpreadEvents = (perPod: number, capacity: number) => views.createSpreadEvents(this, perPod, capacity);
  metric = (podName: string, name: string) => views.metric(this, podName, name);

  shardOf(eventId: string): number {
    return shardOf(eventId, this.shardCount);
  }

  /** The pod holding the lease of the event's shard (null while free). */
  async ownerOfEvent(eventId: string): Promise<string | null> {
    return (await this.leaseOwners())[this.shardOf(eventId)] ?? null;
  }

  // ── ticketctl ─────────────────────────────────────────────────────────────────────

  /** `ticketctl shards <args>` with the cluster's environment. */
  ticketctl(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [...programArgs('cli/ticketctl'), ...args],
        { cwd: ROOT, env: this.env(), timeout: timeoutMs },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /**
   * Back to a healthy cluster: stopped pods continued, exited pods restarted, Redis up,
   * operator overrides and drain marks cleared, every shard on its desired owner.
   */
  async heal(): Promise<void> {
    await this.startRedis();
    for (const p of this.pods) if (p.status === 'stopped') this.sigcont(p.name);
    await Promise.all(this.pods.filter((p) => p.status === 'exited').map((p) => this.restart(p.name)));
    await this.redis.del('shard-overrides', 'pods-draining');
    await Promise.all(this.pods.map((p) => this.waitReady(p.name)));
    await this.waitForStableOwnership();
  }

  // ── Teardown ──────────────────────────────────────────────────────────────────────

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pod of this.pods) await pod.close();
    this.redis.disconnect();
    await this.db.end().catch(() => undefined);
    await this.redisServer?.stop();
    await this.database.drop().catch(() => undefined);
    await this.ownPostgres?.stop();
    if (!process.env.KEEP_CLUSTER_LOGS) await rm(this.logDir, { recursive: true, force: true });
  }
}
