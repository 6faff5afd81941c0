// Indexed binary min-heap of node ids on typed arrays, with decrease-key, for shortest-path search.

/** Min-heap over node ids 0..capacity-1 keyed by a float; each node is in the heap at most once. */
export class NodeHeap {
  private readonly heap: Int32Array;
  /** Position of each node in `heap`, or -1 when absent. */
  private readonly pos: Int32Array;
  private readonly keys: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
    this.keys = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Empties the heap; O(size), so cheap after a search that stopped early. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.pos[this.heap[i]] = -1;
    this.count = 0;
  }

  /** Inserts `node`, or lowers its key if already present with a larger one. */
  pushOrDecrease(node: number, key: number): void {
    let i = this.pos[node];
    if (i === -1) {
      i = this.count++;
      this.heap[i] = node;
      this.pos[node] = i;
    } else if (key >= this.keys[node]) {
      return;
    }
    this.keys[node] = key;
    this.siftUp(i);
  }

  /** Removes and returns the node with the smallest key; caller checks `size` first. */
  pop(): number {
    const top = this.heap[0];
    this.pos[top] = -1;
    const last = this.heap[--this.count];
    if (this.count > 0) {
      this.heap[0] = last;
      this.pos[last] = 0;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(i: number): void {
    const node = this.heap[i];
    const key = this.keys[node];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pn = this.heap[p];
      if (this.keys[pn] <= key) break;
      this.heap[i] = pn;
      this.pos[pn] = i;
      i = p;
    }
    this.heap[i] = node;
    this.pos[node] = i;
  }

  private siftDown(i: number): void {
    const node = this.heap[i];
    const key = this.keys[node];
    const n = this.count;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.keys[this.heap[c + 1]] < this.keys[this.heap[c]]) c++;
      const cn = this.heap[c];
      if (this.keys[cn] >= key) break;
      this.heap[i] = cn;
      this.pos[cn] = i;
      i = c;
    }
    this.heap[i] = node;
    this.pos[node] = i;
  }
}
