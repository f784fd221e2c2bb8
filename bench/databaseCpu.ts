/**
 * The databases' CPU, read from /proc: the bench's Postgres (its postmaster and every
 * process it started: backends, WAL writer, checkpointer…) and its redis-server. The
 * kernel counts in clock ticks (USER_HZ, 100 a second on Linux): 10 ms steps per process,
 * so a figure means something summed over slices of a second or more, not per call. A
 * process that starts between two samples counts whole; one of the postmaster's that
 * exits between them (an autovacuum worker) comes back whole through the postmaster's
 * count of its reaped children, the part before the first sample included. Linux only:
 * elsewhere there is no sampler and the figures read NaN.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const TICK_US = 10_000;

/**
 * The parent pid of `pid`, its own CPU (utime + stime, µs) and its reaped children's
 * (cutime + cstime), or undefined when it is gone.
 */
async function stat(pid: number): Promise<{ ppid: number; cpuUs: number; childrenUs: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state ppid … utime (14th field) stime cutime cstime (17th).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuUs: (Number(fields[11]) + Number(fields[12])) * TICK_US,
      childrenUs: (Number(fields[13]) + Number(fields[14])) * TICK_US,
    };
  } catch {
    return undefined;
  }
}

/** The CPU (µs) each database process has used so far, by pid. */
export type CpuSample = ReadonlyMap<number, number>;

/** Samples the databases' processes. */
export type DatabaseCpu = () => Promise<CpuSample>;

export async function databaseCpu(postgresDataDir: string, redisPid: number | undefined): Promise<DatabaseCpu | undefined> {
  if (!existsSync('/proc/self/stat')) return undefined;
  const postmaster = Number((await readFile(path.join(postgresDataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  return async () => {
    const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
    const stats = await Promise.all(pids.map(async (pid) => ({ pid, s: await stat(pid) })));
    const sample = new Map<number, number>();
    for (const { pid, s } of stats) {
      if (!s) continue;
      if (pid === postmaster) sample.set(pid, s.cpuUs + s.childrenUs);
      else if (s.ppid === postmaster || pid === redisPid) sample.set(pid, s.cpuUs);
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
