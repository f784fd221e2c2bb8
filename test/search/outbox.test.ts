/**
 * The search outbox is written by the catalog write itself, in its transaction: every kind
 * of change a search document holds (event, status, venue, ticket type) bumps the event's
 * version with the writing transaction's id, a rolled-back write leaves it as it was, and
 * changes a document does not hold (a venue's capacity, the inventory projection's counters
 * after sales) leave it alone.
 */
import anyTest, { type TestFn } from 'ava';
import { createEvent, createTicketType, createVenue, recordSale } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/clusterProcess.js';
import { startTestService, type TestService } from '../helpers/service.js';

const test = anyTest as TestFn<{ svc: TestService }>;

test.before(async (t) => {
  t.context.svc = await startTestService();
});

test.after.always(async (t) => {
  await t.context.svc?.close();
});

async function version(svc: TestService, eventId: string): Promise<number> {
  const { rows } = await svc.db.query<{ version: string }>('SELECT version FROM search_outbox WHERE event_id = $1', [eventId]);
  return Number(rows[0]?.version ?? -1);
}

test('each kind of catalog write bumps the version in its own transaction; a rollback leaves it', async (t) => {
  const { svc } = t.context;
  const venue = await createVenue(svc, { city: 'Braga', latitude: 41.55, longitude: -8.42 });
  const event = await createEvent(svc, { title: 'Outbox Opera', venue_id: venue.id });
  const other = await createEvent(svc, { title: 'Outbox Ballet', venue_id: venue.id });
  let last = await version(svc, event.id);
  t.true(last > 0, 'created: a row at once');

  const client = await svc.db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`UPDATE events SET title = 'Outbox Operetta' WHERE id = $1`, [event.id]);
    const { rows } = await client.query<{ version: string; same: boolean }>(
      'SELECT version, writer_xid = pg_current_xact_id() AS same FROM search_outbox WHERE event_id = $1',
      [event.id],
    );
    t.true(Number(rows[0]?.version) > last, 'bumped inside the writing transaction');
    t.true(rows[0]?.same, 'by that transaction');
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  t.is(await version(svc, event.id), last, 'rolled back with it');

  const bumps: [string, () => Promise<unknown>, string[]][] = [
    ['event update', () => svc.api('PUT', `/events/${event.id}`, { body: { description: 'Three acts' } }), [event.id]],
    ['status change', () => svc.api('PUT', `/events/${event.id}`, { body: { status: 'draft' } }), [event.id]],
    ['venue rename', () => svc.api('PUT', `/venues/${venue.id}`, { body: { name: 'Theatre Circo' } }), [event.id, other.id]],
    ['venue move', () => svc.api('PUT', `/venues/${venue.id}`, { body: { latitude: 41.551, longitude: -8.421 } }), [event.id, other.id]],
    ['ticket type added', () => createTicketType(svc, other.id, { price: { currency: 'EUR', amount_minor: 2500 } }), [other.id]],
  ];
  for (const [what, write, touched] of bumps) {
    const before = new Map(await Promise.all([event.id, other.id].map(async (id) => [id, await version(svc, id)] as const)));
    const res = (await write()) as { status?: unknown };
    if (typeof res.status === 'number') t.is(res.status, 200, what);
    for (const id of [event.id, other.id]) {
      const now = await version(svc, id);
      if (touched.includes(id)) t.true(now > (before.get(id) ?? 0), `${what} bumps ${id === event.id ? 'the event' : 'the other event'}`);
      else t.is(now, before.get(id) ?? -1, `${what} leaves the other event`);
    }
  }

  last = await version(svc, event.id);
  t.is((await svc.api('PUT', `/venues/${venue.id}`, { body: { capacity: 800 } })).status, 200);
  t.is(await version(svc, event.id), last, 'a venue change no document holds');
  t.is((await svc.api('DELETE', `/events/${event.id}`)).status, 204);
  t.true((await version(svc, event.id)) > last, 'a delete is a change too (the document goes)');
});

test('sales change no search document: the projection of counters and sold tickets leaves the outbox alone', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc, { title: 'Outbox Flash Sale' });
  const type = await createTicketType(svc, event.id, { quantity: 20 });
  const before = await version(svc, event.id);
  for (let i = 0; i < 3; i++) await recordSale(svc, event.id, type.id);
  const projected = async () => {
    await svc.service.inventory.flushProjections();
    const { rows } = await svc.db.query<{ sold: number; capacity: number }>(
      'SELECT t.sold_quantity AS sold, e.current_capacity AS capacity FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE t.id = $1',
      [type.id],
    );
    return rows[0]?.sold === 3 && rows[0]?.capacity === 3;
  };
  await waitFor('the sales to be projected', projected);
  t.is(await version(svc, event.id), before);
});
