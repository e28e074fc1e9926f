// What a workload is to the runner: how to set it up, the next operation of a client process,
// how to run one on a node, the final reads after the faults, and how to check the history.
import type { CheckResult } from "../checkers/result.js";
import type { FaultCluster } from "../cluster.js";
import type { EdnValue } from "../history/edn.js";
import type { Op } from "../history/history.js";

/** A seeded random source (mulberry32), so a run's choices can be replayed from its seed. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("pick from nothing");
  return items[Math.floor(random() * items.length)]!;
}

/** An operation to invoke: its Jepsen function and value. */
export interface Invocation<F extends string, V> {
  readonly f: F;
  readonly value: V;
}

/** Runs one operation on a node and gives its completion. */
export interface Completion<V> {
  readonly type: "ok" | "fail" | "info";
  readonly value: V;
  readonly error?: string;
}

export interface Workload<F extends string = string, V = unknown> {
  readonly name: string;
  /** Tables, initial rows. Throws if the cluster cannot be set up. */
  setup(cluster: FaultCluster): Promise<void>;
  /** The next operation of a client; undefined when the workload has nothing more to do. */
  next(random: Random): Invocation<F, V> | undefined;
  /** Sends an operation to node `index`'s app. */
  invoke(cluster: FaultCluster, index: number, op: Invocation<F, V>): Promise<Completion<V>>;
  /** Reads to make after the faults have healed (each tried until it succeeds). */
  finalReads(): Invocation<F, V>[];
  check(ops: readonly Op<F, V>[]): CheckResult;
  /** A history value in Jepsen's EDN shape. */
  edn(op: Op<F, V>): EdnValue;
}
