/** The compact snapshot encoding rebuilds exactly the state it was made from (and reads v1). */
import test from 'ava';
import fc from 'fast-check';
import { decodeSnapshot, encodeSnapshot } from '../../actors/inventory/store.js';
import { fromCompact, parseSnapshotJson, toCompact } from '../../actors/inventory/snapshotCodec.js';
import { run, scenarioArb } from '../helpers/inventorySim.js';

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

test('compact round trip equals the state for random command sequences', (t) => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const state = run(sc).state;
      const back = fromCompact(JSON.parse(JSON.stringify(toCompact(state))));
      t.deepEqual(plain(back), plain(state));
      return true;
    }),
    { numRuns: 200 },
  );
});

test('gzip encode/decode round trip, and version-1 snapshots (the state JSON) still load', async (t) => {
  const state = run(fc.sample(scenarioArb, { numRuns: 1, seed: 7 })[0]!).state;
  t.deepEqual(plain(await decodeSnapshot(await encodeSnapshot(state))), plain(state));
  t.deepEqual(plain(parseSnapshotJson(JSON.stringify(state))), plain(state));
});
