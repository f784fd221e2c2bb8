/**
 * The actor's pricing timer: while dynamic pricing is on and the event has rules, one timer
 * per actor sends `Reprice` at the next pricing-interval boundary, so prices (and the
 * availability that publishes them) move on time even when nobody buys. A failed delivery
 * is not retried: the next turn of the actor reprices first anyway.
 */
import type { InventoryActorDeps, TimerHandle } from './actorPorts.js';
import type { CatalogInfo } from './model.js';

export class PricingTimer {
  private timer: TimerHandle | undefined;
  private armedFor = 0;

  constructor(
    private readonly deps: Pick<InventoryActorDeps, 'pricing' | 'clock' | 'timers' | 'schedule' | 'log'>,
    private readonly eventId: string,
  ) {}

  arm(catalog: CatalogInfo): void {
    const pricing = this.deps.pricing;
    if (!pricing?.enabled || (catalog.pricingRules ?? []).length === 0) {
      this.stop();
      return;
    }
    const boundary = pricing.intervalOf(this.deps.clock()).end;
    if (boundary === this.armedFor) return;
    this.deps.timers.clearTimeout(this.timer);
    this.armedFor = boundary;
    this.timer = this.deps.timers.setTimeout(() => {
      this.armedFor = 0;
      this.deps.schedule(this.eventId, { type: 'Reprice' }).catch((err: unknown) => {
        this.deps.log.debug({ err, eventId: this.eventId }, 'reprice delivery failed; the next turn reprices');
      });
    }, Math.max(0, boundary - this.deps.clock()) + 5);
  }

  stop(): void {
    this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = 0;
  }
}
