/**
 * The decisions about admission, split from decide.ts: a check-in at a gate, an offline
 * scanner's upload, and the facts an offline check-in bundle carries. Pure, like decide:
 * they read the state and the catalog facts and return the events to append and the reply.
 *
 * A scan's answer, checked in this order (online and offline alike):
 *   no such ticket ─▶ INVALID;  VOID ticket or cancelled event ─▶ VOID;
 *   already USED ─▶ ALREADY_USED (online; offline see below);
 *   the ticket type lists gates and this gate is not one of them ─▶ WRONG_GATE (ticket unchanged);
 *   otherwise ─▶ CHECKED_IN (the ticket is USED, with the time and gate of the scan).
 *
 * Offline uploads: the first scan of a ticket by `scannedAt` wins, also over a check-in the
 * service recorded online later than the offline scan (the ticket's check-in moves to the
 * earlier scan, and the reply marks the conflict). A scan that is not the first is a
 * conflict: ALREADY_USED with the winner's time and gate. A scan equal to the ticket's
 * standing check-in (same time and gate) is a replay: CHECKED_IN again, nothing appended,
 * so re-sending an upload changes nothing.
 */
import type {
  CatalogInfo,
  CheckInCommand,
  CheckInResult,
  Decision,
  DecideContext,
  InventoryEvent,
  DecideState,
  OfflineScan,
  OfflineScanResult,
  Ticket,
} from './model.js';

/** Whether a ticket of this type may enter at `gate` (a type without gates admits at any). */
export function gateAllows(catalog: CatalogInfo, ticketTypeId: string, gate: string): boolean {
  const gates = catalog.ticketTypes.find((t) => t.id === ticketTypeId)?.gates ?? [];
  return gates.length === 0 || gates.includes(gate);
}

const checkin = (result: CheckInResult, ticket: Ticket | null, at: number | null = null, gate: string | null = null): Decision['reply'] => ({
  ok: true,
  kind: 'checkin',
  result,
  ticket,
  firstCheckedInAt: at,
  firstGate: gate,
});

export function decideCheckIn(state: DecideState, cmd: CheckInCommand, ctx: DecideContext): Decision {
  const t = state.tickets.get(cmd.ticketId);
  if (!t) return { events: [], reply: checkin('INVALID', null) };
  if (t.status === 'VOID' || state.cancelled) return { events: [], reply: checkin('VOID', t.status === 'VOID' ? t : { ...t, status: 'VOID' }) };
  if (t.status === 'USED') return { events: [], reply: checkin('ALREADY_USED', t, t.checkedInAt, t.gate) };
  if (!gateAllows(ctx.catalog, t.ticketTypeId, cmd.gate)) return { events: [], reply: checkin('WRONG_GATE', t) };
  const used: Ticket = { ...t, status: 'USED', checkedInAt: ctx.now, gate: cmd.gate };
  return {
    events: [{ type: 'TicketCheckedIn', ticketId: t.id, at: ctx.now, gate: cmd.gate }],
    reply: checkin('CHECKED_IN', used, ctx.now, cmd.gate),
  };
}

const scanResult = (result: CheckInResult, conflict = false, checkedInAt: number | null = null, gate: string | null = null): OfflineScanResult => ({
  result,
  conflict,
  checkedInAt,
  gate,
});

/** Apply an offline upload as one command: scans in `scannedAt` order (ties in upload order); results in upload order. */
export function decideSyncCheckins(state: DecideState, scans: readonly OfflineScan[], ctx: DecideContext): Decision {
  const order = scans.map((_, i) => i).sort((a, b) => (scans[a] as OfflineScan).scannedAt - (scans[b] as OfflineScan).scannedAt || a - b);
  const results: OfflineScanResult[] = new Array<OfflineScanResult>(scans.length);
  const events: InventoryEvent[] = [];
  // Each ticket's standing check-in as the upload is applied (starting from the state's).
  const standing = new Map<string, { at: number; gate: string }>();
  for (const i of order) {
    const scan = scans[i] as OfflineScan;
    const t = state.tickets.get(scan.ticketId);
    if (!t) results[i] = scanResult('INVALID');
    else if (t.status === 'VOID' || state.cancelled) results[i] = scanResult('VOID');
    else if (!gateAllows(ctx.catalog, t.ticketTypeId, scan.gate)) results[i] = scanResult('WRONG_GATE');
    else {
      const current = standing.get(t.id) ?? (t.status === 'USED' ? { at: t.checkedInAt ?? 0, gate: t.gate ?? '' } : undefined);
      if (current && current.at === scan.scannedAt && current.gate === scan.gate) {
        results[i] = scanResult('CHECKED_IN', false, current.at, current.gate); // a replay of the standing scan
      } else if (current && current.at <= scan.scannedAt) {
        results[i] = scanResult('ALREADY_USED', true, current.at, current.gate);
      } else {
        events.push({ type: 'OfflineCheckInApplied', ticketId: t.id, at: scan.scannedAt, gate: scan.gate });
        standing.set(t.id, { at: scan.scannedAt, gate: scan.gate });
        results[i] = scanResult('CHECKED_IN', current !== undefined, scan.scannedAt, scan.gate);
      }
    }
  }
  return { events, reply: { ok: true, kind: 'offlineScans', results } };
}

/** What an offline bundle needs from the actor: its journal position, the voided tickets and each type's gates. */
export function checkinFacts(state: DecideState, catalog: CatalogInfo): Decision {
  const voidedTicketIds = state.tickets.voidedIds();
  return {
    events: [],
    reply: {
      ok: true,
      kind: 'checkinFacts',
      facts: {
        seq: state.seq,
        cancelled: state.cancelled !== null,
        voidedTicketIds,
        gates: catalog.ticketTypes.map((t) => ({ ticketTypeId: t.id, gates: t.gates })),
      },
    },
  };
}
