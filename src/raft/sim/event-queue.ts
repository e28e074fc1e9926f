// A min-heap of timed events; ties keep insertion order so a run is deterministic.

interface Item<T> {
  atMs: number;
  seq: number;
  value: T;
}

export class EventQueue<T> {
  #heap: Item<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(atMs: number, value: T): void {
    this.#heap.push({ atMs, seq: this.#seq++, value });
    this.#siftUp(this.#heap.length - 1);
  }

  peekTime(position = 0): number | undefined {
    return this.#heap[position]?.atMs;
  }

  pop(): { atMs: number; value: T } | undefined {
    return this.popAt(0);
  }

  /**
   * Removes the item at heap position `position` (0 is the earliest; small positions are among
   * the earliest): a simulator picks one of the first few to deliver events out of order.
   */
  popAt(position: number): { atMs: number; value: T } | undefined {
    const heap = this.#heap;
    const item = heap[position];
    if (item === undefined) return undefined;
    const last = heap.pop()!;
    if (position < heap.length) {
      heap[position] = last;
      this.#siftDown(position);
      this.#siftUp(position);
    }
    return { atMs: item.atMs, value: item.value };
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!EventQueue.#less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && EventQueue.#less(heap[l], heap[m])) m = l;
      if (r < heap.length && EventQueue.#less(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }

  static #less<T>(a: Item<T>, b: Item<T>): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }
}
