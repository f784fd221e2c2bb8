/**
 * The pods shards are assigned over, as this pod sees them. Normally that is the registry's
 * live pods. Right after Redis was unreachable, or came back empty (this pod's heartbeat
 * found no entry of its own), the registry may lack pods that are alive and merely have not
 * heartbeated into the new Redis yet: the first pod back would see only itself and take
 * every shard, then hand most of them back (a storm of moves). So for one grace period
 * (a lease TTL, from the first good read) the pods of the last view before the outage count
 * as live until they reappear; a pod that does not reappear within it is dropped then.
 */
import { performance } from 'node:perf_hooks';
import type { PodInfo } from './podRegistry.js';

export class PodView {
  /** The last view read outside a grace period. */
  private previous: readonly PodInfo[] = [];
  /** Pods of `previous` kept as live during the grace period. */
  private remembered: readonly PodInfo[] = [];
  private graceUntil = -Infinity;
  private unreachable = false;

  constructor(
    private readonly graceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Redis could not be reached: the next good read may show a registry that forgot pods. */
  markUnreachable(): void {
    this.unreachable = true;
  }

  /** True while pods missing from the registry are still counted as live. */
  inGrace(): boolean {
    return this.now() < this.graceUntil;
  }

  /**
   * A good registry read: `live` are the registry's live pods, `registeredAnew` is true when
   * this pod's heartbeat found no entry of its own. Returns the pods to assign shards over,
   * sorted by name, and whether a grace period started with this read.
   */
  update(live: readonly PodInfo[], registeredAnew: boolean): { pods: PodInfo[]; graceStarted: boolean } {
    const now = this.now();
    let graceStarted = false;
    if ((this.unreachable || registeredAnew) && this.previous.length > 0 && now >= this.graceUntil) {
      this.graceUntil = now + this.graceMs;
      this.remembered = this.previous;
      graceStarted = true;
    }
    this.unreachable = false;
    if (now < this.graceUntil) {
      const present = new Set(live.map((p) => p.name));
      const missing = this.remembered.filter((p) => !present.has(p.name));
      if (missing.length > 0) return { pods: sorted([...live, ...missing]), graceStarted };
      this.graceUntil = -Infinity; // everyone is back
    }
    this.previous = [...live];
    return { pods: sorted(live), graceStarted };
  }
}

const sorted = (pods: readonly PodInfo[]) => [...pods].sort((a, b) => a.name.localeCompare(b.name));
