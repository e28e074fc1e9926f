// The matrices of workloads × nemeses: the short form (CI) and the long one (jepsen.dqlite's).
import { NEMESIS_KINDS, type NemesisName, nemesisKind } from "./nemeses/index.js";
import { WORKLOAD_NAMES, type WorkloadName } from "./workloads/index.js";

/**
 * The short matrix: every workload meets every kind of fault at least once (matrix.test.ts
 * checks it), three kinds per run at most, on one shared cluster. Runs alternate workloads.
 * Combinations: at most one network cut per run; the membership fault never runs with kill or
 * pause (with those, three nodes could be down and its removals would only wait for a quorum);
 * the leader is cut off while nodes pause, where stale reads would show (register).
 */
export const SHORT_MATRIX: readonly (readonly [WorkloadName, readonly NemesisName[]])[] = [
  ["append", ["partition", "kill", "clock"]],
  ["register", ["partition-leader", "pause", "clock"]],
  ["bank", ["pause", "partition", "disk-full"]],
  ["set", ["disk-full", "kill", "partition"]],
  ["append", ["member", "stop"]],
  ["register", ["kill", "stop", "packet"]],
  ["bank", ["member", "packet"]],
  ["set", ["pause", "stop"]],
  ["append", ["pause", "disk-full", "packet"]],
  ["register", ["member", "disk-full", "partition"]],
  ["bank", ["kill", "stop", "clock"]],
  ["set", ["member", "clock", "packet"]],
];

/** The long matrix's nemeses, each run with every workload on a fresh cluster. */
export const LONG_NEMESES: readonly (readonly NemesisName[])[] = [
  ["none"],
  ["partition"],
  ["partition-leader"],
  ["kill"],
  ["pause"],
  ["stop"],
  ["disk-full"],
  ["member"],
  ["clock"],
  ["packet"],
  ["partition", "kill"],
  ["pause", "member"],
  ["partition", "kill", "pause", "stop", "disk-full", "member", "clock", "packet"],
];

/** Workload × fault-kind pairs that no run of `matrix` covers ("workload:kind"). */
export function missingPairs(
  matrix: readonly (readonly [WorkloadName, readonly NemesisName[]])[],
): string[] {
  const covered = new Set(
    matrix.flatMap(([workload, nemeses]) => nemeses.map((n) => `${workload}:${nemesisKind(n)}`)),
  );
  return WORKLOAD_NAMES.flatMap((w) => NEMESIS_KINDS.map((k) => `${w}:${k}`)).filter(
    (pair) => !covered.has(pair),
  );
}
