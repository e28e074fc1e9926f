// Elle's list-append workload: transactions of 1-4 appends and reads over a few active keys;
// every appended element is unique per key, and a key retires after a number of appends so
// that histories stay cheap to check.
import { checkListAppend, type MicroOp, type Txn } from "../checkers/list-append.js";
import { kw } from "../history/edn.js";
import type { Workload } from "./workload.js";

export interface ListAppendOptions {
  /** Keys of this run start here (runs sharing a cluster use disjoint keys). */
  keyBase: number;
  activeKeys?: number;
  maxAppendsPerKey?: number;
  maxTxnLength?: number;
}

export function listAppendWorkload(options: ListAppendOptions): Workload<"txn", Txn> {
  const activeCount = options.activeKeys ?? 5;
  const maxAppends = options.maxAppendsPerKey ?? 32;
  const maxLength = options.maxTxnLength ?? 4;
  let nextKey = options.keyBase;
  const active: number[] = [];
  const appends = new Map<number, number>();
  const used: number[] = [];
  while (active.length < activeCount) {
    active.push(nextKey);
    used.push(nextKey++);
  }
  return {
    name: "append",
    async setup(cluster) {
      const outcome = await cluster.request(1, "POST", "/setup");
      if (outcome.type !== "ok") throw new Error(`setup: ${outcome.error}`);
    },
    next(random) {
      const length = 1 + Math.floor(random() * maxLength);
      const txn: MicroOp[] = [];
      for (let i = 0; i < length; i++) {
        const slot = Math.floor(random() * active.length);
        const key = active[slot]!;
        if (random() < 0.5) {
          txn.push(["r", key, null]);
          continue;
        }
        const count = (appends.get(key) ?? 0) + 1;
        appends.set(key, count);
        txn.push(["append", key, count]);
        if (count >= maxAppends) {
          active[slot] = nextKey;
          used.push(nextKey++);
        }
      }
      return { f: "txn", value: txn };
    },
    async invoke(cluster, index, op) {
      const outcome = await cluster.request(index, "POST", "/txn", { txn: op.value });
      return {
        type: outcome.type,
        value: outcome.type === "ok" ? (outcome.value as Txn) : op.value,
        error: outcome.error,
      };
    },
    finalReads() {
      const reads = [];
      for (let i = 0; i < used.length; i += 8) {
        reads.push({
          f: "txn" as const,
          value: used.slice(i, i + 8).map((k): MicroOp => ["r", k, null]),
        });
      }
      return reads;
    },
    check: (ops) => checkListAppend(ops),
    edn: (op) => op.value.map((m) => [kw(m[0]), m[1], m[2]]),
  };
}
