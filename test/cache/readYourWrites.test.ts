/**
 * On the pod that owns an event, a write acknowledged by the inventory is in that pod's
 * cached REST reads at once: the projection hands each committed view to the in-process
 * live availability before the write is answered, without waiting for Redis pub/sub.
 */
import { randomUUID } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { startTestService, type TestService } from '../helpers/service.js';

const test = anyTest as TestFn<{ svc: TestService }>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async (t) => {
  t.context.svc = await startTestService();
});
test.after.always(async (t) => {
  await t.context.svc?.close();
});

/** Poll `read` until `done` holds or 3 s pass. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const started = Date.now();
  let value = await read();
  while (!done(value) && Date.now() - started < 3000) {
    await sleep(5);
    value = await read();
  }
  return value;
}

test('each reserve and release on the owning pod shows in its very next cached read', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const type = await createTicketType(svc, event.id, { quantity: 40 });
  const inventory = svc.service.inventory.service;
  const tickets = () => svc.api('GET', `/events/${event.id}/tickets`);
  const detail = () => svc.api('GET', `/events/${event.id}`);
  // Both routes are cached (and so served from the in-process copy) before the writes.
  t.is((await until(tickets, (r) => r.body.ticket_types?.[0]?.available === 40)).body.ticket_types[0].available, 40);
  t.is((await until(detail, (r) => r.body.ticket_types?.[0]?.available === 40)).body.ticket_types[0].available, 40);

  const held: string[] = [];
  for (let i = 1; i <= 12; i++) {
    const reservationId = randomUUID();
    await inventory.reserve(event.id, { reservationId, items: [{ ticketTypeId: type.id, quantity: 2 }] });
    held.push(reservationId);
    const read = i % 2 === 0 ? await tickets() : await detail();
    t.is(read.body.ticket_types[0].available, 40 - 2 * i, `read right after reserve ${i}`);
  }
  for (const [i, reservationId] of held.slice(0, 6).entries()) {
    await inventory.release(event.id, reservationId);
    const read = await tickets();
    t.like(read.body.ticket_types[0], { available: 40 - 24 + 2 * (i + 1), held: 24 - 2 * (i + 1) }, `read right after release ${i + 1}`);
  }
});
