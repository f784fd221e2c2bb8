/**
 * Offline check-in on the service side: the signed bundle a scanner takes offline, and the
 * upload of the scans it made meanwhile. Both are answered by the event's actor (one query,
 * one journaled command), reached through `ask` (the InventoryService's).
 */
import type { CheckInResult, CommandOf, InventoryCommand, ReplyOf } from '../../actors/inventory/model.js';
import { checkinBundlePayload, signCheckinBundle, type SignedCheckinBundle } from '../tickets/checkinBundle.js';
import type { KeyRing } from '../tickets/keyRing.js';

/** The facade's typed ask: the reply is the command's own success kind (checked there, once). */
type Ask = <K extends InventoryCommand['type']>(eventId: string, cmd: CommandOf<K>) => Promise<ReplyOf<K>>;

/** One scan of an offline upload, its code not yet verified. */
export interface OfflineScanInput {
  readonly code: string;
  readonly gate: string;
  readonly scannedAt: Date;
}

export interface OfflineScanOutcome {
  readonly result: CheckInResult;
  /** null for a code that is not a genuine ticket of the event. */
  readonly ticketId: string | null;
  readonly conflict: boolean;
  /** The ticket's standing check-in after the upload (the winner's, for a conflict). */
  readonly checkedInAt: Date | null;
  readonly gate: string | null;
}

/**
 * Codes are verified here (a code that is not genuine, or of another event, is INVALID and
 * never reaches the actor); the rest go to the event's actor as ONE command, journaled, in
 * which the first scan of a ticket by scan time wins. Outcomes come back in upload order.
 */
export async function syncOfflineScans(
  ask: Ask,
  keys: Pick<KeyRing, 'verify'>,
  eventId: string,
  scans: readonly OfflineScanInput[],
): Promise<OfflineScanOutcome[]> {
  const payloads = await Promise.all(scans.map((s) => keys.verify(s.code)));
  const outcomes: OfflineScanOutcome[] = scans.map(() => ({ result: 'INVALID', ticketId: null, conflict: false, checkedInAt: null, gate: null }));
  const sent: { index: number; ticketId: string }[] = [];
  payloads.forEach((p, index) => {
    if (p && p.eventId === eventId) sent.push({ index, ticketId: p.ticketId });
  });
  if (sent.length === 0) return outcomes;
  const reply = await ask(eventId, {
    type: 'SyncCheckins',
    scans: sent.map(({ index, ticketId }) => {
      const scan = scans[index] as OfflineScanInput;
      return { ticketId, gate: scan.gate, scannedAt: scan.scannedAt.getTime() };
    }),
  });
  sent.forEach(({ index, ticketId }, n) => {
    const r = reply.results[n];
    if (!r) return;
    outcomes[index] = {
      result: r.result,
      ticketId: r.result === 'INVALID' ? null : ticketId,
      conflict: r.conflict,
      checkedInAt: r.checkedInAt === null ? null : new Date(r.checkedInAt),
      gate: r.gate,
    };
  });
  return outcomes;
}

/** The event's check-in facts from its actor, with the public keys, signed with the current signing key. */
export async function buildCheckinBundle(
  ask: Ask,
  keys: Pick<KeyRing, 'keys' | 'signingKey'>,
  eventId: string,
  now: Date,
): Promise<SignedCheckinBundle> {
  const reply = await ask(eventId, { type: 'GetCheckinFacts' });
  const payload = checkinBundlePayload(eventId, reply.facts, keys.keys().map((k) => k.jwk), now);
  return signCheckinBundle(payload, keys.signingKey());
}
