/**
 * The pod set shards are assigned over: the registry's live pods, except right after Redis
 * was unreachable or came back empty, when pods of the last view before count as live for
 * one grace period or until they reappear.
 */
import test from 'ava';
import type { PodInfo } from '../../src/shards/podRegistry.js';
import { PodView } from '../../src/shards/podView.js';

const pod = (name: string, draining = false): PodInfo => ({ name, address: `${name}:1`, heartbeatAt: 0, draining });
const names = (pods: readonly PodInfo[]) => pods.map((p) => p.name);

function clocked(graceMs: number) {
  const clock = { now: 0 };
  return { clock, view: new PodView(graceMs, () => clock.now) };
}

test('outside an outage the view is the registry as read, however it changes', (t) => {
  const { clock, view } = clocked(1000);
  t.deepEqual(names(view.update([pod('b'), pod('a'), pod('c')], false).pods), ['a', 'b', 'c']);
  clock.now = 10;
  const next = view.update([pod('a'), pod('b')], false); // c died (its heartbeat aged out)
  t.deepEqual(names(next.pods), ['a', 'b']);
  t.false(next.graceStarted);
  t.false(view.inGrace());
});

test('the first read after Redis was unreachable keeps the pods it had not yet heard from, for one grace period', (t) => {
  const { clock, view } = clocked(1000);
  view.update([pod('a'), pod('b'), pod('c', true)], false);
  view.markUnreachable();
  clock.now = 5000; // a long outage: the grace counts from the first good read
  const first = view.update([pod('a')], false);
  t.true(first.graceStarted);
  t.deepEqual(names(first.pods), ['a', 'b', 'c']);
  t.true(first.pods.find((p) => p.name === 'c')?.draining, 'a remembered pod keeps its draining mark');
  clock.now = 5999;
  t.deepEqual(names(view.update([pod('a'), pod('b')], false).pods), ['a', 'b', 'c']);
  clock.now = 6000; // c never came back: dropped
  t.deepEqual(names(view.update([pod('a'), pod('b')], false).pods), ['a', 'b']);
  t.false(view.inGrace());
});

test('a heartbeat that finds no entry of its own (Redis restarted between two reads) starts the grace too; it ends once every pod is back', (t) => {
  const { clock, view } = clocked(1000);
  view.update([pod('a'), pod('b')], false);
  clock.now = 100;
  const first = view.update([pod('a')], true);
  t.true(first.graceStarted);
  t.deepEqual(names(first.pods), ['a', 'b']);
  clock.now = 200;
  t.deepEqual(names(view.update([pod('a'), pod('b')], false).pods), ['a', 'b']);
  t.false(view.inGrace(), 'everyone is back: no grace left');
  clock.now = 300; // b stops later: normal aging, no memory
  t.deepEqual(names(view.update([pod('a')], false).pods), ['a']);
});

test('without a view before the outage (a pod starting) there is nothing to remember', (t) => {
  const { view } = clocked(1000);
  view.markUnreachable();
  const first = view.update([pod('a')], true);
  t.false(first.graceStarted);
  t.deepEqual(names(first.pods), ['a']);
});
