// Serializability of list-append histories, Elle's way: every element is appended once, so a read
// of a list names the transaction that wrote each element; the longest read of a key gives its
// version order; ww/wr/rw (and real-time) dependencies between transactions follow, and a cycle
// among them is an anomaly no serial order explains.
import { type Completed, describeOp, type Op, pairOps } from "../history/history.js";
import { cycleName, DependencyGraph, edgeName, RT, RW, WR, WW } from "./graph.js";
import type { Anomaly, CheckResult } from "./result.js";

export type MicroOp = readonly ["append", number, number] | readonly ["r", number, number[] | null];
export type Txn = readonly MicroOp[];
export type TxnOp = Op<"txn", Txn>;

export interface ListAppendOptions {
  /** Add real-time edges (strict serializability): an acknowledged txn precedes later ones. */
  realtime?: boolean;
  /** Cycles reported per anomaly kind at most. */
  maxCyclesPerKind?: number;
}

interface Writer {
  readonly txn: number;
  /** Whether this is the writing transaction's last append to the key. */
  readonly last: boolean;
}

interface TxnInfo {
  readonly pair: Completed<"txn", Txn>;
  /** What the transaction read of each key before appending to it (ok transactions only). */
  readonly externalReads: Map<number, number[]>;
  /** Node in the dependency graph, or -1. */
  node: number;
}

const elementKey = (key: number, element: number) => `${key}/${element}`;

/** Checks a list-append history; see the file comment. */
export function checkListAppend(
  ops: readonly TxnOp[],
  options: ListAppendOptions = {},
): CheckResult {
  const realtime = options.realtime ?? true;
  const maxCycles = options.maxCyclesPerKind ?? 5;
  const anomalies: Anomaly[] = [];
  const txns: TxnInfo[] = pairOps(ops).map((pair) => ({
    pair,
    externalReads: new Map(),
    node: -1,
  }));
  const line = (t: number) => describeOp(txns[t]!.pair);

  // Who wrote each element; appends of failed transactions kept apart for aborted reads.
  const writers = new Map<string, Writer>();
  const failedWrites = new Map<string, number>();
  txns.forEach((info, t) => {
    const appends = new Map<number, number[]>();
    for (const micro of info.pair.invoke.value) {
      if (micro[0] !== "append") continue;
      const list = appends.get(micro[1]) ?? [];
      list.push(micro[2]);
      appends.set(micro[1], list);
    }
    for (const [key, elements] of appends) {
      elements.forEach((element, i) => {
        const id = elementKey(key, element);
        if (writers.has(id) || failedWrites.has(id)) {
          throw new Error(`the generator appended ${id} twice: elements must be unique`);
        }
        if (info.pair.type === "fail") failedWrites.set(id, t);
        else writers.set(id, { txn: t, last: i === elements.length - 1 });
      });
    }
  });

  // Internal consistency and the external read of every key, for committed transactions.
  const readsByKey = new Map<number, { txn: number; value: number[] }[]>();
  txns.forEach((info, t) => {
    if (info.pair.type !== "ok") return;
    const known = new Map<number, number[]>();
    const own = new Map<number, number[]>();
    for (const micro of info.pair.value) {
      const key = micro[1];
      if (micro[0] === "append") {
        const state = known.get(key);
        if (state) known.set(key, [...state, micro[2]]);
        own.set(key, [...(own.get(key) ?? []), micro[2]]);
        continue;
      }
      const value = micro[2];
      if (value === null) throw new Error(`ok transaction ${line(t)} has a read without a value`);
      if (new Set(value).size !== value.length) {
        anomalies.push({
          kind: "duplicate-elements",
          explanation: `key ${key} read with a repeated element: ${JSON.stringify(value)}`,
          ops: [line(t)],
        });
      }
      const expected = known.get(key);
      const mine = own.get(key) ?? [];
      if (expected !== undefined && !sameList(expected, value)) {
        anomalies.push({
          kind: "internal",
          explanation: `key ${key} read ${JSON.stringify(value)} after the transaction saw ${JSON.stringify(expected)}`,
          ops: [line(t)],
        });
      } else if (expected === undefined && !endsWith(value, mine)) {
        anomalies.push({
          kind: "internal",
          explanation: `key ${key} read ${JSON.stringify(value)} without the transaction's own appends ${JSON.stringify(mine)}`,
          ops: [line(t)],
        });
      } else if (expected === undefined) {
        const external = value.slice(0, value.length - mine.length);
        info.externalReads.set(key, external);
        const reads = readsByKey.get(key) ?? [];
        reads.push({ txn: t, value });
        readsByKey.set(key, reads);
      }
      known.set(key, value);
    }
  });

  // Aborted, intermediate and garbage reads.
  txns.forEach((info, t) => {
    for (const [key, read] of info.externalReads) {
      for (const element of read) {
        const id = elementKey(key, element);
        if (writers.has(id)) continue;
        const failed = failedWrites.get(id);
        anomalies.push(
          failed === undefined
            ? {
                kind: "garbage-read",
                explanation: `key ${key} read element ${element} that nobody appended`,
                ops: [line(t)],
              }
            : {
                kind: "G1a",
                explanation: `key ${key} read element ${element} of a failed transaction`,
                ops: [line(failed), line(t)],
              },
        );
      }
      if (read.length === 0) continue;
      const writer = writers.get(elementKey(key, read[read.length - 1]!));
      if (writer && writer.txn !== t && !writer.last) {
        anomalies.push({
          kind: "G1b",
          explanation: `key ${key} read ending at ${read[read.length - 1]}, an intermediate append of another transaction`,
          ops: [line(writer.txn), line(t)],
        });
      }
    }
  });

  // Version orders: every read of a key must be a prefix of its longest read.
  const orders = new Map<number, number[]>();
  for (const [key, reads] of readsByKey) {
    let longest = reads[0]!;
    for (const read of reads) if (read.value.length > longest.value.length) longest = read;
    orders.set(key, longest.value);
    for (const read of reads) {
      if (!isPrefix(read.value, longest.value)) {
        anomalies.push({
          kind: "incompatible-order",
          explanation: `key ${key} read as ${JSON.stringify(read.value)} and as ${JSON.stringify(longest.value)}: neither extends the other`,
          ops: [line(read.txn), line(longest.txn)],
        });
      }
    }
  }

  // Acknowledged appends that no later read of their key contains.
  const positions = new Map<string, number>();
  for (const [key, order] of orders) {
    order.forEach((e, i) => {
      positions.set(elementKey(key, e), i);
    });
  }
  for (const [id, writer] of writers) {
    const info = txns[writer.txn]!;
    if (info.pair.type !== "ok" || positions.has(id)) continue;
    const key = Number(id.slice(0, id.indexOf("/")));
    const doneNs = info.pair.complete!.timeNs;
    const later = (readsByKey.get(key) ?? []).find((r) => txns[r.txn]!.pair.invoke.timeNs > doneNs);
    if (later) {
      anomalies.push({
        kind: "lost-append",
        explanation: `acknowledged append ${id} is missing from every read, also from one that began after it`,
        ops: [line(writer.txn), line(later.txn)],
      });
    }
  }

  // The dependency graph over committed transactions (and unknown ones whose writes were seen).
  const nodes: number[] = [];
  txns.forEach((info, t) => {
    const seen =
      info.pair.type === "info" &&
      info.pair.invoke.value.some(
        (m) => m[0] === "append" && positions.has(elementKey(m[1], m[2])),
      );
    if (info.pair.type === "ok" || seen) {
      info.node = nodes.length;
      nodes.push(t);
    }
  });
  const graph = new DependencyGraph(nodes.length);
  const nodeOf = (key: number, element: number) => {
    const writer = writers.get(elementKey(key, element));
    return writer === undefined ? -1 : txns[writer.txn]!.node;
  };
  for (const [key, order] of orders) {
    for (let i = 0; i + 1 < order.length; i++) {
      const a = nodeOf(key, order[i]!);
      const b = nodeOf(key, order[i + 1]!);
      if (a >= 0 && b >= 0) graph.add(a, b, WW);
    }
  }
  for (const info of txns) {
    if (info.node < 0) continue;
    for (const [key, read] of info.externalReads) {
      const order = orders.get(key) ?? [];
      if (!isPrefix(read, order)) continue;
      if (read.length > 0) {
        const w = nodeOf(key, read[read.length - 1]!);
        if (w >= 0) graph.add(w, info.node, WR);
      }
      if (read.length < order.length) {
        const w = nodeOf(key, order[read.length]!);
        if (w >= 0) graph.add(info.node, w, RW);
      }
    }
  }
  if (realtime) addRealtimeEdges(ops, txns, graph);

  // Cycles, weakest edge sets first, so each is named by the strongest anomaly it shows.
  const masks = realtime
    ? [WW, WW | WR, WW | WR | RW, WW | WR | RW | RT]
    : [WW, WW | WR, WW | WR | RW];
  const reported = new Set<number>();
  const perKind = new Map<string, number>();
  for (const mask of masks) {
    for (const component of graph.components(mask)) {
      if (component.every((n) => reported.has(n))) continue;
      const within = new Set(component);
      const start = component.find((n) => !reported.has(n))!;
      const cycle = graph.cycleThrough(start, mask, within);
      if (!cycle) throw new Error("a strongly connected component without a cycle");
      for (const n of component) reported.add(n);
      const edges = cycle.map((n, i) =>
        edgeName(graph.kinds(n, cycle[(i + 1) % cycle.length]!), mask),
      );
      const kind = cycleName(edges);
      const count = perKind.get(kind) ?? 0;
      perKind.set(kind, count + 1);
      if (count >= maxCycles) continue;
      anomalies.push({
        kind,
        explanation: `cycle of ${cycle.length} transactions: ${edges.join(", ")} (component of ${component.length})`,
        ops: cycle.map((n, i) => `${line(nodes[n]!)}  -${edges[i]}->`),
      });
    }
  }

  const count = (type: string) => txns.filter((i) => i.pair.type === type).length;
  return {
    valid: anomalies.length === 0,
    anomalies,
    stats: { ok: count("ok"), fail: count("fail"), info: count("info"), keys: orders.size },
  };
}

/**
 * Real-time order without the quadratic edge set: each acknowledged transaction gets edges from
 * the "frontier" of transactions that had completed when it was invoked and that no later
 * completion already follows (the rest are implied through those).
 */
function addRealtimeEdges(ops: readonly TxnOp[], txns: TxnInfo[], graph: DependencyGraph): void {
  const byInvoke = new Map<number, TxnInfo>();
  const byComplete = new Map<number, TxnInfo>();
  for (const info of txns) {
    if (info.node < 0) continue;
    byInvoke.set(info.pair.invoke.index, info);
    if (info.pair.type === "ok") byComplete.set(info.pair.complete!.index, info);
  }
  let frontier = new Set<number>();
  const preds = new Map<number, number[]>();
  for (const op of ops) {
    const invoked = byInvoke.get(op.index);
    if (invoked) {
      preds.set(invoked.node, [...frontier]);
      for (const p of frontier) graph.add(p, invoked.node, RT);
      continue;
    }
    const completed = byComplete.get(op.index);
    if (!completed) continue;
    const before = new Set(preds.get(completed.node) ?? []);
    frontier = new Set([...frontier].filter((n) => !before.has(n)));
    frontier.add(completed.node);
    preds.delete(completed.node);
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isPrefix(prefix: readonly number[], of: readonly number[]): boolean {
  return prefix.length <= of.length && prefix.every((x, i) => x === of[i]);
}

function endsWith(list: readonly number[], suffix: readonly number[]): boolean {
  return (
    suffix.length <= list.length &&
    suffix.every((x, i) => x === list[list.length - suffix.length + i])
  );
}
