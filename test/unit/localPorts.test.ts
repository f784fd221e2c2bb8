/** Ports for the local Postgres and Redis: outside the ephemeral range, another one when taken. */
import test from 'ava';
import fc from 'fast-check';
import {
  DEFAULT_EPHEMERAL_RANGE,
  ephemeralRange,
  inEphemeralRange,
  parsePortRange,
  pickPort,
  PortInUseError,
  startOnPort,
} from '../../src/dev/localPorts.js';

test('the ephemeral range is read as the kernel writes it, with the Linux default otherwise', (t) => {
  t.deepEqual(parsePortRange('32768\t60999\n'), { low: 32768, high: 60999 });
  t.deepEqual(parsePortRange('1024 4999'), { low: 1024, high: 4999 });
  for (const bad of [undefined, '', 'x y', '5000', '60999 32768', '0 70000']) t.deepEqual(parsePortRange(bad), DEFAULT_EPHEMERAL_RANGE, String(bad));
  const range = ephemeralRange();
  t.true(range.low >= 1 && range.low <= range.high && range.high <= 65535);
});

test('a picked port is never inside the ephemeral range and never below 10000', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 65534 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (a, span, r) => {
      const range = { low: a, high: Math.min(65535, a + span) };
      const covered = range.low <= 10_000 && range.high >= 65535;
      const port = pickPort(range, () => r);
      return Number.isInteger(port) && port >= 10_000 && port <= 65535 && (covered || !inEphemeralRange(port, range));
    }),
  );
  // This machine's range, with the real random source.
  for (let i = 0; i < 1000; i++) t.false(inEphemeralRange(pickPort()));
});

test('picked ports spread over both sides of the ephemeral range', (t) => {
  const range = { low: 32768, high: 60999 };
  t.is(pickPort(range, () => 0), 10_000);
  t.is(pickPort(range, () => 0.999999999), 65535);
  const sides = new Set(Array.from({ length: 500 }, () => (pickPort(range) < range.low ? 'below' : 'above')));
  t.deepEqual([...sides].sort(), ['above', 'below']);
});

test('a start that finds its port in use is retried on another port; other errors are not', async (t) => {
  const picks = [20001, 20001, 20002, 20003];
  const tried: number[] = [];
  const port = await startOnPort(
    async (p) => {
      tried.push(p);
      if (p !== 20003) throw new PortInUseError(p, 'taken');
      return p;
    },
    { pick: () => picks.shift() ?? 0 },
  );
  t.is(port, 20003);
  t.deepEqual(tried, [20001, 20002, 20003], 'a port already tried is not tried again');

  let calls = 0;
  await t.throwsAsync(
    startOnPort(async () => {
      calls++;
      throw new Error('initdb failed');
    }),
    { message: 'initdb failed' },
  );
  t.is(calls, 1);

  let attempts = 0;
  let next = 30000;
  await t.throwsAsync(
    startOnPort(
      async (p) => {
        attempts++;
        throw new PortInUseError(p, 'taken');
      },
      { attempts: 3, pick: () => next++ },
    ),
    { instanceOf: PortInUseError },
  );
  t.is(attempts, 3);
});

test('a given port is tried exactly once', async (t) => {
  const tried: number[] = [];
  await t.throwsAsync(
    startOnPort(
      async (p) => {
        tried.push(p);
        throw new PortInUseError(p, 'taken');
      },
      { port: 23456 },
    ),
    { instanceOf: PortInUseError },
  );
  t.deepEqual(tried, [23456]);
});
