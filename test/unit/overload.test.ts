/**
 * The load-shedding detector driven by an injected lag source: no timers, no sleeps.
 * Shedding starts only when the delay stays over the threshold, public reads go first and
 * writes last, and every change of level is logged and set on the gauge.
 */
import test from 'ava';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { createOverloadDetector, SUSTAIN_SAMPLES, WRITE_SHED_FACTOR, type RequestKind } from '../../src/limits/overload.js';

function world(thresholdMs = 200) {
  let lag = 0;
  const lines: Array<{ msg: string; to?: string; level: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  const gauge: number[] = [];
  const shed: Array<{ door: string; kind: RequestKind }> = [];
  const detector = createOverloadDetector({
    lagThresholdMs: thresholdMs,
    log: pino({ level: 'info' }, sink),
    metrics: { level: { set: (v) => gauge.push(v) }, shed: { inc: (labels) => shed.push(labels) } },
    sampler: () => lag,
    autoStart: false,
  });
  const admits = (kind: RequestKind) => {
    try {
      detector.admit('rest', kind);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'BUSY') throw err;
      return false;
    }
  };
  return {
    detector,
    lines,
    gauge,
    shed,
    admits,
    samples(ms: number, n: number) {
      lag = ms;
      for (let i = 0; i < n; i++) detector.check();
    },
  };
}

test('a delay that stays over the threshold sheds public reads; writes go on', (t) => {
  const w = world(200);
  w.samples(250, SUSTAIN_SAMPLES - 1);
  t.is(w.detector.level(), 'NORMAL', 'one sample is not "stays over"');
  t.true(w.admits('read'));
  w.samples(250, 1);
  t.is(w.detector.level(), 'SHEDDING_READS');
  t.false(w.admits('read'));
  t.true(w.admits('write'));
  t.deepEqual(w.shed, [{ door: 'rest', kind: 'read' }]);
  t.is(w.gauge.at(-1), 1);
  const started = w.lines.find((l) => l.msg === 'load shedding started');
  t.truthy(started);
  t.is(started?.to, 'SHEDDING_READS');
});

test('a single spike neither starts nor stops shedding', (t) => {
  const w = world(200);
  for (let i = 0; i < 5; i++) {
    w.samples(900, 1);
    w.samples(10, 1);
  }
  t.is(w.detector.level(), 'NORMAL');
  w.samples(300, SUSTAIN_SAMPLES);
  t.is(w.detector.level(), 'SHEDDING_READS');
  w.samples(10, 1);
  w.samples(300, 1);
  t.is(w.detector.level(), 'SHEDDING_READS');
});

test('writes are shed last, only far over the threshold, and shedding stops when the delay falls', (t) => {
  const w = world(100);
  w.samples(100 * WRITE_SHED_FACTOR + 1, SUSTAIN_SAMPLES);
  t.is(w.detector.level(), 'SHEDDING_WRITES');
  t.false(w.admits('read'));
  t.false(w.admits('write'));
  t.is(w.gauge.at(-1), 2);
  w.samples(150, SUSTAIN_SAMPLES);
  t.is(w.detector.level(), 'SHEDDING_READS');
  t.true(w.admits('write'));
  w.samples(20, SUSTAIN_SAMPLES);
  t.is(w.detector.level(), 'NORMAL');
  t.true(w.admits('read'));
  t.is(w.gauge.at(-1), 0);
  t.deepEqual(
    w.lines.filter((l) => l.msg.startsWith('load shedding')).map((l) => [l.msg, l.to]),
    [
      ['load shedding started', 'SHEDDING_WRITES'],
      ['load shedding level changed', 'SHEDDING_READS'],
      ['load shedding stopped', 'NORMAL'],
    ],
  );
});

test('the built-in sampler reads the event loop delay', async (t) => {
  const { eventLoopLagSampler } = await import('../../src/limits/overload.js');
  const sampler = eventLoopLagSampler();
  t.teardown(() => sampler.stop());
  sampler.sample();
  // Hold the loop for a while: the next sample sees a delay.
  await new Promise((r) => setTimeout(r, 50));
  const until = performance.now() + 150;
  while (performance.now() < until);
  await new Promise((r) => setTimeout(r, 50));
  t.true(sampler.sample() > 0);
});
