/** Small builders for catalog objects through the admin REST API. */
import type { TestService } from './service.js';

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

/**
 * Record a sale directly in the tables (the inventory actor that sells arrives later):
 * a confirmed reservation and one ticket, with the ticket type's counters moved.
 */
export async function recordSale(svc: TestService, eventId: string, ticketTypeId: string): Promise<void> {
  const { rows } = await svc.db.query<{ id: string }>(
    `INSERT INTO reservations (id, event_id, status, items, currency, total_minor)
     VALUES (gen_random_uuid(), $1, 'CONFIRMED', '[]', 'USD', 4250) RETURNING id`,
    [eventId],
  );
  await svc.db.query(
    `INSERT INTO tickets (id, event_id, ticket_type_id, reservation_id, code, price_minor, currency)
     VALUES (gen_random_uuid(), $1, $2, $3, 'code-' || gen_random_uuid(), 4250, 'USD')`,
    [eventId, ticketTypeId, rows[0]?.id],
  );
  await svc.db.query(
    'UPDATE ticket_types SET sold_quantity = sold_quantity + 1, available_quantity = available_quantity - 1 WHERE id = $1',
    [ticketTypeId],
  );
}

export const MISSING_ID = '00000000-0000-4000-8000-000000000000';
