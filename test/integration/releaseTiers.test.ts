/**
 * Release tiers against real Postgres and Redis: the next tier opens in the same actor turn
 * its predecessor sells out, under concurrent reservers, never overselling, and the cached
 * pricing disclosure shows it open.
 */
import { createEvent, createTicketType } from '../helpers/fixtures.js';
import { hold, inv, pricingClock, withPricedPod } from '../helpers/dynamicPricing.js';

const test = withPricedPod(pricingClock());

test.serial('a release tier opens in the same turn its predecessor sells out, under 64 concurrent reservers, oversold never', async (t) => {
  const { svc } = t.context;
  const event = await createEvent(svc);
  const early = await createTicketType(svc, event.id, { name: 'Early bird', quantity: 10, price: { currency: 'USD', amount_minor: 3000 } });
  const regular = await createTicketType(svc, event.id, {
    name: 'Regular', quantity: 10, price: { currency: 'USD', amount_minor: 5000 }, opens_after_sold_out: early.id,
  });
  t.is(regular.opens_after_sold_out, early.id);
  await svc.service.inventory.flushProjections();
  const first = (await svc.api('GET', `/events/${event.id}/tickets`, { token: null })).body.ticket_types;
  t.is(first.find((x: any) => x.ticket_type_id === regular.id).status, 'not_yet_on_sale');
  // The disclosure is cached now (in-process and Redis); the tier opening must drop it.
  const cachedBefore = (await svc.api('GET', `/events/${event.id}/pricing`, { token: null })).body.ticket_types;
  t.like(cachedBefore.find((x: any) => x.ticket_type_id === regular.id), { tier_open: false });

  const outcomes = await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (const type of [early, regular]) {
        try {
          const r = await hold(svc, event.id, type.id, 1);
          return r.reservation.items[0]?.ticketTypeId;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'NOT_ON_SALE' && code !== 'SOLD_OUT') throw err;
        }
      }
      return 'none';
    }),
  );
  t.is(outcomes.filter((x) => x === early.id).length, 10);
  t.is(outcomes.filter((x) => x === regular.id).length, 10);
  const { levels } = await inv(svc).levels(event.id);
  for (const l of levels) t.true(l.sold + l.held <= l.capacity);

  const { rows } = await svc.db.query<{ seq: string; kind: string; payload: any }>(
    `SELECT seq, kind, payload FROM inventory_journal WHERE event_id = $1 AND kind IN ('HoldPlaced', 'TierOpened') ORDER BY seq`,
    [event.id],
  );
  const opened = rows.findIndex((r) => r.kind === 'TierOpened');
  t.true(opened > 0);
  const typeOf = (r: (typeof rows)[number]) => r.payload.reservation?.items[0]?.ticketTypeId;
  t.true(rows.slice(0, opened).every((r) => typeOf(r) === early.id), 'nothing of the next tier before it opened');
  t.true(rows.slice(opened + 1).every((r) => typeOf(r) === regular.id), 'nothing of the passed tier after');
  t.is(Number(rows[opened]!.seq), Number(rows[opened - 1]!.seq) + 1, 'opened right after the hold that sold the predecessor out');

  await svc.service.inventory.flushProjections();
  const disclosure = (await svc.api('GET', `/events/${event.id}/pricing`, { token: null })).body.ticket_types;
  t.like(disclosure.find((x: any) => x.ticket_type_id === regular.id), { opens_after_sold_out: early.id, tier_open: true });
});
