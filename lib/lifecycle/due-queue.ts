/** Min-heap of (due time, entry id). Stale items are left in place and skipped by the caller (lazy deletion). */
export interface DueItem {
  due: number;
  id: string;
}

export class DueQueue {
  private heap: DueItem[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): DueItem | undefined {
    return this.heap[0];
  }

  push(item: DueItem): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].due <= h[i].due) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  pop(): DueItem | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as DueItem;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].due < h[m].due) m = l;
        if (r < h.length && h[r].due < h[m].due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.heap = [];
  }
}
