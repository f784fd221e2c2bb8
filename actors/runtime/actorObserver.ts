/**
 * What the actor runtime tells the service around it about its actors (metrics, logs): a
 * port, so the runtime knows nothing of how it is observed. Every hook is optional and
 * must be cheap and never throw: they run on the actors' hot path. `NO_ACTOR_OBSERVER`
 * (the default) observes nothing.
 */
export interface ActorObserver {
  /** An actor finished loading (`ok`) or failed to (its waiting messages are rejected); how long it took. */
  activated?(key: string, outcome: 'ok' | 'failed', seconds: number): void;
  /** An actor stopped after a passivation (idle, a shard hand-off, shutdown). */
  passivated?(key: string): void;
  /** A turn starts with this many messages (the mailbox as it was taken, or one run alone). */
  turn?(key: string, messages: number): void;
  /** A message was refused because the actor's mailbox was full (BUSY). */
  busy?(key: string): void;
}

export const NO_ACTOR_OBSERVER: ActorObserver = Object.freeze({});
