/**
 * Serves the items of a bidirectional stream with at most `max` in flight. An item is in
 * flight from the moment it is taken off the stream until its answer has been written out
 * (the write callback: handed to HTTP/2, which holds it while the client's flow-control
 * window is full). At the bound the readable side is paused: grpc-js then stops reading
 * the HTTP/2 stream and flow control holds the sender back, so a client that sends faster
 * than it is answered, or stops reading answers, costs the pod at most `max` items of
 * memory. Reading resumes as soon as an answer goes out. Answers are written as they are
 * ready, in any order.
 */

/** What serveInFlight needs of a stream: a grpc-js ServerDuplexStream, or any object-mode Duplex. */
export interface ItemStream {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  write(chunk: unknown, callback: (error?: Error | null) => void): boolean;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
}

/**
 * Take items off `stream` and write `answer(item)` for each, at most `max` in flight.
 * `answer` must resolve (errors are answers too); a rejection drops the item's answer.
 * Resolves once the sender has half-closed and every answer is written, or when the stream
 * closes, fails or `signal` aborts (answers still in flight are then not written).
 */
export function serveInFlight<Req, Res>(stream: ItemStream, max: number, answer: (item: Req) => Promise<Res>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    let inFlight = 0;
    let paused = false;
    let inputEnded = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      stream.off('data', onItem);
      stream.off('end', onEnd);
      stream.off('close', finish);
      stream.off('error', finish);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const settle = () => {
      inFlight--;
      if (inputEnded && inFlight === 0) finish();
      else if (paused && inFlight < max && !done) {
        paused = false;
        stream.resume();
      }
    };
    const write = (res: Res) => {
      if (done || stream.writableEnded || stream.destroyed) return settle();
      stream.write(res, () => settle());
    };
    // Items come off an object-mode stream of Req (the caller's serializer made them).
    function onItem(item: unknown) {
      inFlight++;
      if (inFlight >= max && !paused) {
        paused = true;
        stream.pause();
      }
      answer(item as Req).then(write, settle);
    }
    function onEnd() {
      inputEnded = true;
      if (inFlight === 0) finish();
    }
    if (signal.aborted) return finish();
    signal.addEventListener('abort', finish, { once: true });
    stream.on('data', onItem);
    stream.on('end', onEnd);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}
