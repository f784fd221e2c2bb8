import { randomUUID } from 'node:crypto';
/** Small builders for catalog objects through the admin REST API. */
import type { TestService } from './service.js';
import type { ReserveCommand } from '../../actors/inventory/model.js';

let counter = 0;

export function eventBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  const start = new Date(Date.now() + (10 + counter) * 86_400_000);
  return {
    title: `Test Event ${counter}`,
    category: 'concerts',
    start_date: start.toISOString(),
    end_date: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
    ...overrides,
  };
}

export async function createVenue(svc: TestService, overrides: Record<string, unknown> = {}): Promise<any> {
  const res = await svc.api('POST', '/venues', {
    body: { name: 'Hall', address: '1 Road', city: 'Berlin', country: 'Germany', ...overrides },
  });
  if (res.status !== 201) throw new Error(`venue create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createEvent(svc: TestService, overrides: Record<string, unknown> = {}): Promise<any> {
  const res = await svc.api('POST', '/events', { body: eventBody(overrides) });
  if (res.status !== 201) throw new Error(`event create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createTicketType(
  svc: TestService,
  eventId: string,
  overrides: Record<string, unknown> = {},
): Promise<any> {
  const res = await svc.api('POST', `/events/${eventId}/tickets`, {
    body: { name: `GA ${++counter}`, price: { currency: 'USD', amount_minor: 4250 }, quantity: 100, ...overrides },
  });
  if (res.status !== 201) throw new Error(`ticket type create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Sell one ticket through the inventory actor: reserve, then confirm. Returns the issued ticket. */
export async function recordSale(svc: TestService, eventId: string, ticketTypeId: string): Promise<any> {
  // As an admin: when another pod owns the event's shard, the call is forwarded with this token and checked there.
  const inventory = svc.service.inventory.service.as({ authorization: `Bearer ${svc.adminToken}` });
  const reservationId = randomUUID();
  await inventory.reserve(eventId, { reservationId, items: [{ ticketTypeId, quantity: 1 }] });
  const confirmed = await inventory.confirm(eventId, reservationId, 'test-payment');
  return confirmed.tickets[0];
}

export const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/** A Reserve of 2 seats with a fresh id, as sent straight to the actor registry (which does not validate). */
export const reserveCommand = (typeId: string, customerId: string | null = null): ReserveCommand => ({
  type: 'Reserve',
  reservationId: randomUUID(),
  items: [{ ticketTypeId: typeId, quantity: 2 }],
  holdSeconds: 0,
  promoCode: null,
  customerId,
});
