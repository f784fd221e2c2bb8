/**
 * Ports for the local Postgres and Redis (src/dev/localStack.ts). Unlike the service they
 * cannot bind port 0 and report the port they got, and a port found free by probing can
 * be taken before the server binds it: above all inside the kernel's ephemeral range,
 * where every outgoing connection takes one. So a server is started on a random port
 * outside that range, and on another one when it still finds its port in use.
 */
import { readFileSync } from 'node:fs';

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Linux's default ephemeral range, when /proc does not say. */
export const DEFAULT_EPHEMERAL_RANGE: PortRange = { low: 32768, high: 60999 };
/** Ports below this are left alone: well-known and commonly configured ones (3000, 5432, 6379, 8080 …). */
const LOWEST_PORT = 10_000;
const HIGHEST_PORT = 65_535;

/** The range in the text of /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999"), or the default. */
export function parsePortRange(text: string | undefined): PortRange {
  const [low, high] = (text ?? '').trim().split(/\s+/).map(Number);
  const valid = (n: number | undefined): n is number => n !== undefined && Number.isInteger(n) && n >= 1 && n <= HIGHEST_PORT;
  return valid(low) && valid(high) && low <= high ? { low, high } : DEFAULT_EPHEMERAL_RANGE;
}

/** The kernel's ephemeral port range on this machine. */
export function ephemeralRange(): PortRange {
  try {
    return parsePortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
  } catch {
    return DEFAULT_EPHEMERAL_RANGE;
  }
}

/**
 * A random port from LOWEST_PORT–65535 outside `ephemeral`. Should the ephemeral range
 * cover all of those, any of them (the caller retries a port in use anyway).
 */
export function pickPort(ephemeral: PortRange = ephemeralRange(), random: () => number = Math.random): number {
  const outside: PortRange[] = [
    { low: LOWEST_PORT, high: Math.min(ephemeral.low - 1, HIGHEST_PORT) },
    { low: Math.max(ephemeral.high + 1, LOWEST_PORT), high: HIGHEST_PORT },
  ].filter((r) => r.high >= r.low);
  const spans = outside.length > 0 ? outside : [{ low: LOWEST_PORT, high: HIGHEST_PORT }];
  let offset = Math.floor(random() * spans.reduce((n, r) => n + r.high - r.low + 1, 0));
  for (const span of spans) {
    const size = span.high - span.low + 1;
    if (offset < size) return span.low + offset;
    offset -= size;
  }
  return HIGHEST_PORT; // random() returned 1 (it must not)
}

export function inEphemeralRange(port: number, ephemeral: PortRange = ephemeralRange()): boolean {
  return port >= ephemeral.low && port <= ephemeral.high;
}

/** A server could not start because another process listens on its port. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    detail: string,
  ) {
    super(`port ${port} is in use: ${detail}`);
  }
}

export interface StartOnPortOptions {
  /** Start on exactly this port, once (e.g. a server restarted where its clients expect it). */
  readonly port?: number;
  readonly attempts?: number;
  readonly pick?: () => number;
}

/**
 * `start(port)` on `options.port`, or on picked ports until one start does not fail with
 * a PortInUseError (at most `attempts`, default 10). Other errors end it at once.
 */
export async function startOnPort<T>(start: (port: number) => Promise<T>, options: StartOnPortOptions = {}): Promise<T> {
  if (options.port !== undefined) return start(options.port);
  const pick = options.pick ?? (() => pickPort());
  const attempts = options.attempts ?? 10;
  const tried = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    let port = pick();
    for (let i = 0; i < 100 && tried.has(port); i++) port = pick();
    tried.add(port);
    try {
      return await start(port);
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= attempts) throw err;
    }
  }
}
