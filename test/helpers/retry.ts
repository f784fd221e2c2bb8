/** SHARD_MOVING is the contract's retryable answer while two pods settle who owns a shard: retry it a while. */
export async function retryMoving<T>(call: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as { code?: string }).code !== 'SHARD_MOVING' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
