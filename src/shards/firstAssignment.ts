/**
 * Readiness of a pod's shard ownership: it is not ready until its first assignment has
 * settled, i.e. every shard the assignment wants on it (as of its latest tick) is OWNED by
 * it, so a joining pod takes traffic only once it serves its share. A shard that never
 * comes free (a stuck peer) cannot keep it out of service forever: after `capMs` it is
 * ready anyway, with a log line.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../actors/runtime/clock.js';

export class FirstAssignment {
  private settled = false;
  private startedAt: number | undefined;
  private desired: readonly number[] | undefined;

  constructor(
    private readonly clock: Pick<Clock, 'monotonic'>,
    private readonly capMs: number,
    private readonly log: Logger,
    private readonly pod: string,
  ) {}

  start(): void {
    this.startedAt = this.clock.monotonic();
  }

  /** The shards desired here at the latest tick. */
  want(shards: readonly number[], owned: (shard: number) => boolean): void {
    this.desired = shards;
    this.check(owned);
  }

  /** A shard became OWNED here: maybe the assignment has settled. */
  check(owned: (shard: number) => boolean): void {
    if (this.settled || this.desired === undefined || !this.desired.every(owned)) return;
    this.settled = true;
    this.log.info({ pod: this.pod, shards: this.desired.length }, 'first shard assignment settled');
  }

  isSettled(): boolean {
    if (!this.settled && this.startedAt !== undefined && this.clock.monotonic() - this.startedAt >= this.capMs) {
      this.settled = true;
      this.log.warn({ pod: this.pod }, 'first shard assignment did not settle in time: ready anyway');
    }
    return this.settled;
  }
}
