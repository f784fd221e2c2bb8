/**
 * What the EventInventory actor needs from the service around it (ports): ticket code
 * signing, the projections after a commit, reservations it no longer keeps, its settings,
 * time, and its dependencies.
 */
export type { Clock, TimerHandle, Timers } from '../runtime/clock.js';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Timers } from '../runtime/clock.js';
import type { CommitBatcher } from './commitBatcher.js';
import type { CatalogInfo, InventoryCommand, InventoryState, JournalEntry, PastReservation } from './model.js';
import type { PricingPort } from './pricingPort.js';

/** What an actor's commit needs: the fencing epoch this pod holds for a shard. */
export interface ShardOwnership {
  /** The epoch this pod holds for `shardId`, or undefined when it does not own it. */
  epochFor(shardId: number): number | undefined;
  /** A commit or fence check found a newer epoch: the shard is someone else's now. */
  fenced?(shardId: number): void;
  /**
   * True when this pod serves the shard now: OWNED and its lease deadline not passed. A read
   * answered from memory needs nothing more (no new owner can exist before the lease ran out).
   */
  serves(shardId: number): boolean;
}

export interface TicketCodeSigner {
  signMany(payloads: readonly { ticketId: string; eventId: string; ticketTypeId: string }[]): Promise<string[]>;
}

/**
 * Projects the committed state (read-only use). `committed` is false when nothing changed
 * (activation, a read refreshing an expired read model): then only the live view is
 * refreshed, and no counters are written or NOTIFYed.
 */
export type AfterCommit = (eventId: string, state: InventoryState, catalog: CatalogInfo, committed: boolean) => void;

/**
 * The reservations of an event among `ids` that are no longer open holds, as stored
 * (Postgres: pastReservationStore.ts); ids it does not have are absent. One query.
 */
export type PastReservationsLoader = (eventId: string, ids: readonly string[]) => Promise<ReadonlyMap<string, PastReservation>>;

/**
 * One turn's fenced commit, settled: `ok` (durable), `fenced` (the shard's epoch moved on:
 * another pod owns it) or `failed` (Postgres refused or failed); the time it took from
 * handing the write to the group commit, and the journal entries it carried.
 */
export type CommitOutcome = 'ok' | 'fenced' | 'failed';
export type OnCommit = (eventId: string, outcome: CommitOutcome, seconds: number, entries: readonly JournalEntry[]) => void;

export interface InventorySettings {
  /** Journal rows between snapshots. */
  readonly snapshotEveryEvents: number;
  readonly defaultHoldSeconds: number;
  readonly maxHoldSeconds: number;
  readonly discountsEnabled: boolean;
  /** How long the state keeps a closed reservation's record (older retries are answered from Postgres). */
  readonly idempotencyWindowSeconds: number;
}

export interface InventoryActorDeps {
  readonly pool: pg.Pool;
  readonly log: Logger;
  /** Wall time, epoch ms (what holds expire by). */
  readonly clock: () => number;
  /** The hold-expiry timer's clock (the same time as `clock`; tests move both by hand). */
  readonly timers: Timers;
  readonly ownership: ShardOwnership;
  /** The shard an event belongs to (the cluster's hash). */
  readonly shardOf: (eventId: string) => number;
  readonly signer: TicketCodeSigner;
  readonly pastReservations: PastReservationsLoader;
  readonly afterCommit: AfterCommit;
  /** Group commit across this pod's actors (one transaction for the turns ready together). */
  readonly committer: CommitBatcher;
  /** This pod's name, recorded with every activation (shard, pod, epoch). */
  readonly podName: string;
  /** Observe a fenced step the epoch rejected: a commit, or the fence check of a turn that writes nothing (metrics). */
  readonly onFenced?: () => void;
  /** Observe every turn's commit (metrics, slow-operation log); must not throw. */
  readonly onCommit?: OnCommit;
  readonly settings: InventorySettings;
  /** Dynamic pricing (the engine and its interval); absent = base prices. */
  readonly pricing?: PricingPort;
  /** Deliver a command to this event's actor later (the hold-expiry and pricing timers). */
  readonly schedule: (eventId: string, cmd: InventoryCommand) => Promise<unknown>;
}
