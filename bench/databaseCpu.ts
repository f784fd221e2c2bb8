/**
 * The databases' CPU, read from /proc: the bench's Postgres (its postmaster and every
 * process it started: backends, WAL writer, checkpointer…) and its redis-server. The
 * kernel counts in clock ticks (USER_HZ, 100 a second on Linux): 10 ms steps per process,
 * so a figure means something summed over slices of a second or more, not per call. A
 * process that exits between two samples (an autovacuum worker) takes its CPU since the
 * first with it; one that starts between them counts whole.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const TICK_US = 10_000;

/** utime + stime (µs) and the parent pid of `pid`, or undefined when it is gone. */
async function stat(pid: number): Promise<{ ppid: number; cpuUs: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state ppid … utime (14th field) stime (15th).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuUs: (Number(fields[11]) + Number(fields[12])) * TICK_US };
  } catch {
    return undefined;
  }
}

/** The CPU (µs) each database process has used so far, by pid. */
export type CpuSample = ReadonlyMap<number, number>;

/** Samples the databases' processes. */
export type DatabaseCpu = () => Promise<CpuSample>;

export async function databaseCpu(postgresDataDir: string, redisPid: number | undefined): Promise<DatabaseCpu> {
  const postmaster = Number((await readFile(path.join(postgresDataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return async () => {
    const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
    const stats = await Promise.all(pids.map(async (pid) => ({ pid, s: await stat(pid) })));
    const sample = new Map<number, number>();
    for (const { pid, s } of stats) {
      if (s && (pid === postmaster || s.ppid === postmaster || pid === redisPid)) sample.set(pid, s.cpuUs);
    }
    return sample;
  };
}

/** The CPU (µs) the processes of `after` used since `before`. */
export function cpuBetween(before: CpuSample, after: CpuSample): number {
  let used = 0;
  for (const [pid, cpuUs] of after) used += cpuUs - (before.get(pid) ?? 0);
  return used;
}
