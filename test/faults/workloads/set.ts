// Jepsen's set: unique elements added one per operation, then one final read after the faults.
import { checkSet, type SetF, type SetValue } from "../checkers/set.js";
import { EdnSet } from "../history/edn.js";
import type { Workload } from "./workload.js";

export interface SetOptions {
  /** Elements of this run start here (runs sharing a cluster use disjoint ranges). */
  elementBase: number;
}

export function setWorkload(options: SetOptions): Workload<SetF, SetValue> {
  let next = options.elementBase;
  const upper = options.elementBase + 1_000_000;
  return {
    name: "set",
    async setup(cluster) {
      const outcome = await cluster.request(1, "POST", "/setup");
      if (outcome.type !== "ok") throw new Error(`setup: ${outcome.error}`);
    },
    next() {
      if (next >= upper) return undefined;
      return { f: "add", value: next++ };
    },
    async invoke(cluster, index, op) {
      if (op.f === "add") {
        const outcome = await cluster.request(index, "POST", "/set/add", { element: op.value });
        return { type: outcome.type, value: op.value, error: outcome.error };
      }
      const outcome = await cluster.request(index, "GET", "/set/read");
      if (outcome.type !== "ok") return { type: outcome.type, value: null, error: outcome.error };
      const all = outcome.value as number[];
      return { type: "ok", value: all.filter((e) => e >= options.elementBase && e < upper) };
    },
    finalReads: () => [{ f: "read", value: null }],
    check: (ops) => checkSet(ops),
    edn: (op) => (Array.isArray(op.value) ? new EdnSet(op.value) : (op.value as number | null)),
  };
}
