/**
 * The seed run's pricing rules act visibly on a pod whose inventory clock the test drives:
 * far-off events show an early-bird price, and a burst of sales adds the velocity rule's
 * 15 % from the next boundary.
 */
import test from 'ava';
import { startTestService } from '../helpers/service.js';
import { ticketctl } from '../helpers/ticketctl.js';
import { applyBps } from '../../src/pricing/engine.js';
import { boundary, pricingClock, sell } from '../helpers/dynamicPricing.js';

test('ticketctl seed writes rules that visibly act: far-off events show an early-bird price, 20 sales within 10 minutes add 15%', async (t) => {
  const seedClock = pricingClock();
  const seeded = await startTestService({ PRICE_UPDATE_INTERVAL: '60' }, undefined, { clock: seedClock });
  t.teardown(() => seeded.close());
  const run = await ticketctl(['seed', '--events', '12', '--json'], { DATABASE_URL: seeded.database.url, DATABASE_SSL: 'false' });
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { seeded: true, events: 12 });
  const { rows } = await seeded.db.query<{ id: string }>(
    `SELECT id FROM events WHERE created_by = 'ticketctl-seed' AND start_date > now() + interval '61 days' ORDER BY start_date LIMIT 1`,
  );
  t.truthy(rows[0], 'the seed spreads events over six months');
  const eventId = rows[0]!.id;
  const disclosure = (await seeded.api('GET', `/events/${eventId}/pricing`, { token: null })).body;
  t.true(disclosure.ticket_types.length > 0);
  for (const type of disclosure.ticket_types) {
    t.true(type.factors.some((f: any) => f.kind === 'time' && f.name === 'Early bird' && f.adjustment_bps === -1500), JSON.stringify(type.factors));
    t.true(type.current_price.amount_minor < type.base_price.amount_minor);
  }

  // A burst of 20 sales on the largest ticket type on sale: from the next boundary "Selling fast" adds 15%.
  const detail = (await seeded.api('GET', `/events/${eventId}`, { token: null })).body;
  const type = detail.ticket_types
    .filter((x: any) => x.sale_status === 'on_sale' && x.quantity >= 20)
    .sort((a: any, b: any) => b.quantity - a.quantity)[0];
  t.truthy(type, 'a seeded ticket type on sale with 20 seats or more');
  for (let sold = 0; sold < 20; ) {
    const quantity = Math.min(type.max_per_purchase, 20 - sold);
    await sell(seeded, eventId, type.id, quantity);
    sold += quantity;
  }
  await boundary(seeded, eventId, seedClock);
  const priced = (await seeded.api('GET', `/events/${eventId}/pricing`, { token: null })).body.ticket_types.find((x: any) => x.ticket_type_id === type.id);
  t.true(priced.factors.some((f: any) => f.kind === 'velocity' && f.name === 'Selling fast' && f.adjustment_bps === 1500), JSON.stringify(priced.factors));
  const adjustment = priced.factors.reduce((sum: number, f: any) => sum + f.adjustment_bps, 0);
  t.is(priced.current_price.amount_minor, applyBps(priced.base_price.amount_minor, adjustment));
});
