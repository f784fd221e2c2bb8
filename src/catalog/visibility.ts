/**
 * Who may read an event: active and completed events are public; drafts and cancelled
 * events are read by admins only (anyone else is told NOT_FOUND, as if there were none)
 * and listed or searched by nobody.
 */
import { NotFoundError } from '../errors.js';
import type { EventStatus } from './events.js';

const PUBLIC_STATUSES: ReadonlySet<string> = new Set<EventStatus>(['active', 'completed']);

/** NOT_FOUND unless the caller may read an event in this status. */
export function requireReadable(event: { readonly id: string; readonly status: string }, admin: boolean): void {
  if (!admin && !PUBLIC_STATUSES.has(event.status)) throw new NotFoundError('event', event.id);
}
