/**
 * Open holds ordered by expiry: a binary min-heap with lazy deletion. Entries for holds
 * that were confirmed, released or re-timed are dropped when they reach the top, so each
 * turn costs O(log n) instead of a scan of every reservation the event ever had.
 */
interface Entry {
  readonly at: number;
  readonly id: string;
}

export class ExpiryQueue {
  private readonly heap: Entry[] = [];

  push(id: string, at: number): void {
    const h = this.heap;
    h.push({ id, at });
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Entry).at <= (h[i] as Entry).at) break;
      [h[parent], h[i]] = [h[i] as Entry, h[parent] as Entry];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && (h[l] as Entry).at < (h[m] as Entry).at) m = l;
      if (r < h.length && (h[r] as Entry).at < (h[m] as Entry).at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i] as Entry, h[m] as Entry];
      i = m;
    }
  }

  /** Earliest expiry among entries `isOpen` still accepts (stale ones are dropped). */
  next(isOpen: (id: string, at: number) => boolean): number | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Entry;
      if (isOpen(top.id, top.at)) return top.at;
      this.pop();
    }
    return undefined;
  }

  /** Remove and return the ids of open holds due at or before `now`. */
  due(now: number, isOpen: (id: string, at: number) => boolean): string[] {
    const ids: string[] = [];
    for (let at = this.next(isOpen); at !== undefined && at <= now; at = this.next(isOpen)) {
      ids.push((this.heap[0] as Entry).id);
      this.pop();
    }
    return ids;
  }

  get size(): number {
    return this.heap.length;
  }
}
