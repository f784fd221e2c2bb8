/** The compact snapshot encoding rebuilds exactly the state it was made from (and reads versions 1 and 2). */
import test from 'ava';
import fc from 'fast-check';
import { decodeSnapshot, encodeSnapshot, inflateChunkSize, MAX_INFLATE_CHUNK, MIN_INFLATE_CHUNK } from '../../actors/inventory/store.js';
import { fromCompact, parseSnapshotJson, snapshotJsonInSlices, toCompact } from '../../actors/inventory/snapshotCodec.js';
import { legacyStateV1, legacyStateV2, plainState, run, scenarioArb, Sim, toCommand } from '../helpers/inventorySim.js';

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

test('gzip encode/decode round trip, and version-1 and -2 snapshots still load (closed holds as records)', async (t) => {
  const sim = run(fc.sample(scenarioArb, { numRuns: 1, seed: 68 })[0]!);
  const state = sim.state;
  t.true(state.closed.size > 0 && state.tickets.size > 0, 'the sample closes holds and issues tickets');
  t.deepEqual(plain(await decodeSnapshot(await encodeSnapshot(state))), plain(state));
  for (const legacy of [legacyStateV1(sim), legacyStateV2(sim)]) {
    t.deepEqual(plainState(parseSnapshotJson(JSON.stringify(legacy)), { closedAt: false }), plainState(state, { closedAt: false }));
  }
});

test('a snapshot is inflated into one buffer of the size its gzip trailer gives, bounded; a trailer that lies is refused', async (t) => {
  const state = run(fc.sample(scenarioArb, { numRuns: 1, seed: 68 })[0]!).state;
  const bytes = await encodeSnapshot(state);
  const inflated = Buffer.byteLength(JSON.stringify(toCompact(state)));
  t.is(bytes.readUInt32LE(bytes.length - 4), inflated, 'the trailer gives the inflated size');
  t.is(inflateChunkSize(bytes), Math.max(MIN_INFLATE_CHUNK, inflated));
  for (const [size, chunk] of [[0, MIN_INFLATE_CHUNK], [0xffffffff, MAX_INFLATE_CHUNK], [200 * 1024, 200 * 1024]] as const) {
    const lying = Buffer.from(bytes);
    lying.writeUInt32LE(size, lying.length - 4);
    t.is(inflateChunkSize(lying), chunk, `ISIZE ${size}`);
    await t.throwsAsync(decodeSnapshot(lying), undefined, `ISIZE ${size}: zlib checks the trailer`);
  }
  t.deepEqual(plain(await decodeSnapshot(bytes)), plain(state));
});

test('the sliced encoding is the state as it was at the call, though later commands change it between slices', async (t) => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, fc.integer({ min: 1, max: 4 }), async (sc, sliceRows) => {
      const sim = new Sim(sc.setup);
      sim.exec({ type: 'SyncCatalog' });
      const cut = sc.snapshotAt % sc.steps.length;
      const execStep = (i: number) => {
        const step = sc.steps[i];
        const cmd = step && toCommand(sim, step);
        if (cmd) sim.exec(cmd);
      };
      for (let i = 0; i < cut; i++) execStep(i);
      const atCall = plain(sim.state);
      let next = cut;
      let pauses = 0;
      // Every pause runs the next command: it replaces reservations and tickets, and changes
      // levels and promo uses in place, while the encoding is half done.
      const json = await snapshotJsonInSlices(sim.state, async () => {
        pauses += 1;
        execStep(next++);
        sim.exec({ type: 'Expire' });
      }, sliceRows);
      const { reservations, tickets, closed } = atCall as { reservations: object; tickets: object; closed: { records: object } };
      const slices = [reservations, tickets, closed.records].reduce((n, rows) => n + Math.ceil(Object.keys(rows).length / sliceRows), 0);
      t.is(pauses, Math.max(0, slices - 1));
      t.deepEqual(plain(parseSnapshotJson(json)), atCall);
      return true;
    }),
    { numRuns: 150 },
  );
});
