/**
 * The SSE availability stream's heartbeats: an idle stream gets a `: keep-alive` comment
 * every heartbeatMs (so proxies keep it open) and its end unsubscribes; heartbeats count toward
 * STREAM_BUFFER_MAX, so a consumer that stopped reading an idle event is dropped too.
 * The feed is in memory; the interval is short and the test waits for the frames to show.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import type { AvailabilityFeed } from '../../src/cache/availabilityFeed.js';
import { sseFrames, streamAvailability, type StreamEnd } from '../../src/rest/availabilityStream.js';
import { waitFor } from '../helpers/clusterProcess.js';

const KEEP_ALIVE = ': keep-alive\n\n';

/** A feed nobody publishes on (an idle event); counts its live subscriptions. */
function idleFeed(): AvailabilityFeed & { subscribers(): number } {
  let subscribers = 0;
  return {
    publish: async () => undefined,
    async subscribe() {
      subscribers++;
      return async () => {
        subscribers--;
      };
    },
    subscribers: () => subscribers,
  };
}

test('an idle stream gets a keep-alive comment every heartbeat; closing it unsubscribes', async (t) => {
  const feed = idleFeed();
  const frames: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      frames.push(chunk.toString());
      done();
    },
  });
  const ends: StreamEnd[] = [];
  await streamAvailability(sink, { feed, eventId: 'e1', first: Buffer.from('{"version":1}'), bufferMax: 4, frames: sseFrames(), heartbeatMs: 5, onEnd: (how) => ends.push(how) });
  t.is(frames[0], 'event: availability\ndata: {"version":1}\n\n', 'the snapshot first');
  await waitFor('three heartbeats', async () => frames.filter((f) => f === KEEP_ALIVE).length >= 3);
  t.deepEqual(ends, [], 'a reading consumer stays, however many heartbeats it gets');

  sink.destroy();
  await waitFor('the stream to end', async () => ends.length === 1);
  t.deepEqual(ends, ['closed']);
  t.is(feed.subscribers(), 0, 'unsubscribed');
});

test('a consumer that stopped reading an idle event is dropped once its heartbeats fill STREAM_BUFFER_MAX', async (t) => {
  const feed = idleFeed();
  let writes = 0;
  const stalled = new Writable({
    write() {
      writes++; // never flushed: the consumer does not read
    },
  });
  const ends: StreamEnd[] = [];
  await streamAvailability(stalled, { feed, eventId: 'e2', first: Buffer.from('{"version":1}'), bufferMax: 3, frames: sseFrames(), heartbeatMs: 5, onEnd: (how) => ends.push(how) });
  await waitFor('the stalled consumer to be dropped', async () => ends.length === 1);
  t.deepEqual(ends, ['stalled']);
  t.true(stalled.destroyed, 'its connection closed');
  t.is(writes, 1, 'the sink took the first frame; the rest waited in the stream and were dropped with it');
  t.is(feed.subscribers(), 0, 'unsubscribed');
});
