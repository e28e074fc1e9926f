// Dependency graphs between transactions and the search for cycles in them (as Elle does):
// strongly connected components (Tarjan, iterative), then a shortest cycle inside one (BFS).

/** Edge kinds, as bits so that one edge can carry several. */
export const WW = 1;
export const WR = 2;
export const RW = 4;
export const RT = 8;

const EDGE_NAMES: readonly [number, string][] = [
  [WW, "ww"],
  [WR, "wr"],
  [RW, "rw"],
  [RT, "rt"],
];

/** A directed graph over nodes 0..size-1 whose edges carry kind bits. */
export class DependencyGraph {
  readonly size: number;
  readonly #out: Map<number, number>[];

  constructor(size: number) {
    this.size = size;
    this.#out = Array.from({ length: size }, () => new Map());
  }

  add(from: number, to: number, kind: number): void {
    if (from === to) return;
    const edges = this.#out[from]!;
    edges.set(to, (edges.get(to) ?? 0) | kind);
  }

  /** The kinds of the edge from → to (0 when there is none). */
  kinds(from: number, to: number): number {
    return this.#out[from]!.get(to) ?? 0;
  }

  /** Successors of `node` over edges having any kind in `mask`. */
  *next(node: number, mask: number): Iterable<number> {
    for (const [to, kinds] of this.#out[node]!) if ((kinds & mask) !== 0) yield to;
  }

  /** Strongly connected components with more than one node, over edges in `mask`. */
  components(mask: number): number[][] {
    const index = new Int32Array(this.size).fill(-1);
    const low = new Int32Array(this.size);
    const onStack = new Uint8Array(this.size);
    const stack: number[] = [];
    const result: number[][] = [];
    let counter = 0;
    for (let root = 0; root < this.size; root++) {
      if (index[root] !== -1) continue;
      // Each frame: a node and the iterator over its successors.
      const frames: [number, Iterator<number>][] = [
        [root, this.next(root, mask)[Symbol.iterator]()],
      ];
      index[root] = low[root] = counter++;
      stack.push(root);
      onStack[root] = 1;
      while (frames.length > 0) {
        const frame = frames[frames.length - 1]!;
        const [node, successors] = frame;
        const step = successors.next();
        if (!step.done) {
          const to = step.value;
          if (index[to] === -1) {
            index[to] = low[to] = counter++;
            stack.push(to);
            onStack[to] = 1;
            frames.push([to, this.next(to, mask)[Symbol.iterator]()]);
          } else if (onStack[to]) {
            low[node] = Math.min(low[node]!, index[to]!);
          }
          continue;
        }
        frames.pop();
        const parent = frames[frames.length - 1];
        if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[node]!);
        if (low[node] === index[node]) {
          const component: number[] = [];
          let member: number;
          do {
            member = stack.pop()!;
            onStack[member] = 0;
            component.push(member);
          } while (member !== node);
          if (component.length > 1) result.push(component.reverse());
        }
      }
    }
    return result;
  }

  /** A shortest cycle through `start` using edges in `mask` within `within`, or undefined. */
  cycleThrough(start: number, mask: number, within: ReadonlySet<number>): number[] | undefined {
    const parent = new Map<number, number>();
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const to of this.next(node, mask)) {
        if (!within.has(to)) continue;
        if (to === start) {
          const path = [node];
          while (path[path.length - 1] !== start) path.push(parent.get(path[path.length - 1]!)!);
          return path.reverse();
        }
        if (!parent.has(to)) {
          parent.set(to, node);
          queue.push(to);
        }
      }
    }
    return undefined;
  }
}

/** The name of the weakest-needed kind of an edge within `mask`, preferring ww, wr, rw, rt. */
export function edgeName(kinds: number, mask: number): string {
  for (const [bit, name] of EDGE_NAMES) if ((kinds & mask & bit) !== 0) return name;
  return "?";
}

/** Adya's name for a cycle made of these edge names (Elle's: G0, G1c, G-single, G2, -realtime). */
export function cycleName(edges: readonly string[]): string {
  const rw = edges.filter((e) => e === "rw").length;
  const wr = edges.filter((e) => e === "wr").length;
  const realtime = edges.includes("rt") ? "-realtime" : "";
  if (rw === 0 && wr === 0) return `G0${realtime}`;
  if (rw === 0) return `G1c${realtime}`;
  if (rw === 1) return `G-single${realtime}`;
  return `G2${realtime}`;
}
