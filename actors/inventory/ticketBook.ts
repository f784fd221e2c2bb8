/**
 * The issued tickets of one event, stored as columns: a ticket costs a map entry (its id →
 * its row) and a few bytes per column instead of an object per ticket. Everything a
 * decision needs about a ticket (status, type, price, check-in, reservation, currency) is
 * here; a `Ticket` object is made only when one is asked for (`get`).
 *
 * Strings that repeat (ticket types, gates, currencies) are interned into small tables and
 * stored by index; each reservation id is stored once, shared by its tickets. Rows are never
 * removed: a ticket stays in the book for the life of the event (its check-in decides on it).
 */
import type { Ticket, TicketReader, TicketStatus } from './model.js';

const STATUS: readonly TicketStatus[] = ['VALID', 'USED', 'VOID'];
const VALID = 0;
const USED = 1;
const VOID = 2;

/** Strings by index, and the index of each string. */
class Interned {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(values: readonly string[] = []) {
    for (const v of values) this.of(v);
  }

  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.push(value) - 1;
      this.index.set(value, i);
    }
    return i;
  }

  at(i: number): string {
    return this.values[i] as string;
  }
}

/** The book's content as plain arrays (snapshots): columns in row order, ids in the same order. */
export interface TicketColumns {
  readonly ids: readonly string[];
  readonly types: readonly string[];
  /** Gate names: `gate` holds 1 + the index in this table, 0 = no gate. */
  readonly gates: readonly string[];
  readonly currencies: readonly string[];
  readonly reservationIds: readonly string[];
  readonly status: Uint8Array;
  readonly type: Uint16Array;
  readonly priceMinor: Float64Array;
  /** NaN = not checked in. */
  readonly checkedInAt: Float64Array;
  readonly gate: Uint16Array;
  readonly reservation: Uint32Array;
  readonly currency: Uint8Array;
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}

export class TicketBook implements TicketReader {
  private readonly rows = new Map<string, number>();
  private types = new Interned();
  private gates = new Interned();
  private currencies = new Interned();
  private reservationIds: string[] = [];
  private status: Uint8Array = new Uint8Array(64);
  private type: Uint16Array = new Uint16Array(64);
  private priceMinor: Float64Array = new Float64Array(64);
  private checkedInAt: Float64Array = new Float64Array(64);
  private gate: Uint16Array = new Uint16Array(64);
  private reservation: Uint32Array = new Uint32Array(64);
  private currency: Uint8Array = new Uint8Array(64);

  get size(): number {
    return this.rows.size;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  get(id: string): Ticket | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    const at = this.checkedInAt[row] as number;
    const gate = this.gate[row] as number;
    return {
      id,
      ticketTypeId: this.types.at(this.type[row] as number),
      reservationId: this.reservationIds[this.reservation[row] as number] as string,
      priceMinor: this.priceMinor[row] as number,
      status: STATUS[this.status[row] as number] as TicketStatus,
      checkedInAt: Number.isNaN(at) ? null : at,
      gate: gate === 0 ? null : this.gates.at(gate - 1),
    };
  }

  /** The currency of the ticket's reservation. */
  currencyOf(id: string): string | undefined {
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.currencies.at(this.currency[row] as number);
  }

  /** Issue the tickets of one reservation (VALID, not checked in). */
  issue(reservationId: string, currency: string, tickets: readonly { readonly id: string; readonly ticketTypeId: string; readonly priceMinor: number }[]): void {
    if (tickets.length === 0) return;
    const reservation = this.reservationIds.push(reservationId) - 1;
    const cur = this.currencies.of(currency);
    if (cur > 0xff) throw new Error('too many currencies in one event');
    for (const t of tickets) {
      let row = this.rows.get(t.id);
      if (row === undefined) {
        row = this.rows.size;
        this.ensure(row + 1);
        this.rows.set(t.id, row);
      }
      const type = this.types.of(t.ticketTypeId);
      if (type > 0xffff) throw new Error('too many ticket types in one event');
      this.status[row] = VALID;
      this.type[row] = type;
      this.priceMinor[row] = t.priceMinor;
      this.checkedInAt[row] = NaN;
      this.gate[row] = 0;
      this.reservation[row] = reservation;
      this.currency[row] = cur;
    }
  }

  /** Mark a ticket USED as of `at` at `gate` (the caller decided it may be). */
  checkIn(id: string, at: number, gate: string): void {
    const row = this.rows.get(id);
    if (row === undefined) return;
    const g = this.gates.of(gate) + 1;
    if (g > 0xffff) throw new Error('too many gates in one event');
    this.status[row] = USED;
    this.checkedInAt[row] = at;
    this.gate[row] = g;
  }

  void(id: string): void {
    const row = this.rows.get(id);
    if (row !== undefined) this.status[row] = VOID;
  }

  voidAll(): void {
    this.status.fill(VOID, 0, this.rows.size);
  }

  /** Ticket ids in issue order. */
  ids(): IterableIterator<string> {
    return this.rows.keys();
  }

  voidedIds(): string[] {
    const ids: string[] = [];
    for (const [id, row] of this.rows) if (this.status[row] === VOID) ids.push(id);
    return ids;
  }

  /** A copy of the content (snapshots): the columns trimmed to the rows in use. */
  columns(): TicketColumns {
    const n = this.rows.size;
    return {
      ids: [...this.rows.keys()],
      types: [...this.types.values],
      gates: [...this.gates.values],
      currencies: [...this.currencies.values],
      reservationIds: [...this.reservationIds],
      status: this.status.slice(0, n),
      type: this.type.slice(0, n),
      priceMinor: this.priceMinor.slice(0, n),
      checkedInAt: this.checkedInAt.slice(0, n),
      gate: this.gate.slice(0, n),
      reservation: this.reservation.slice(0, n),
      currency: this.currency.slice(0, n),
    };
  }

  static fromColumns(c: TicketColumns): TicketBook {
    const book = new TicketBook();
    const n = c.ids.length;
    for (const column of [c.status, c.type, c.priceMinor, c.checkedInAt, c.gate, c.reservation, c.currency]) {
      if (column.length !== n) throw new Error(`ticket columns of unequal length (${column.length} ≠ ${n})`);
    }
    book.types = new Interned(c.types);
    book.gates = new Interned(c.gates);
    book.currencies = new Interned(c.currencies);
    book.reservationIds = [...c.reservationIds];
    book.status = c.status;
    book.type = c.type;
    book.priceMinor = c.priceMinor;
    book.checkedInAt = c.checkedInAt;
    book.gate = c.gate;
    book.reservation = c.reservation;
    book.currency = c.currency;
    c.ids.forEach((id, row) => book.rows.set(id, row));
    return book;
  }

  /** The tickets as plain objects by id, in issue order (diagnostics, tests). */
  toJSON(): Record<string, Ticket> {
    const all: Record<string, Ticket> = {};
    for (const id of this.rows.keys()) all[id] = this.get(id) as Ticket;
    return all;
  }

  clone(): TicketBook {
    return TicketBook.fromColumns(this.columns());
  }

  private ensure(rows: number): void {
    if (rows <= this.status.length) return;
    const capacity = Math.max(rows, this.status.length * 2);
    this.status = grown(this.status, capacity);
    this.type = grown(this.type, capacity);
    this.priceMinor = grown(this.priceMinor, capacity);
    this.checkedInAt = grown(this.checkedInAt, capacity);
    this.gate = grown(this.gate, capacity);
    this.reservation = grown(this.reservation, capacity);
    this.currency = grown(this.currency, capacity);
  }
}
