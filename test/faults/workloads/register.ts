// Jepsen's linearizable register over independent keys: reads, writes and compare-and-sets of
// small values on a few active keys; a key retires after a number of operations so that each
// key's history stays small enough for the linearizability search.
import { checkRegister, type RegisterF, type RegisterValue } from "../checkers/register.js";
import type { Workload } from "./workload.js";

export interface RegisterOptions {
  keyBase: number;
  activeKeys?: number;
  maxOpsPerKey?: number;
}

export function registerWorkload(options: RegisterOptions): Workload<RegisterF, RegisterValue> {
  const activeCount = options.activeKeys ?? 3;
  const maxOps = options.maxOpsPerKey ?? 120;
  let nextKey = options.keyBase;
  const active = Array.from({ length: activeCount }, () => nextKey++);
  const counts = new Map<number, number>();
  return {
    name: "register",
    async setup(cluster) {
      const outcome = await cluster.request(1, "POST", "/setup");
      if (outcome.type !== "ok") throw new Error(`setup: ${outcome.error}`);
    },
    next(random) {
      const slot = Math.floor(random() * active.length);
      const key = active[slot]!;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count >= maxOps) active[slot] = nextKey++;
      const roll = random();
      const value = () => Math.floor(random() * 5);
      if (roll < 0.4) return { f: "read", value: [key, null] };
      if (roll < 0.7) return { f: "write", value: [key, value()] };
      return { f: "cas", value: [key, [value(), value()]] };
    },
    async invoke(cluster, index, op) {
      const [key, payload] = op.value;
      const outcome = await cluster.request(index, "POST", "/register", {
        f: op.f,
        key,
        value: payload,
      });
      if (outcome.type !== "ok")
        return { type: outcome.type, value: op.value, error: outcome.error };
      return {
        type: "ok",
        value: op.f === "read" ? [key, outcome.value as number | null] : op.value,
      };
    },
    finalReads: () => [],
    check: (ops) => checkRegister(ops),
    edn: (op) => {
      const [key, payload] = op.value;
      return [key, Array.isArray(payload) ? [...payload] : (payload as number | null)];
    },
  };
}
