/**
 * Shard ownership in the log as one summary line per pod at info, never a line per shard:
 * `shards owned` with `count` and compact ranges (`shards: "0-15,32-47"`), when the pod has
 * taken its first shards (`reason: "start"`), when ownership has settled after a change
 * (`"settled"`: no change for `quietMs`, or at the latest `10 × quietMs` after the first
 * change, so a pod whose shards keep moving still reports), and after shutdown handed every
 * shard off (`"shutdown"`). Per-shard transitions are logged at debug by the shard manager.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';

/** `[0, 1, 2, 5, 7, 8]` → `"0-2,5,7-8"`; sorted input; empty → `""`. */
export function formatShardRanges(shards: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < shards.length) {
    const start = shards[i] as number;
    let end = start;
    while (i + 1 < shards.length && shards[i + 1] === end + 1) {
      i += 1;
      end += 1;
    }
    parts.push(start === end ? String(start) : `${start}-${end}`);
    i += 1;
  }
  return parts.join(',');
}

export type SummaryReason = 'start' | 'settled' | 'shutdown';

export class OwnershipLog {
  private timer: TimerHandle | undefined;
  private firstChangeAt: number | undefined;
  private lastLogged: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly quietMs: number,
    private readonly log: Logger,
    private readonly pod: string,
    /** The shards this pod owns now, sorted. */
    private readonly owned: () => number[],
  ) {}

  /** Ownership changed (a shard became or stopped being OWNED): summarize once it settles. */
  changed(): void {
    if (this.lastLogged === undefined) return; // before the start-up summary: that one covers it
    const now = this.clock.monotonic();
    this.firstChangeAt ??= now;
    this.clock.clearTimeout(this.timer);
    const wait = Math.min(this.quietMs, this.firstChangeAt + 10 * this.quietMs - now);
    this.timer = this.clock.setTimeout(() => this.summary('settled'), Math.max(0, wait));
  }

  /** Log the summary now (a settled summary only when the owned set differs from the last one logged). */
  summary(reason: SummaryReason, fields: Readonly<Record<string, unknown>> = {}): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.firstChangeAt = undefined;
    const owned = this.owned();
    const shards = formatShardRanges(owned);
    if (reason === 'settled' && shards === this.lastLogged) return;
    this.lastLogged = shards;
    this.log.info({ pod: this.pod, count: owned.length, shards, reason, ...fields }, 'shards owned');
  }

  /** No settled summary from now on (shutdown logs its own). */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.lastLogged = undefined;
  }
}
