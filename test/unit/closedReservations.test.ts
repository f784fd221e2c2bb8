/**
 * Closed reservation records against a plain model: random additions and prunes agree on
 * every record, on what was dropped and how many (`forgotten`), also across compaction of
 * the columns and a round trip through them. And the request hash bits are exact.
 */
import test from 'ava';
import fc from 'fast-check';
import { ClosedReservations, requestHashBits, requestHashOf, type ClosedRecord } from '../../actors/inventory/closedReservations.js';

type Op = { k: 'add'; id: number; status: 'CONFIRMED' | 'RELEASED' | 'EXPIRED'; after: number; hash: number } | { k: 'prune'; back: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('add' as const), id: fc.nat(3000), status: fc.constantFrom('CONFIRMED' as const, 'RELEASED' as const, 'EXPIRED' as const), after: fc.integer({ min: -50, max: 200 }), hash: fc.integer({ min: 0, max: 2 ** 52 - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('prune' as const), back: fc.integer({ min: 0, max: 2000 }) }) },
);

test('records read back as a plain model has them; prunes drop the oldest run closed before the cutoff', (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 3000 }), (ops) => {
      const set = new ClosedReservations();
      /** Rows in insertion order, as the set keeps them; dropped ones removed. */
      let rows: { id: string; record: ClosedRecord }[] = [];
      let forgotten = 0;
      let clock = 0;
      for (const op of ops) {
        if (op.k === 'add') {
          clock += 1;
          const id = `r-${op.id}`;
          const record: ClosedRecord = { status: op.status, closedAt: clock + op.after, requestHash: op.hash };
          set.add(id, record);
          rows.push({ id, record });
        } else {
          const cutoff = clock - op.back;
          let n = 0;
          while (n < rows.length && (rows[n] as { record: ClosedRecord }).record.closedAt < cutoff) n++;
          t.is(set.prune(cutoff), n);
          rows = rows.slice(n);
          forgotten += n;
        }
      }
      // The latest row of an id is its record.
      const model = new Map<string, ClosedRecord>();
      for (const r of rows) model.set(r.id, r.record);
      t.is(set.forgotten, forgotten);
      for (let n = 0; n <= 3000; n++) {
        const id = `r-${n}`;
        t.deepEqual(set.get(id), model.get(id), id);
        t.is(set.has(id), model.has(id));
      }
      const copy = ClosedReservations.fromColumns(set.columns());
      t.deepEqual(copy.toJSON(), set.toJSON());
      t.is(copy.forgotten, forgotten);
    }),
    { numRuns: 60 },
  );
});

test('request hash bits are the first 52 bits of the sha256, exactly', (t) => {
  const hex = requestHashOf('["fingerprint"]');
  t.is(hex.length, 64);
  const bits = requestHashBits(hex);
  t.true(Number.isSafeInteger(bits));
  t.is(bits.toString(16).padStart(13, '0'), hex.slice(0, 13));
});
