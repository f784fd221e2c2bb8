/**
 * Bounds on long-lived streams (SSE and gRPC WatchAvailability, and gRPC StreamInventory
 * for slots), shared by both doors of a pod:
 *
 *  - slots: at most STREAMS_PER_CLIENT open streams per client key (`ip:<address>` or
 *    `sub:<token subject>`) and STREAMS_PER_POD in all; one more is refused with
 *    RATE_LIMITED (REST 429, gRPC RESOURCE_EXHAUSTED) until one closes;
 *  - buffers: an availability stream whose consumer does not read is dropped once STREAM_BUFFER_MAX
 *    updates wait unsent in this process. Availability is a state, not a log: a consumer
 *    that reconnects gets the newest snapshot first, so nothing is owed to it. (A
 *    StreamInventory stream owes every answer: it stops reading instead, src/grpc/inFlight.ts.)
 *
 * Counts are per pod and in memory (a stream lives on one pod); a release is idempotent.
 */
import { RateLimitedError } from '../errors.js';

/** Seconds a refused stream is told to wait before trying again. */
const STREAM_RETRY_AFTER_SECONDS = 5;

export interface StreamLimits {
  readonly perClient: number;
  readonly perPod: number;
  readonly bufferMax: number;
}

export interface StreamSlots {
  /** Take a slot for `client`, or throw RateLimitedError; call the returned function (once or more) when the stream ends. */
  open(client: string): () => void;
  /** Streams open on this pod now. */
  openCount(): number;
  /** Count a stream dropped because its consumer stopped reading. */
  dropped(door: 'sse' | 'grpc'): void;
  readonly bufferMax: number;
}

export interface StreamMetrics {
  readonly streamsOpen: { set(value: number): void };
  readonly streamsDropped: { inc(labels: { door: string }): void };
}

export function createStreamSlots(limits: StreamLimits, metrics?: StreamMetrics): StreamSlots {
  const byClient = new Map<string, number>();
  let total = 0;
  return {
    bufferMax: limits.bufferMax,
    openCount: () => total,
    dropped: (door) => metrics?.streamsDropped.inc({ door }),
    open(client) {
      const held = byClient.get(client) ?? 0;
      if (held >= limits.perClient) {
        throw new RateLimitedError(STREAM_RETRY_AFTER_SECONDS, `at most ${limits.perClient} open streams per client`);
      }
      if (total >= limits.perPod) {
        throw new RateLimitedError(STREAM_RETRY_AFTER_SECONDS, 'this pod holds as many open streams as it may');
      }
      byClient.set(client, held + 1);
      total++;
      metrics?.streamsOpen.set(total);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        metrics?.streamsOpen.set(total);
        const left = (byClient.get(client) ?? 1) - 1;
        if (left > 0) byClient.set(client, left);
        else byClient.delete(client);
      };
    },
  };
}

/**
 * Counts updates handed to a sink and not yet flushed by it (the sink's write callback).
 * `write` returns false, and writes nothing, once `max` are waiting: the caller drops the
 * consumer. Over a socket, "flushed" means handed to the kernel, which buffers a few MB
 * per connection of its own before a stalled reader shows here.
 */
export function unsentCounter(max: number) {
  let unsent = 0;
  const flushed = () => {
    unsent--;
  };
  return {
    /** Write through `write(flushed)` unless `max` updates already wait; false means: drop this consumer. */
    write(write: (flushed: () => void) => void): boolean {
      if (unsent >= max) return false;
      unsent++;
      write(flushed);
      return true;
    },
    unsent: () => unsent,
  };
}

/** The client key of a REST or anonymous gRPC caller. */
export const addressKey = (address: string): string => `ip:${address}`;
/** The client key of a caller with a verified token. */
export const subjectKey = (subject: string): string => `sub:${subject}`;
