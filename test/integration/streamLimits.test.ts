/**
 * Availability streams are bounded: STREAMS_PER_CLIENT (20 by default) SSE and
 * WatchAvailability streams per client together, one more refused (429 / RESOURCE_EXHAUSTED,
 * RATE_LIMITED); a closed stream frees its slot. A consumer that stops reading is dropped
 * once STREAM_BUFFER_MAX frames wait, nothing of its stream stays in memory, and it
 * starts from the newest snapshot when it comes back.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createAvailabilityFeed } from '../../src/cache/availabilityFeed.js';
import { createPubSub } from '../../src/cache/pubsub.js';
import { decodeErrorInfo } from '../../src/grpc/errors.js';
import { createRedisAvailabilitySink } from '../../src/inventory/redisAvailabilitySink.js';
import { createStreamSlots } from '../../src/limits/streams.js';
import { sseFrames, streamAvailability } from '../../src/rest/availabilityStream.js';
import { callMetadata, serviceWithEvent, unaryCall, type ServiceWithEvent } from '../helpers/grpc.js';
import { signToken } from '../helpers/tokens.js';

const PER_CLIENT = 20; // the default

type Context = ServiceWithEvent;
const test = anyTest as TestFn<Context>;
serviceWithEvent(test);

interface Sse {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;
  close(): void;
}

/** Open an SSE stream; a 200 stays open (its first frame read) until closed, anything else is read whole. */
async function openSse(c: Context): Promise<Sse> {
  const controller = new AbortController();
  const res = await fetch(`${c.svc.service.httpUrl}/events/${c.eventId}/availability/stream`, { signal: controller.signal });
  if (res.status !== 200) return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after'), close: () => undefined };
  const reader = res.body!.getReader();
  // The first whole frame (a large snapshot arrives in several chunks).
  let body = '';
  while (!/data: .*\n\n/.test(body)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    body += Buffer.from(chunk.value).toString();
  }
  return {
    status: 200,
    body,
    retryAfter: null,
    close: () => controller.abort(),
  };
}

interface Watch {
  readonly code: grpc.status | 'OPEN';
  readonly reason?: string;
  close(): void;
}

/** Start WatchAvailability: OPEN once its first snapshot arrived, else the status it ended with. */
function openWatch(c: Context, token?: string): Promise<Watch> {
  return new Promise((resolve) => {
    const stream = c.clients.ticket.WatchAvailability({ event_id: c.eventId }, callMetadata({ token }));
    const close = () => stream.cancel();
    stream.once('data', () => resolve({ code: 'OPEN', close }));
    stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, reason: decodeErrorInfo(err)?.reason, close }));
  });
}

/** Retry `open` until it succeeds (a closed stream's slot is freed when the server sees the close). */
async function openEventually<T extends { close(): void }>(open: () => Promise<T>, ok: (s: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await open();
    if (ok(s) || Date.now() > until) return s;
    await new Promise((r) => setImmediate(r));
  }
}

test.serial('SSE: the 21st stream of one client is refused with 429 RATE_LIMITED; a closed one frees its slot', async (t) => {
  t.is(t.context.svc.config.streams.perClient, PER_CLIENT);
  const open: Sse[] = [];
  t.teardown(() => open.forEach((s) => s.close()));
  for (let i = 0; i < PER_CLIENT; i++) open.push(await openSse(t.context));
  t.deepEqual(open.map((s) => s.status), Array(PER_CLIENT).fill(200));
  t.regex(open[0]!.body, /event: availability\ndata: \{/);
  const refused = await openSse(t.context);
  t.is(refused.status, 429);
  t.is(JSON.parse(refused.body).error.code, 'RATE_LIMITED');
  t.true(Number(refused.retryAfter) >= 1);
  open.shift()!.close();
  const again = await openEventually(() => openSse(t.context), (s) => s.status === 200);
  open.push(again);
  t.is(again.status, 200);
});

test.serial('WatchAvailability: the 21st stream of one caller is RESOURCE_EXHAUSTED; another caller is not affected', async (t) => {
  const watcher = await signToken({ roles: [], subject: 'watcher-a' });
  const open: Watch[] = [];
  t.teardown(() => open.forEach((s) => s.close()));
  for (let i = 0; i < PER_CLIENT; i++) open.push(await openWatch(t.context, watcher));
  t.deepEqual(open.map((s) => s.code), Array(PER_CLIENT).fill('OPEN'));
  const refused = await openWatch(t.context, watcher);
  t.is(refused.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(refused.reason, 'RATE_LIMITED');
  const other = await openWatch(t.context, await signToken({ roles: [], subject: 'watcher-b' }));
  open.push(other);
  t.is(other.code, 'OPEN');
  open.shift()!.close();
  const again = await openEventually(() => openWatch(t.context, watcher), (s) => s.code === 'OPEN');
  open.push(again);
  t.is(again.code, 'OPEN');
});

test.serial('SSE and WatchAvailability from one address count together', async (t) => {
  const sse: Sse[] = [];
  const watches: Watch[] = [];
  t.teardown(() => [...sse, ...watches].forEach((s) => s.close()));
  for (let i = 0; i < PER_CLIENT / 2; i++) {
    sse.push(await openSse(t.context));
    watches.push(await openWatch(t.context)); // anonymous: counted under its address, like SSE
  }
  t.true(sse.every((s) => s.status === 200) && watches.every((w) => w.code === 'OPEN'));
  t.is((await openWatch(t.context)).code, grpc.status.RESOURCE_EXHAUSTED);
  t.is((await openSse(t.context)).status, 429);
});

test.serial('1,000 stalled readers are dropped after STREAM_BUFFER_MAX frames and their memory is released', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const alive = () => sinks.filter((s) => s.deref() !== undefined).length;
  // Collect until no dropped stream is left (a socket's last write callback may still hold
  // one for a moment on a slow machine), at most 50 rounds; the heap is measured after.
  const settle = async () => {
    for (let i = 0; i < 50 && (i < 3 || alive() > 0); i++) {
      await new Promise((r) => setTimeout(r, i < 3 ? 0 : 20)); // WeakRefs are cleared between jobs
      gc();
    }
    return process.memoryUsage().heapUsed;
  };
  const STREAMS = 1000;
  const BUFFER_MAX = 8;
  const redis = new Redis(t.context.svc.redisUrl, { db: 0, lazyConnect: true });
  redis.on('error', () => undefined);
  const pubsub = createPubSub(redis, `mem${randomUUID().slice(0, 8)}:`, pino({ level: 'silent' }));
  const feed = createAvailabilityFeed(pubsub);
  t.teardown(async () => {
    await pubsub.close();
    redis.disconnect();
  });
  const eventId = randomUUID();
  const ticketTypes = Array.from({ length: 20 }, (_, i) => ({ ticket_type_id: randomUUID(), name: `Tier ${i}`, available: 100, capacity: 100 }));
  const view = (version: number) => ({ event_id: eventId, version, event_locked: false, ticket_types: ticketTypes });
  const slots = createStreamSlots({ perClient: STREAMS, perPod: STREAMS, bufferMax: BUFFER_MAX });
  const frames = sseFrames();
  let stalled = 0;
  const sinks: Array<WeakRef<Writable>> = [];

  const before = await settle();
  // Each reader: a sink that never flushes (a consumer that stopped reading). Opened in a
  // function of their own so nothing here keeps a sink but the stream.
  const openStalled = async (i: number) => {
    const sink = new Writable({ write: () => undefined });
    sinks.push(new WeakRef(sink));
    const release = slots.open(`ip:10.1.${i >> 8}.${i & 255}`);
    await streamAvailability(sink, {
      feed,
      eventId,
      first: Buffer.from(JSON.stringify(view(0))),
      bufferMax: BUFFER_MAX,
      frames,
      onEnd: (how) => {
        release();
        if (how === 'stalled') stalled++;
      },
    });
  };
  for (let i = 0; i < STREAMS; i++) await openStalled(i);
  const open = process.memoryUsage().heapUsed;
  t.is(slots.openCount(), STREAMS);

  // BUFFER_MAX updates: the first frame plus BUFFER_MAX − 1 fill every buffer, the next one drops.
  for (let version = 1; version <= BUFFER_MAX; version++) await feed.publish(eventId, view(version));
  const until = Date.now() + 30_000;
  while (stalled < STREAMS && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.is(stalled, STREAMS, 'every stalled reader was dropped');
  t.is(slots.openCount(), 0, 'and its slot released');

  const after = await settle();
  t.log(`heap: ${(before / 1e6).toFixed(1)} MB before, ${(open / 1e6).toFixed(1)} MB with ${STREAMS} streams open, ${(after / 1e6).toFixed(1)} MB after the drop`);
  t.is(alive(), 0, 'no dropped stream is still referenced');
  t.true(after - before < 2e6, `heap grew by ${((after - before) / 1e6).toFixed(2)} MB`);
});

test.serial('over a real socket, a reader that stops reading is dropped, and a reconnect starts from the newest snapshot', async (t) => {
  const { svc, eventId } = t.context;
  const url = new URL(svc.service.httpUrl);
  // A client that sends its request, reads the headers and first frame, then stops reading.
  const socket = connect(Number(url.port), url.hostname);
  t.teardown(() => socket.destroy());
  let received = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('event: availability')) {
        socket.pause();
        resolve();
      }
    });
    socket.write(`GET /events/${eventId}/availability/stream HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
  });
  t.regex(received, /^HTTP\/1\.1 200/);

  // Large snapshots on the event's feed, as a busy event publishes them, until the server
  // drops the reader: the kernel's socket buffers (a few MB) fill first, then STREAM_BUFFER_MAX frames.
  const published = await publishUntilDropped(t, 'sse');
  t.log(`dropped after ${published.count} snapshots of ${published.kb} KB`);

  // Reconnecting starts from the newest snapshot.
  const again = await openSse(t.context);
  t.teardown(() => again.close());
  t.is(again.status, 200);
  const first = JSON.parse(/data: (.*)\n/.exec(again.body)![1]!) as { version: number };
  t.is(first.version, published.lastVersion);
});

test.serial('a watcher that stops reading is dropped', async (t) => {
  const stream = t.context.clients.ticket.WatchAvailability({ event_id: t.context.eventId }, callMetadata({ token: await signToken({ roles: [], subject: 'slow-watcher' }) }));
  t.teardown(() => stream.cancel());
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  await new Promise((resolve) => stream.once('data', resolve));
  stream.pause(); // HTTP/2 flow control holds the server's writes once the stream's window is full
  const published = await publishUntilDropped(t, 'grpc');
  t.log(`dropped after ${published.count} snapshots of ${published.kb} KB`);
  stream.resume(); // reading again, it gets what was sent, then the status
  const err = await ended;
  t.is(err.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(decodeErrorInfo(err)?.reason, 'RATE_LIMITED');
});

let nextVersion = 1_000_000;

/** Publish large snapshots of the test event (versions above any real one) until a stream of `door` is dropped. */
async function publishUntilDropped(t: ExecutionContext<Context>, door: 'sse' | 'grpc'): Promise<{ count: number; kb: number; lastVersion: number }> {
  const { svc, eventId } = t.context;
  // Published as the inventory projection does (the hash first, then the channel), so a
  // reader that reloads from Redis finds the same newest view as the feed delivered.
  const publisher = new Redis(svc.redisUrl, { db: 0, keyPrefix: svc.config.redis.keyPrefix });
  publisher.on('error', () => undefined);
  t.teardown(() => publisher.disconnect());
  const sink = createRedisAvailabilitySink(publisher, { keyPrefix: svc.config.redis.keyPrefix, ttlSeconds: 0 }, pino({ level: 'silent' }));
  const { response: current } = await unaryCall<{ ticket_types: Array<{ ticket_type_id: string; name: string }> }>(
    t.context.clients.ticket,
    'GetAvailableTickets',
    { event_id: eventId },
  );
  const real = current.ticket_types[0]!;
  // Shaped like the views the actors publish (a reader may answer from them), padded to be large.
  const { price } = (await svc.api('GET', `/events/${eventId}/tickets`)).body.ticket_types[0] as { price: unknown };
  const typeView = (id: string, name: string, n: number) => ({ ticket_type_id: id, name, available: n, capacity: n, sold: 0, held: 0, locked: false, status: 'on_sale', price, price_valid_until: null });
  const padding = Array.from({ length: 400 }, (_, i) => typeView(randomUUID(), `Padding ${i}`, 0));
  const snapshot = (version: number) =>
    JSON.stringify({ event_id: eventId, version, event_locked: false, ticket_types: [typeView(real.ticket_type_id, real.name, 1), ...padding] });
  const droppedMetric = new RegExp(`ticket_availability_streams_dropped_total\\{[^}]*door="${door}"[^}]*\\} 1\n`);
  const dropped = async () => droppedMetric.test((await svc.api('GET', '/metrics')).body as string);
  const first = nextVersion;
  while (!(await dropped()) && nextVersion < first + 600) {
    for (let i = 0; i < 20; i++) {
      const version = ++nextVersion;
      await sink.publish([{ eventId, version, json: snapshot(version) }]);
    }
  }
  t.true(await dropped(), `not dropped after ${nextVersion - first} snapshots`);
  return { count: nextVersion - first, kb: Math.round(snapshot(nextVersion).length / 1024), lastVersion: nextVersion };
}
