/**
 * Background retries (src/inventory/retries.ts) on the fake clock, and the catalog sync that
 * uses them: an actor that could not be told of a catalog change is told again until it is.
 */
import test from 'ava';
import { createRetries } from '../../src/inventory/retries.js';
import { InventoryService } from '../../src/inventory/inventoryService.js';
import type { InventoryCommand, InventoryReply } from '../../actors/inventory/model.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { AppError } from '../../src/errors.js';

test('a failing attempt runs again after each delay (the last one repeating) until it succeeds', async (t) => {
  const clock = new FakeClock();
  const retries = createRetries({ timers: clock, delaysMs: [100, 200], maxAttempts: 10 });
  let calls = 0;
  retries.start('e1', async () => {
    calls++;
    if (calls < 3) throw new Error('not yet');
  });
  await clock.advance(99);
  t.is(calls, 0);
  await clock.advance(1);
  t.is(calls, 1);
  await clock.advance(199);
  t.is(calls, 1);
  await clock.advance(1);
  t.is(calls, 2);
  await clock.advance(200);
  t.is(calls, 3, 'the last delay repeats');
  t.is(retries.pending(), 0, 'done once it succeeded');
  await clock.advance(10_000);
  t.is(calls, 3);
});

test('retries give up after maxAttempts and say so; a new start or a cancel drops the pending chain', async (t) => {
  const clock = new FakeClock();
  const warned: unknown[] = [];
  const retries = createRetries({ timers: clock, delaysMs: [10], maxAttempts: 3, log: { warn: (o: unknown) => void warned.push(o) }, what: 'sync' });
  let calls = 0;
  retries.start('e1', async () => {
    calls++;
    throw new Error('down');
  });
  await clock.advance(100);
  t.is(calls, 3);
  t.is(warned.length, 1);
  t.is(retries.pending(), 0);

  let first = 0;
  let second = 0;
  retries.start('e2', async () => {
    first++;
  });
  retries.start('e2', async () => {
    second++;
  });
  retries.start('e3', async () => {
    first++;
  });
  retries.cancel('e3');
  await clock.advance(100);
  t.is(first, 0, 'the replaced and the cancelled chains never ran');
  t.is(second, 1);

  retries.start('e4', async () => {
    first++;
  });
  retries.stop();
  retries.start('e5', async () => {
    first++;
  });
  await clock.advance(100);
  t.is(first, 0, 'stop dropped the pending chain, and nothing starts after it');
  t.is(retries.pending(), 0);
});

test('a failure that retryable says another attempt would not mend ends the chain', async (t) => {
  const clock = new FakeClock();
  const retries = createRetries({ timers: clock, delaysMs: [10], maxAttempts: 10, retryable: (err) => (err as Error).message !== 'gone' });
  let calls = 0;
  retries.start('e1', async () => {
    calls++;
    throw new Error(calls < 2 ? 'down' : 'gone');
  });
  await clock.advance(1000);
  t.is(calls, 2);
  t.is(retries.pending(), 0);
});

test('a catalog sync that fails is retried in the background until the actor has it; a later sync supersedes', async (t) => {
  const clock = new FakeClock();
  const event = 'a1b2c3d4-0000-4000-8000-00000000000f';
  let failures = 2;
  const delivered: string[] = [];
  const route = async (eventId: string, cmd: InventoryCommand): Promise<InventoryReply> => {
    if (failures > 0) {
      failures--;
      throw new Error('shard moving');
    }
    delivered.push(`${eventId} ${cmd.type}`);
    return { ok: true, kind: 'done' } as unknown as InventoryReply;
  };
  const service = new InventoryService(route, {} as never, {} as never, {} as never, { timers: clock, delaysMs: [50] });
  await t.throwsAsync(service.syncCatalog(event), { message: 'shard moving' });
  await clock.advance(50);
  t.deepEqual(delivered, [], 'the first retry failed too');
  await clock.advance(50);
  t.deepEqual(delivered, [`${event} SyncCatalog`]);
  await clock.advance(500);
  t.is(delivered.length, 1, 'no more once delivered');

  failures = 1;
  await t.throwsAsync(service.syncCatalog(event));
  await service.syncCatalog(event); // succeeds at once: the pending retry is dropped
  await clock.advance(500);
  t.is(delivered.length, 2);
});

test('a catalog sync refused for good (the event is gone) is not retried', async (t) => {
  const clock = new FakeClock();
  let calls = 0;
  const route = async (): Promise<InventoryReply> => {
    calls++;
    throw new AppError('NOT_FOUND', 'no such event');
  };
  const service = new InventoryService(route, {} as never, {} as never, {} as never, { timers: clock, delaysMs: [50] });
  await t.throwsAsync(service.syncCatalog('a1b2c3d4-0000-4000-8000-00000000000f'), { message: 'no such event' });
  await clock.advance(1000);
  t.is(calls, 1);
});
