/**
 * Work run one at a time per event on this pod: each `run` of an event starts after every
 * earlier one of the same event has settled (whether it succeeded or not). Events do not
 * wait for each other, and an event's entry goes once its last run has settled.
 */
export interface PerEventQueue {
  run<T>(eventId: string, fn: () => Promise<T>): Promise<T>;
}

export function createPerEventQueue(): PerEventQueue {
  /** Per event, the tail of its runs. */
  const tails = new Map<string, Promise<void>>();
  return {
    run(eventId, fn) {
      const previous = tails.get(eventId) ?? Promise.resolve();
      const run = previous.then(fn);
      const tail = run.then(
        () => undefined,
        () => undefined,
      );
      tails.set(eventId, tail);
      void tail.then(() => {
        if (tails.get(eventId) === tail) tails.delete(eventId);
      });
      return run;
    },
  };
}
