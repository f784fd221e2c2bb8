/**
 * Who may read an event: active and completed events are public; drafts and cancelled
 * events are read by admins only (anyone else is told NOT_FOUND, as if there were none)
 * and listed or searched by nobody. What belongs to such an event (availability, levels,
 * prices, ticket types) follows it: the hot reads take the status from a cache of their
 * own that sales do not drop (rest/eventDetail.ts `requireReadableEvent`), so the check
 * costs no query.
 */
import { NotFoundError } from '../errors.js';
import type { EventStatus } from './events.js';

const PUBLIC_STATUSES: ReadonlySet<string> = new Set<EventStatus>(['active', 'completed']);

/** Whether anyone may read an event in this status (active, completed). */
export const isPublicStatus = (status: string): boolean => PUBLIC_STATUSES.has(status);

/** NOT_FOUND unless the caller may read an event in this status. */
export function requireReadable(event: { readonly id: string; readonly status: string }, admin: boolean): void {
  if (!admin && !PUBLIC_STATUSES.has(event.status)) throw new NotFoundError('event', event.id);
}

/** SQL condition: the event with id `column` is public (for lists of things that belong to events). */
export const publicEventCondition = (column: string): string =>
  `${column} IN (SELECT id FROM events WHERE status IN ('active', 'completed'))`;
