/**
 * What the actor keeps of a reservation once its hold closed (confirmed, released,
 * expired): only what tells a retry from a new request, stored as columns: its status,
 * when it closed (at the latest), and 52 bits of its request fingerprint's sha256. The
 * rest of the reservation (items, totals, tickets' codes) is read back from Postgres when
 * a command names it again (pastReservations.ts).
 *
 * Records closed longer ago than the idempotency window are dropped (`prune`); the set
 * then remembers that it forgot some (`forgotten`), so an unknown reservation id is looked
 * up in Postgres before it is taken for a new one. Dropping is a memory optimisation only:
 * Postgres holds every reservation, so the answers are the same either way.
 */
import { createHash } from 'node:crypto';
import type { ReservationStatus } from './model.js';

const STATUS: readonly ReservationStatus[] = ['HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED'];

/** The sha256 hex of a reserve request's fingerprint, as Postgres stores it (`reservations.request_hash`). */
export function requestHashOf(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex');
}

/** The first 52 bits of a request hash (hex) as an exact Number. */
export function requestHashBits(hashHex: string): number {
  return parseInt(hashHex.slice(0, 13), 16);
}

export interface ClosedRecord {
  readonly status: ReservationStatus;
  /** When the hold closed, at the latest (epoch ms). */
  readonly closedAt: number;
  /** {@link requestHashBits} of the reserve request. */
  readonly requestHash: number;
}

/** The set's content as plain arrays (snapshots), oldest first. */
export interface ClosedColumns {
  readonly ids: readonly string[];
  readonly status: Uint8Array;
  readonly closedAt: Float64Array;
  readonly requestHash: Float64Array;
  readonly forgotten: number;
}

/** Records dropped from the head are compacted away once they are this many and half the rows. */
const COMPACT_AFTER = 1024;

export class ClosedReservations {
  private readonly rows = new Map<string, number>();
  /** Id of each row; rows before `head` were pruned. */
  private ids: string[] = [];
  private head = 0;
  private status: Uint8Array = new Uint8Array(64);
  private closedAt: Float64Array = new Float64Array(64);
  private hash: Float64Array = new Float64Array(64);
  /** How many records were dropped (pruned) so far. */
  private dropped = 0;

  get size(): number {
    return this.rows.size;
  }

  /** Records were dropped: an id this set does not know may be a reservation it forgot. */
  get forgotten(): number {
    return this.dropped;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  get(id: string): ClosedRecord | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    return { status: STATUS[this.status[row] as number] as ReservationStatus, closedAt: this.closedAt[row] as number, requestHash: this.hash[row] as number };
  }

  add(id: string, record: ClosedRecord): void {
    if (this.ids.length === this.status.length) this.compact(Math.max(64, (this.ids.length - this.head) * 2));
    const r = this.ids.push(id) - 1;
    this.status[r] = STATUS.indexOf(record.status);
    this.closedAt[r] = record.closedAt;
    this.hash[r] = record.requestHash;
    this.rows.set(id, r);
  }

  /**
   * Drop records closed before `cutoff` from the oldest end (records are roughly in
   * closing order; a later one behind a younger record waits for it). Returns how many.
   */
  prune(cutoff: number): number {
    let n = 0;
    while (this.head < this.ids.length && (this.closedAt[this.head] as number) < cutoff) {
      const id = this.ids[this.head] as string;
      if (this.rows.get(id) === this.head) this.rows.delete(id);
      this.ids[this.head] = '';
      this.head += 1;
      n += 1;
    }
    this.dropped += n;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.ids.length) this.compact(this.status.length);
    return n;
  }

  columns(): ClosedColumns {
    const from = this.head;
    const to = this.ids.length;
    return {
      ids: this.ids.slice(from, to),
      status: this.status.slice(from, to),
      closedAt: this.closedAt.slice(from, to),
      requestHash: this.hash.slice(from, to),
      forgotten: this.dropped,
    };
  }

  static fromColumns(c: ClosedColumns): ClosedReservations {
    const set = new ClosedReservations();
    const n = c.ids.length;
    if (c.status.length !== n || c.closedAt.length !== n || c.requestHash.length !== n) throw new Error('closed reservation columns of unequal length');
    set.ids = [...c.ids];
    set.status = c.status;
    set.closedAt = c.closedAt;
    set.hash = c.requestHash;
    set.dropped = c.forgotten;
    c.ids.forEach((id, row) => set.rows.set(id, row));
    return set;
  }

  /** The records as plain objects by id, oldest first (diagnostics, tests). */
  toJSON(): { records: Record<string, ClosedRecord>; forgotten: number } {
    const records: Record<string, ClosedRecord> = {};
    for (const id of this.rows.keys()) records[id] = this.get(id) as ClosedRecord;
    return { records, forgotten: this.dropped };
  }

  clone(): ClosedReservations {
    return ClosedReservations.fromColumns(this.columns());
  }

  /** Move the live rows to the front of new columns of `capacity` rows (growing, or dropping pruned rows). */
  private compact(capacity: number): void {
    const from = this.head;
    const live = this.ids.length - from;
    const status = new Uint8Array(capacity);
    const closedAt = new Float64Array(capacity);
    const hash = new Float64Array(capacity);
    status.set(this.status.subarray(from, from + live));
    closedAt.set(this.closedAt.subarray(from, from + live));
    hash.set(this.hash.subarray(from, from + live));
    this.status = status;
    this.closedAt = closedAt;
    this.hash = hash;
    if (from > 0) {
      this.ids = this.ids.slice(from);
      this.head = 0;
      this.ids.forEach((id, row) => {
        if (this.rows.has(id)) this.rows.set(id, row);
      });
    }
  }
}
