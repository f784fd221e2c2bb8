/**
 * The actor runtime's contracts: what an actor's behavior implements (turns, pipelined
 * turns, reads, passivation), the registry's options, and the errors it answers with.
 * The registry itself: actorRegistry.ts.
 */
import type { ActorObserver } from './actorObserver.js';
import { AppError } from './errors.js';

export interface ActorBehavior<C, R> {
  /** Load state before the first turn (snapshot + journal replay). */
  activate(): Promise<void>;
  /** Decide and persist one batch; one reply per command, in order. Throwing fails them all. */
  turn(batch: readonly C[]): Promise<R[]>;
  /**
   * Pipelined turns: decide one batch and queue its write, resolving as soon as the next
   * batch may be decided; `replies` settles once the write is durable (as `turn` would).
   * When present the registry keeps up to `RegistryOptions.pipelineDepth` turns in flight per actor.
   */
  startTurn?(batch: readonly C[]): Promise<TurnInFlight<R>>;
  /**
   * True when `err`, thrown by a turn of several commands, came from one of them (not from
   * the batch as a whole): the fresh actor then runs each of those commands as a turn of
   * its own, so only the guilty one fails.
   */
  isolates?(err: unknown): boolean;
  /** Persist what recovery needs (a snapshot) and release resources. */
  passivate(): Promise<void>;
  /** Answer a read (`RegistryOptions.isRead`) from committed state, without a turn. */
  read?(command: C): R;
}

/** A pipelined turn: decided, its write queued; its replies come once it is durable. */
export interface TurnInFlight<R> {
  readonly replies: Promise<R[]>;
}

/**
 * A pipelined turn that was not written because an earlier turn of the same actor was not:
 * its commands did nothing and run again on the reloaded actor.
 */
export class PredecessorFailedError extends Error {
  override readonly name = 'PredecessorFailedError';
  constructor(readonly key: string) {
    super(`an earlier turn of ${key} failed; this one was not written`);
  }
}

export type ActorState = 'ACTIVATING' | 'ACTIVE' | 'PASSIVATING' | 'STOPPED';

export interface RegistryOptions<C = unknown> {
  /** Messages waiting per actor before new ones are refused with BUSY. */
  readonly mailboxCapacity: number;
  /** An actor with no message for this long is passivated. */
  readonly idleMs: number;
  /** Messages an active actor answers with `behavior.read`, outside the mailbox. */
  readonly isRead?: (command: C) => boolean;
  /**
   * Turns of one actor in flight at most (behaviors with `startTurn`): 1 (the default) decides
   * the next turn once the last is durable; 2 decides it while the last commits.
   */
  readonly pipelineDepth?: number;
  /** Told of activations, passivations, turns and BUSY refusals (metrics); nothing by default. */
  readonly observer?: ActorObserver;
}

export const DEFAULT_REGISTRY_OPTIONS: Pick<RegistryOptions, 'mailboxCapacity' | 'idleMs'> = { mailboxCapacity: 10_000, idleMs: 300_000 };

export class MailboxFullError extends AppError {
  override readonly name = 'MailboxFullError';
  constructor(key: string, capacity: number) {
    super('BUSY', `the actor for ${key} has ${capacity} messages waiting; retry shortly`, { key, capacity });
  }
}

export class ActorStoppedError extends AppError {
  override readonly name = 'ActorStoppedError';
  constructor(key: string) {
    super('SHARD_MOVING', `the actor for ${key} is stopping; retry`, { key });
  }
}
