/**
 * The inventory invariant gauge's computation (ticket types whose sold + held exceeds
 * capacity, over the actors a pod holds) on consistent and deliberately inconsistent
 * states, read through a real prom-client registry; the outcome labels of replies; and the
 * `slow operation` warning's threshold and fields.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Level } from '../../actors/inventory/model.js';
import { createInventoryMetrics, oversoldTicketTypes, outcomeOf } from '../../src/observability/inventoryMetrics.js';
import { slowOperationLog } from '../../src/observability/slowOperations.js';
import { parseSamples, sampleSum } from '../helpers/metricsText.js';

const level = (capacity: number, sold: number, held: number): Level => ({ capacity, sold, held, locked: false });

test('oversold ticket types: none in consistent states, each inconsistent ticket type counted once', (t) => {
  const full = { a: level(10, 6, 4), b: level(5, 0, 0) };
  t.is(oversoldTicketTypes([]), 0);
  t.is(oversoldTicketTypes([full, { c: level(0, 0, 0) }]), 0, 'sold + held == capacity is fine');
  t.is(oversoldTicketTypes([full, { c: level(3, 2, 2) }]), 1);
  t.is(oversoldTicketTypes([{ a: level(1, 2, 0), b: level(1, 0, 2) }, { c: level(3, 4, 0) }]), 3);
});

test('the gauge reads the actors’ levels at scrape time', async (t) => {
  const registry = new Registry();
  let levels: Array<Record<string, Level>> = [{ a: level(10, 5, 5) }];
  createInventoryMetrics(registry, { activeActors: () => levels.length, maxMailboxDepth: () => 7, levels: () => levels }, () => undefined);
  let samples = parseSamples(await registry.metrics());
  t.is(sampleSum(samples, 'ticket_inventory_oversold_ticket_types'), 0);
  t.is(sampleSum(samples, 'ticket_actors_active'), 1);
  t.is(sampleSum(samples, 'ticket_actor_mailbox_depth_max'), 7);
  // State made inconsistent: one actor holds a ticket type sold beyond its capacity.
  levels = [{ a: level(10, 5, 5) }, { b: level(2, 2, 1), c: level(4, 1, 0) }];
  samples = parseSamples(await registry.metrics());
  t.is(sampleSum(samples, 'ticket_inventory_oversold_ticket_types'), 1);
  t.is(sampleSum(samples, 'ticket_actors_active'), 2);
});

test('an operation’s outcome is the reply’s result or refusal code', (t) => {
  t.is(outcomeOf({ ok: true, kind: 'done' }), 'ok');
  t.is(outcomeOf({ ok: true, kind: 'checkin', result: 'WRONG_GATE', ticket: null, firstCheckedInAt: null, firstGate: null }), 'WRONG_GATE');
  t.is(outcomeOf({ ok: false, code: 'SOLD_OUT', message: 'sold out' }), 'SOLD_OUT');
});

test('slow operation: a warning above the threshold only, naming the operation and its duration', (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const slow = slowOperationLog(pino({ level: 'info' }, sink), 500);
  slow('rest', 499.9, { route: '/events/:id' });
  slow('rest', 500, { route: '/events/:id' });
  t.is(lines.length, 0, 'at or under the threshold: nothing');
  slow('actor_commit', 512.34, { event_id: 'e1', outcome: 'ok' });
  t.is(lines.length, 1);
  t.like(lines[0], { level: 40, msg: 'slow operation', operation: 'actor_commit', event_id: 'e1', outcome: 'ok', duration_ms: 512.3, threshold_ms: 500 });
});
