/**
 * Snapshot encoding. Recovery time is dominated by decoding the snapshot, so the state is
 * stored as it is held: the ticket book and the closed reservations as columns (each
 * typed column one base64 string, decoded with one copy; ids as JSON string arrays), open
 * holds as tuples with ticket type ids as indexes into a dictionary. Version 3; gzip
 * around it. Versions 1 (the state's own JSON) and 2 (reservations and tickets as tuples)
 * are still read (snapshotLegacy.ts), so older snapshots recover.
 *
 * Typed columns are written in the platform's byte order (little-endian on every platform
 * the service runs on).
 */
import { ClosedReservations } from './closedReservations.js';
import { emptyPricing, type InventoryState } from './model.js';
import { fromV2, fromV1, holdTuple, holdOf, typeDictionary, type HoldTuple, type V1State, type V2State } from './snapshotLegacy.js';
import { TicketBook } from './ticketBook.js';

type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

interface CompactState {
  readonly v: 3;
  readonly eventId: string;
  readonly seq: number;
  readonly eventLocked: boolean;
  readonly levels: InventoryState['levels'];
  readonly promoUses: InventoryState['promoUses'];
  readonly cancelled: InventoryState['cancelled'];
  readonly pricing: InventoryState['pricing'];
  /** Ticket type ids of the holds' items. */
  readonly types: string[];
  readonly holds: HoldTuple[];
  readonly tickets: {
    readonly ids: readonly string[];
    readonly types: readonly string[];
    readonly gates: readonly string[];
    readonly currencies: readonly string[];
    readonly reservationIds: readonly string[];
    readonly status: string;
    readonly type: string;
    readonly priceMinor: string;
    readonly checkedInAt: string;
    readonly gate: string;
    readonly reservation: string;
    readonly currency: string;
  };
  /** `ids`: a reservation id, or the index of the same id in `tickets.reservationIds` (a confirmed one: stored once). */
  readonly closed: { readonly ids: readonly (string | number)[]; readonly status: string; readonly closedAt: string; readonly requestHash: string; readonly forgotten: number };
}

const b64 = (a: Column): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** A column from base64, copied into its own (aligned) buffer. */
function column<T extends Column>(s: string, make: (buffer: ArrayBuffer) => T): T {
  const bytes = Buffer.from(s, 'base64');
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return make(buffer);
}

/** Each id of `ids` that `table` holds as its index there (the table's last occurrence), else the id. */
function sharedIds(ids: readonly string[], table: readonly string[]): (string | number)[] {
  const index = new Map<string, number>();
  table.forEach((id, i) => index.set(id, i));
  return ids.map((id) => index.get(id) ?? id);
}

/** Everything but the holds and the ids (captured at the call: the columns are copies). */
function capture(state: InventoryState) {
  const t = state.tickets.columns();
  const c = state.closed.columns();
  const { types, type } = typeDictionary();
  const holds = Object.values(state.reservations);
  return {
    head: {
      v: 3 as const,
      eventId: state.eventId,
      seq: state.seq,
      eventLocked: state.eventLocked,
      levels: state.levels,
      promoUses: state.promoUses,
      cancelled: state.cancelled,
      pricing: state.pricing,
    },
    types,
    type,
    holds,
    ticketIds: t.ids,
    tickets: {
      types: t.types,
      gates: t.gates,
      currencies: t.currencies,
      reservationIds: t.reservationIds,
      status: b64(t.status),
      type: b64(t.type),
      priceMinor: b64(t.priceMinor),
      checkedInAt: b64(t.checkedInAt),
      gate: b64(t.gate),
      reservation: b64(t.reservation),
      currency: b64(t.currency),
    },
    closedIds: sharedIds(c.ids, t.reservationIds),
    closed: { status: b64(c.status), closedAt: b64(c.closedAt), requestHash: b64(c.requestHash), forgotten: c.forgotten },
  };
}

export function toCompact(state: InventoryState): CompactState {
  const c = capture(state);
  return {
    ...c.head,
    holds: c.holds.map((r) => holdTuple(r, c.type)),
    types: c.types,
    tickets: { ids: c.ticketIds, ...c.tickets },
    closed: { ids: c.closedIds, ...c.closed },
  };
}

/** Rows encoded between two yields of {@link snapshotJsonInSlices}. */
export const SNAPSHOT_SLICE_ROWS = 2_000;

/**
 * The compact snapshot JSON of `state` as it is NOW, built in slices with `pause()` awaited
 * between them, so that a large event (tens of thousands of tickets) does not stall the
 * event loop that runs every actor for tens of milliseconds.
 *
 * Consistent although the actor keeps evolving `state` meanwhile: everything is captured
 * synchronously before the first pause (the columns and id lists are copies; hold objects
 * are never mutated, evolve replaces them; levels, promo uses and pricing are stringified
 * at once).
 */
export async function snapshotJsonInSlices(state: InventoryState, pause: () => Promise<void>, sliceRows = SNAPSHOT_SLICE_ROWS): Promise<string> {
  const c = capture(state);
  const head = JSON.stringify(c.head);
  let first = true;
  async function list<T>(rows: readonly T[], tuple: (row: T) => unknown): Promise<string> {
    const parts: string[] = [];
    for (let from = 0; from < rows.length; from += sliceRows) {
      if (!first) await pause();
      first = false;
      parts.push(JSON.stringify(rows.slice(from, from + sliceRows).map(tuple)).slice(1, -1));
    }
    return `[${parts.join(',')}]`;
  }
  const holds = await list(c.holds, (r) => holdTuple(r, c.type));
  const ticketIds = await list(c.ticketIds, (id) => id);
  const closedIds = await list<string | number>(c.closedIds, (id) => id);
  const tickets = `{"ids":${ticketIds},${JSON.stringify(c.tickets).slice(1)}`;
  const closed = `{"ids":${closedIds},${JSON.stringify(c.closed).slice(1)}`;
  return `${head.slice(0, -1)},"types":${JSON.stringify(c.types)},"holds":${holds},"tickets":${tickets},"closed":${closed}}`;
}

export function fromCompact(c: CompactState): InventoryState {
  const t = c.tickets;
  const tickets = TicketBook.fromColumns({
    ids: t.ids,
    types: t.types,
    gates: t.gates,
    currencies: t.currencies,
    reservationIds: t.reservationIds,
    status: column(t.status, (b) => new Uint8Array(b)),
    type: column(t.type, (b) => new Uint16Array(b)),
    priceMinor: column(t.priceMinor, (b) => new Float64Array(b)),
    checkedInAt: column(t.checkedInAt, (b) => new Float64Array(b)),
    gate: column(t.gate, (b) => new Uint16Array(b)),
    reservation: column(t.reservation, (b) => new Uint32Array(b)),
    currency: column(t.currency, (b) => new Uint8Array(b)),
  });
  const closed = ClosedReservations.fromColumns({
    ids: c.closed.ids.map((id) => (typeof id === 'number' ? (t.reservationIds[id] as string) : id)),
    status: column(c.closed.status, (b) => new Uint8Array(b)),
    closedAt: column(c.closed.closedAt, (b) => new Float64Array(b)),
    requestHash: column(c.closed.requestHash, (b) => new Float64Array(b)),
    forgotten: c.closed.forgotten,
  });
  const reservations: InventoryState['reservations'] = {};
  for (const h of c.holds) {
    const r = holdOf(h, c.types);
    reservations[r.id] = r;
  }
  return {
    eventId: c.eventId,
    seq: c.seq,
    eventLocked: c.eventLocked,
    levels: c.levels,
    promoUses: c.promoUses,
    reservations,
    closed,
    tickets,
    cancelled: c.cancelled ?? null,
    pricing: c.pricing ?? emptyPricing(),
  };
}

/** Parse a snapshot's JSON: version 3, or an older one (snapshotLegacy.ts). */
export function parseSnapshotJson(json: string): InventoryState {
  const value = JSON.parse(json) as CompactState | V2State | V1State;
  if ('v' in value && value.v === 3) return fromCompact(value);
  if ('v' in value && value.v === 2) return fromV2(value);
  return fromV1(value as V1State);
}
