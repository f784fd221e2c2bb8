/** Types and process plumbing of the test cluster (test/helpers/cluster.ts). */
import type { ChildProcess } from 'node:child_process';
import type * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

export { ROOT } from './program.js';

export interface ClusterOptions {
  /** Pod processes (default 3). */
  readonly pods?: number;
  readonly shardCount?: number;
  readonly leaseMs?: number;
  /** Extra environment for every pod. */
  readonly env?: Record<string, string>;
  /** One TICKET_SIGNING_KEY for every pod (default), or none: the pods agree on a key through Postgres. */
  readonly signingKey?: boolean;
  /** gRPC over TLS: the pods' TLS environment and how test clients reach their public port. */
  readonly tls?: ClusterTls;
}

export interface ClusterTls {
  readonly env: Record<string, string>;
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions: grpc.ChannelOptions;
}

export interface ShardEpochRow {
  readonly shard: number;
  readonly epoch: number;
  readonly ownerPod: string | null;
}

export interface TestEvent {
  readonly eventId: string;
  readonly ticketTypeId: string;
  readonly capacity: number;
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns a truthy value; on timeout throw with `describe()`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = options.describe ? await options.describe() : lastError ? String(lastError) : '';
      throw new Error(`timed out waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** Every process started by any cluster of this test process, killed on exit no matter what. */
export const orphans = new Set<ChildProcess>();
let exitHookInstalled = false;
export function track(child: ChildProcess): void {
  orphans.add(child);
  child.once('exit', () => orphans.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of orphans) {
        try {
          c.kill('SIGCONT');
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

/** Last `n` lines, leaving out the per-call access log lines at info level (the noise). */
export function lastLines(file: string, n: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '' && !(l.includes('"level":30') && l.includes('"msg":"grpc call"')))
      .slice(-n)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
