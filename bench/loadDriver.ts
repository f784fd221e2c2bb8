/**
 * Host side of the load child (loadChild.ts): spawns it, sends requests over IPC and
 * awaits their replies. The host keeps the service and servers; the child makes the calls.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Envelope, Reply, Request, ResultsReply, SideSpec, SliceReply } from './loadProtocol.js';

export interface LoadChild {
  setup(sides: readonly SideSpec[]): Promise<void>;
  slice(side: string, callers: number, warmupMs: number, measureMs: number): Promise<SliceReply>;
  results(): Promise<ResultsReply>;
  close(): Promise<void>;
}

export async function startLoadChild(): Promise<LoadChild> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./loadChild.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited: Error | null = null;
  child.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(`load child: ${m.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = new Error(`load child exited (${code ?? signal})`);
    for (const w of waiting.values()) w.reject(exited);
    waiting.clear();
  });
  const ask = <T>(req: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      waiting.set(id, { resolve: (v) => resolve(v as T), reject });
      child.send({ id, ...req } satisfies Envelope<Request>);
    });
  return {
    setup: (sides) => ask<null>({ op: 'setup', sides }).then(() => undefined),
    slice: (side, callers, warmupMs, measureMs) => ask<SliceReply>({ op: 'slice', side, callers, warmupMs, measureMs }),
    results: () => ask<ResultsReply>({ op: 'results' }),
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask<null>({ op: 'close' }).catch(() => undefined);
      await Promise.race([gone, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
