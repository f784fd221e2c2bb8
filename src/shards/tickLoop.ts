/**
 * The shard manager's heartbeat: runs `run` every `everyMs` on the injected clock and
 * whenever asked (a nudge). One run at a time; a request during a run schedules one more
 * right after it (the run in flight may have read the world too early). Failures are
 * logged, never thrown.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../actors/runtime/clock.js';

export class TickLoop {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  /** Run now (or once more after the run in flight); resolves when that run is over. */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.run().catch((err: unknown) => this.log.warn({ err }, 'shard tick failed'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Tick every `everyMs` from now on. */
  start(): void {
    const arm = () => {
      this.timer = this.clock.setTimeout(() => {
        if (this.stopped) return;
        arm();
        void this.tick();
      }, this.everyMs);
    };
    arm();
  }

  /** No more periodic ticks; resolves when the run in flight is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    await this.running;
  }
}
