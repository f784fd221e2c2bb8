/**
 * A minimal virtual-actor runtime: one actor per key (an event id), activated on its first
 * message and passivated when idle.
 *
 * Each actor has a bounded mailbox. Its loop takes *everything* waiting as one batch
 * and hands it to `behavior.turn`, which resolves one reply per message only after its
 * effects are durable (the output gate); while a turn runs, new messages accumulate for
 * the next batch. A behavior with `startTurn` is pipelined: the loop starts the next batch
 * as soon as the previous one is decided (`pipelineDepth` turns in flight at most), and a
 * turn that fails with PredecessorFailedError (decided on top of one that failed) is run
 * again, first, on the reloaded behavior. A full mailbox rejects at once with a retryable
 * BUSY error.
 *
 * Actor lifecycle (transitions are logged):
 *   ACTIVATING ──ok──▶ ACTIVE ──idle for idleMs──▶ PASSIVATING ──▶ STOPPED
 *        │  └──fails──▶ STOPPED (waiting messages rejected)
 *   ACTIVE ──turn throws──▶ ACTIVATING (a fresh behavior reloads from storage; the
 *                            batch's messages are rejected, later ones wait; when the
 *                            behavior `isolates` the error, the batch's messages are
 *                            run again one per turn instead, before later ones)
 * A message for a key whose actor is PASSIVATING waits for it to stop, then activates
 * a new one. `stop()` passivates every actor (drain on shutdown).
 *
 * Reads (`isRead`) of an ACTIVE actor skip the mailbox: `behavior.read` answers at once from
 * committed state, so reads never queue behind writes and a full mailbox refuses writes
 * only. A read of an actor that is not active yet goes through the mailbox (its first turn
 * activates it).
 */
import type { Logger } from 'pino';
import { NO_ACTOR_OBSERVER, type ActorObserver } from './actorObserver.js';
import {
  ActorStoppedError,
  DEFAULT_REGISTRY_OPTIONS,
  MailboxFullError,
  PredecessorFailedError,
  type ActorBehavior,
  type ActorState,
  type RegistryOptions,
  type TurnInFlight,
} from './actorTypes.js';

export type { ActorObserver } from './actorObserver.js';
export { ActorStoppedError, DEFAULT_REGISTRY_OPTIONS, MailboxFullError, PredecessorFailedError } from './actorTypes.js';
export type { ActorBehavior, ActorState, RegistryOptions, TurnInFlight } from './actorTypes.js';

interface Envelope<C, R> {
  readonly command: C;
  resolve(reply: R): void;
  reject(err: unknown): void;
}

class ActorCell<C, R> {
  state: ActorState = 'ACTIVATING';
  readonly mailbox: Envelope<C, R>[] = [];
  /** Messages of a failed batch to run one per turn (before the mailbox). */
  readonly alone: Envelope<C, R>[] = [];
  behavior: ActorBehavior<C, R>;
  running = false;
  /** Wakes a loop that waits on a turn in flight when a message arrives. */
  private arrived: (() => void) | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the last turn ended (the idle timer is re-armed lazily from it). */
  private lastActiveAt = 0;
  stopped: Promise<void> | undefined;
  private activation: Promise<void> | undefined;
  private readonly observer: ActorObserver;

  constructor(
    readonly key: string,
    private readonly factory: (key: string) => ActorBehavior<C, R>,
    private readonly options: RegistryOptions<C>,
    private readonly log: Logger,
    private readonly onStopped: (cell: ActorCell<C, R>) => void,
  ) {
    this.behavior = factory(key);
    this.observer = options.observer ?? NO_ACTOR_OBSERVER;
  }

  private transition(next: ActorState): void {
    this.log.debug({ actor: this.key, from: this.state, to: next }, 'actor state');
    this.state = next;
  }

  /** A read of an ACTIVE actor: answered now (idle time restarts), or undefined to go through the mailbox. */
  read(command: C): R | undefined {
    const read = this.behavior.read;
    if (this.state !== 'ACTIVE' || !read) return undefined;
    const reply = read.call(this.behavior, command);
    if (!this.running) this.armIdle();
    return reply;
  }

  enqueue(command: C): Promise<R> {
    if (this.mailbox.length >= this.options.mailboxCapacity) {
      this.observer.busy?.(this.key);
      return Promise.reject(new MailboxFullError(this.key, this.options.mailboxCapacity));
    }
    return new Promise<R>((resolve, reject) => {
      this.mailbox.push({ command, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    this.arrived?.(); // a loop waiting on a turn in flight takes the new message now
    if (this.running || this.state === 'PASSIVATING' || this.state === 'STOPPED') return;
    this.running = true;
    this.loop().catch((err: unknown) => this.log.error({ err, actor: this.key }, 'actor loop crashed'));
  }

  private async ensureActive(): Promise<void> {
    if (this.state !== 'ACTIVATING') return;
    const started = performance.now();
    this.activation ??= this.behavior.activate();
    try {
      await this.activation;
      this.observer.activated?.(this.key, 'ok', (performance.now() - started) / 1000);
      this.transition('ACTIVE');
    } catch (err) {
      this.observer.activated?.(this.key, 'failed', (performance.now() - started) / 1000);
      throw err;
    } finally {
      this.activation = undefined;
    }
  }

  private async loop(): Promise<void> {
    /** Turns started and not yet settled (pipelined behaviors only). */
    const inFlight = new Set<Promise<void>>();
    /** A turn failed: the behavior is reloaded once every turn in flight has settled. */
    let failed = false;
    /** Messages in the latest turn started. */
    let lastBatch = 0;
    try {
      for (;;) {
        if (failed && inFlight.size === 0) {
          // Whatever the behavior held in memory may be ahead of storage: reload.
          this.behavior = this.factory(this.key);
          this.transition('ACTIVATING');
          failed = false;
        }
        if (this.state === 'STOPPED') break;
        const waiting = this.alone.length > 0 || this.mailbox.length > 0;
        if (!waiting && inFlight.size === 0) break;
        if (failed || inFlight.size >= (this.options.pipelineDepth ?? 1)) {
          await Promise.race(inFlight); // never empty here
          continue;
        }
        // With a turn in flight the next one starts early only once as many messages wait as
        // that turn took (or one to run alone): a small early turn would split the batch the
        // commit cycle gathers, and cost more commits than the overlap saves.
        if (inFlight.size > 0 && this.alone.length === 0 && this.mailbox.length < lastBatch) {
          await Promise.race([...inFlight, new Promise<void>((resolve) => (this.arrived = resolve))]);
          this.arrived = undefined;
          continue;
        }
        try {
          await this.ensureActive();
        } catch (err) {
          this.log.warn({ err, actor: this.key }, 'actor activation failed');
          for (const e of this.waiting()) e.reject(err);
          this.transition('STOPPED');
          this.onStopped(this);
          return;
        }
        const next = this.alone.shift();
        const batch = next ? [next] : this.mailbox.splice(0);
        lastBatch = batch.length;
        this.observer.turn?.(this.key, batch.length);
        const onFailure = (err: unknown) => {
          failed = true;
          if (err instanceof PredecessorFailedError) {
            // Nothing of it was written: run it again, first, on the reloaded actor.
            if (next) this.alone.unshift(next);
            else this.mailbox.unshift(...batch);
            return;
          }
          const isolate = batch.length > 1 && this.behavior.isolates?.(err) === true;
          if (isolate) this.alone.push(...batch);
          else for (const e of batch) e.reject(err);
          this.log.warn({ err, actor: this.key, batch: batch.length, isolate }, 'actor turn failed; reloading');
        };
        const deliver = (replies: R[]) => batch.forEach((e, i) => e.resolve(replies[i] as R));
        const commands = batch.map((e) => e.command);
        if (!this.behavior.startTurn) {
          try {
            deliver(await this.behavior.turn(commands));
          } catch (err) {
            onFailure(err);
          }
          continue;
        }
        let started: TurnInFlight<R>;
        try {
          started = await this.behavior.startTurn(commands);
        } catch (err) {
          onFailure(err);
          continue;
        }
        const settled: Promise<void> = started.replies.then(deliver, onFailure).finally(() => inFlight.delete(settled));
        inFlight.add(settled);
      }
    } finally {
      this.running = false;
    }
    if (this.state === 'ACTIVE') this.armIdle();
  }

  /** Take every message still waiting (to run alone first, then the mailbox). */
  waiting(): Envelope<C, R>[] {
    return [...this.alone.splice(0), ...this.mailbox.splice(0)];
  }

  /**
   * One idle timer per actor, not one per turn: a turn only records when it ended, and the
   * timer, when it fires, passivates or re-arms itself for the rest of the idle time.
   */
  private armIdle(): void {
    this.lastActiveAt = performance.now();
    if (this.idleTimer) return;
    this.idleTimer = setTimeout(() => this.onIdleTimer(), this.options.idleMs);
    this.idleTimer.unref();
  }

  private onIdleTimer(): void {
    this.idleTimer = undefined;
    // Busy now: the end of the running turn arms the timer again.
    if (this.state !== 'ACTIVE' || this.running || this.mailbox.length > 0 || this.alone.length > 0) return;
    const idleFor = performance.now() - this.lastActiveAt;
    if (idleFor < this.options.idleMs) {
      this.idleTimer = setTimeout(() => this.onIdleTimer(), this.options.idleMs - idleFor);
      this.idleTimer.unref();
      return;
    }
    void this.passivate();
  }

  /** Stop after the running turn; messages still waiting are rejected as retryable. */
  passivate(): Promise<void> {
    this.stopped ??= (async () => {
      clearTimeout(this.idleTimer);
      const wasActive = this.state === 'ACTIVE';
      this.transition('PASSIVATING');
      while (this.running) await new Promise((r) => setTimeout(r, 1));
      for (const e of this.waiting()) e.reject(new ActorStoppedError(this.key));
      try {
        if (wasActive) await this.behavior.passivate();
      } catch (err) {
        this.log.warn({ err, actor: this.key }, 'actor passivation failed');
      }
      this.transition('STOPPED');
      if (wasActive) this.observer.passivated?.(this.key);
      this.onStopped(this);
    })();
    return this.stopped;
  }
}

export class ActorRegistry<C, R> {
  private readonly cells = new Map<string, ActorCell<C, R>>();
  private closed = false;

  constructor(
    private readonly factory: (key: string) => ActorBehavior<C, R>,
    private readonly log: Logger,
    private readonly options: RegistryOptions<C> = DEFAULT_REGISTRY_OPTIONS,
  ) {}

  /** Deliver `command` to the actor for `key`, activating it if needed. */
  async send(key: string, command: C): Promise<R> {
    if (this.closed) throw new ActorStoppedError(key);
    let cell = this.cells.get(key);
    while (cell && (cell.state === 'PASSIVATING' || cell.state === 'STOPPED')) {
      await cell.stopped;
      cell = this.cells.get(key);
    }
    if (!cell) {
      cell = new ActorCell(key, this.factory, this.options, this.log, (c) => {
        if (this.cells.get(c.key) === c) this.cells.delete(c.key);
      });
      this.cells.set(key, cell);
    }
    if (this.options.isRead?.(command)) {
      const reply = cell.read(command);
      if (reply !== undefined) return reply;
    }
    return cell.enqueue(command);
  }

  /** Passivate one actor (tests; a shard's hand-off). */
  async passivate(key: string): Promise<void> {
    await this.cells.get(key)?.passivate();
  }

  /** Drop an actor without passivating it (simulates a crash of its in-memory state). */
  discard(key: string): void {
    const cell = this.cells.get(key);
    if (!cell) return;
    this.cells.delete(key);
    cell.state = 'STOPPED';
    clearTimeout(cell.idleTimer);
    for (const e of cell.waiting()) e.reject(new ActorStoppedError(key));
  }

  activeKeys(): string[] {
    return [...this.cells.keys()];
  }

  /** The behaviors of the ACTIVE actors (diagnostics: the inventory invariant gauge reads their state). */
  activeBehaviors(): ActorBehavior<C, R>[] {
    return [...this.cells.values()].flatMap((c) => (c.state === 'ACTIVE' ? [c.behavior] : []));
  }

  /** The most messages waiting in any one actor's mailbox now (0 when none wait). */
  maxMailboxDepth(): number {
    let max = 0;
    for (const c of this.cells.values()) max = Math.max(max, c.mailbox.length + c.alone.length);
    return max;
  }

  /** Passivate every actor; further sends fail with SHARD_MOVING. Idempotent. */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.cells.values()].map((c) => c.passivate()));
  }
}
