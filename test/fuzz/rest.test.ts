/**
 * Every REST route, enumerated from the service's own OpenAPI document, fed hostile
 * requests (fast-check): no answer is a 5xx, every write is refused, and the database and
 * the actors are exactly as before. Replay: FUZZ_SEED (printed), FUZZ_RUNS, FUZZ_PATH,
 * FUZZ_TARGET (e.g. "PUT /events/{id}"); see docs/development.md.
 */
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import { acceptable, operationName, operationsOf, restRequest, send, type Operation } from '../helpers/fuzz/rest.js';
import { assertParams, errorOf, fuzzSettings, startFuzzWorld, type FuzzWorld } from '../helpers/fuzz/world.js';

const test = anyTest as TestFn<{ world: FuzzWorld; operations: Operation[] }>;
const settings = fuzzSettings(8);

test.before(async (t) => {
  const world = await startFuzzWorld();
  const doc = await world.svc.api('GET', '/openapi.json', { token: null });
  t.context = { world, operations: operationsOf(doc.body) };
});

test.after.always(async (t) => {
  await t.context.world?.close();
});

test('the OpenAPI document lists the routes the fuzzer must reach', (t) => {
  const names = t.context.operations.map(operationName);
  for (const expected of ['GET /events/{id}', 'PUT /events/{id}/tickets/{type}', 'DELETE /events/{id}/promo-codes/{codeId}', 'POST /venues', 'GET /events/search']) {
    t.true(names.includes(expected), expected);
  }
  t.true(names.length >= 30, `${names.length} operations`);
});

test.serial('every REST route holds against hostile input and writes nothing', async (t) => {
  const { world, operations } = t.context;
  const ids = world.ids;
  const before = await world.snapshot();
  t.log(`FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs}`);
  const started = Date.now();
  let requests = 0;
  for (const op of operations) {
    const name = operationName(op);
    if (settings.target && !name.includes(settings.target)) continue;
    const property = fc.asyncProperty(restRequest(op, world.svc.service.httpUrl, ids, world.credentials), async (req) => {
      requests += 1;
      const outcome = await send(req);
      if (!acceptable(req, outcome)) {
        throw new Error(`${name}: ${req.method} ${req.url.slice(0, 300)} (${JSON.stringify(req.headers).slice(0, 300)}) body ${String(req.body).slice(0, 300)} → ${outcome.status} ${outcome.body}`);
      }
      if (req.mustRefuse) {
        const now = await world.snapshot();
        if (now !== before) throw new Error(`${name}: a refused request changed the database or the actors: ${req.method} ${req.url.slice(0, 300)} body ${String(req.body).slice(0, 300)}`);
      }
    });
    const result = await fc.check(property, assertParams(settings));
    if (result.failed) t.fail(`${name}: ${errorOf(result)}\n${fc.defaultReportMessage(result) ?? 'failed'}\nreplay: FUZZ_SEED=${settings.seed} FUZZ_TARGET="${name}" FUZZ_PATH="${result.counterexamplePath ?? ''}"`);
  }
  t.is(await world.snapshot(), before, 'the database and the actors are as before');
  t.log(`${requests} requests in ${Date.now() - started} ms`);
});
