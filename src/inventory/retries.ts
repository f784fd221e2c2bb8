/**
 * Background retries, one chain per key: after a failure, `attempt` runs again after
 * `delaysMs[0]`, then `delaysMs[1]`, … (the last delay repeating) until it succeeds or
 * `maxAttempts` ran or it fails in a way `retryable` says another attempt would not mend;
 * starting a key again, or cancelling it, drops its pending chain; after `stop` nothing runs.
 * Timers come from the clock port, so tests move time by hand.
 */
import type { Logger } from 'pino';
import { systemClock, type Timers } from '../../actors/runtime/clock.js';

export interface RetryOptions {
  readonly timers?: Timers;
  readonly delaysMs?: readonly number[];
  readonly maxAttempts?: number;
  /** Whether an attempt that failed with `err` is worth another (default: every failure). */
  readonly retryable?: (err: unknown) => boolean;
  /** Told when the retries of a key gave up (its last error). */
  readonly log?: Pick<Logger, 'warn'>;
  /** What the log line calls the work. */
  readonly what?: string;
}

export interface Retries {
  start(key: string, attempt: () => Promise<void>): void;
  cancel(key: string): void;
  /** Drop every pending chain and start no more (shutdown). */
  stop(): void;
  /** Keys with a retry pending (diagnostics and tests). */
  pending(): number;
}

/** 0.25 s, 0.5 s, 1 s, 2 s, 4 s, then every 10 s: about 2 minutes over 16 attempts. */
export const DEFAULT_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 10_000] as const;
export const DEFAULT_MAX_ATTEMPTS = 16;

export function createRetries(options: RetryOptions = {}): Retries {
  const timers = options.timers ?? systemClock;
  const delays = options.delaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  /** Per key, the token of its current chain (a newer start or a cancel replaces or removes it). */
  const chains = new Map<string, { handle: ReturnType<Timers['setTimeout']> | undefined }>();
  const retryable = options.retryable ?? (() => true);
  let stopped = false;

  function schedule(key: string, chain: { handle: ReturnType<Timers['setTimeout']> | undefined }, attempt: () => Promise<void>, n: number): void {
    const delay = delays[Math.min(n, delays.length - 1)] ?? 1000;
    chain.handle = timers.setTimeout(() => {
      attempt().then(
        () => {
          if (chains.get(key) === chain) chains.delete(key);
        },
        (err: unknown) => {
          if (chains.get(key) !== chain) return; // replaced or cancelled meanwhile
          if (!retryable(err)) {
            chains.delete(key); // another attempt would fail the same way
            return;
          }
          if (n + 1 >= maxAttempts) {
            chains.delete(key);
            options.log?.warn({ err, key, attempts: n + 1 }, `${options.what ?? 'retry'} gave up`);
            return;
          }
          schedule(key, chain, attempt, n + 1);
        },
      );
    }, delay);
  }

  return {
    start(key, attempt) {
      this.cancel(key);
      if (stopped) return;
      const chain = { handle: undefined };
      chains.set(key, chain);
      schedule(key, chain, attempt, 0);
    },
    cancel(key) {
      const chain = chains.get(key);
      if (!chain) return;
      timers.clearTimeout(chain.handle);
      chains.delete(key);
    },
    stop() {
      stopped = true;
      for (const key of [...chains.keys()]) this.cancel(key);
    },
    pending: () => chains.size,
  };
}
