/**
 * The body of `GET /events/:id/availability/stream` (Server-Sent Events): the newest
 * snapshot at once, then every snapshot the availability feed publishes, each as
 * `event: availability`, and a comment line (`: keep-alive`) every SSE_HEARTBEAT_MS so
 * proxies keep an idle stream open.
 *
 * A consumer that stops reading is dropped: once STREAM_BUFFER_MAX frames (heartbeats
 * included) wait unflushed in this process, the connection is destroyed, the feed
 * subscription and timer go, and nothing of the stream stays referenced. The client's
 * EventSource reconnects and gets the newest snapshot first: availability is a state,
 * so the frames it missed are not owed to it.
 */
import type { Writable } from 'node:stream';
import type { AvailabilityFeed } from '../cache/availabilityFeed.js';
import { unsentCounter } from '../limits/streams.js';

/** SSE keep-alive comment interval; below common 60 s proxy idle timeouts. */
export const SSE_HEARTBEAT_MS = 15_000;
const HEARTBEAT = Buffer.from(': keep-alive\n\n');

export type StreamEnd = 'closed' | 'stalled';

export interface AvailabilityStreamOptions {
  readonly feed: AvailabilityFeed;
  readonly eventId: string;
  /** The newest snapshot's JSON bytes, sent first. */
  readonly first: Buffer;
  /** Frames that may wait unflushed before the consumer is dropped. */
  readonly bufferMax: number;
  /** Encodes a snapshot's frame (shared by every stream of the pod: one Buffer per snapshot). */
  readonly frames: (json: string) => Buffer;
  readonly heartbeatMs?: number;
  /** Called once when the stream ends: the consumer went away, the server closed it, or it was dropped. */
  readonly onEnd: (how: StreamEnd) => void;
}

/** A frame encoder remembering the last snapshot, so N streams of one event share one Buffer per update. */
export function sseFrames(): (json: string) => Buffer {
  let lastJson: string | undefined;
  let lastFrame = Buffer.alloc(0);
  return (json) => {
    if (json !== lastJson) {
      lastJson = json;
      lastFrame = Buffer.from(`event: availability\ndata: ${json}\n\n`);
    }
    return lastFrame;
  };
}

/**
 * Subscribe to the event's feed and stream to `sink` until it closes. Resolves once the
 * first snapshot is written; rejects (writing nothing) when the subscription fails.
 */
export async function streamAvailability(sink: Writable, options: AvailabilityStreamOptions): Promise<void> {
  const unsent = unsentCounter(options.bufferMax);
  let ended = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  const timers: { heartbeat?: NodeJS.Timeout } = {};

  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = true;
    clearInterval(timers.heartbeat);
    unsubscribe?.().catch(() => undefined);
    unsubscribe = undefined;
    if (how === 'stalled') sink.destroy();
    options.onEnd(how);
  };
  const write = (frame: Buffer) => {
    if (ended) return;
    if (!unsent.write((flushed) => sink.write(frame, flushed))) end('stalled');
  };

  if (sink.destroyed) return end('closed'); // the consumer left while the first snapshot was read
  sink.once('close', () => end('closed'));
  sink.on('error', () => end('closed'));
  const subscribed = await options.feed.subscribe(options.eventId, (json) => write(options.frames(json)));
  if (ended || sink.destroyed) {
    end('closed');
    await subscribed().catch(() => undefined);
    return;
  }
  unsubscribe = subscribed;
  write(options.frames(options.first.toString()));
  timers.heartbeat = setInterval(() => write(HEARTBEAT), options.heartbeatMs ?? SSE_HEARTBEAT_MS);
  timers.heartbeat.unref();
}
