/** Stream slots: per client and per pod, released once however often the release is called; the unsent-frame bound. */
import test from 'ava';
import { createStreamSlots, unsentCounter } from '../../src/limits/streams.js';

const refusal = (open: () => unknown) => {
  try {
    open();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'OPENED';
};

test('a client holds at most perClient streams and the pod at most perPod', (t) => {
  const gauge: number[] = [];
  const slots = createStreamSlots({ perClient: 2, perPod: 3, bufferMax: 4 }, { streamsOpen: { set: (v) => gauge.push(v) }, streamsDropped: { inc: () => undefined } });
  const a1 = slots.open('ip:a');
  slots.open('ip:a');
  t.is(refusal(() => slots.open('ip:a')), 'RATE_LIMITED');
  slots.open('ip:b');
  t.is(refusal(() => slots.open('ip:c')), 'RATE_LIMITED', 'the pod is full');
  a1();
  a1(); // a second release changes nothing
  t.is(slots.openCount(), 2);
  t.is(refusal(() => slots.open('ip:c')), 'OPENED');
  t.is(refusal(() => slots.open('ip:d')), 'RATE_LIMITED');
  t.deepEqual(gauge, [1, 2, 3, 2, 3]);
});

test('a consumer is refused more frames once max wait unflushed', (t) => {
  const counter = unsentCounter(2);
  const pending: Array<() => void> = [];
  t.true(counter.write((flushed) => pending.push(flushed)));
  t.true(counter.write((flushed) => pending.push(flushed)));
  t.false(counter.write(() => t.fail('not written')));
  pending.shift()!();
  t.true(counter.write((flushed) => pending.push(flushed)));
  t.is(counter.unsent(), 2);
});
