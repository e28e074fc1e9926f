// A nemesis injects one kind of fault: start() breaks something, stop() repairs it. Problems a
// nemesis sees while repairing (a node that will not restart) are findings of the run.
import type { FaultCluster } from "../cluster.js";
import { describeError } from "../describe-error.js";
import type { Random } from "../workloads/workload.js";

export interface NemesisContext {
  readonly cluster: FaultCluster;
  readonly random: Random;
  /** The nemeses of this run, by name (a nemesis may judge what it sees by what else runs). */
  readonly nemeses: readonly string[];
  /** Records a problem of the system under test (reported as a failure of the run). */
  finding(text: string): void;
  /** Notes something in the run's timeline. */
  log(text: string): void;
}

export interface Nemesis {
  readonly name: string;
  /** Starts a fault; returns what it did, or undefined when nothing applies right now. */
  start(context: NemesisContext): Promise<string | undefined>;
  /** Repairs what the last start did; returns what it did. */
  stop(context: NemesisContext): Promise<string>;
}

/** Running member nodes (1-based indexes) that no nemesis holds. */
export function liveNodes(cluster: FaultCluster): number[] {
  return cluster.nodes
    .filter((n) => !n.removed && n.claimedBy === null && cluster.running(n.index))
    .map((n) => n.index);
}

export function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Restarts a node that a fault stopped; a failure is a finding (restart must always work). */
export async function restart(
  context: NemesisContext,
  index: number,
  why: string,
): Promise<string> {
  if (context.cluster.running(index)) return `n${index} was running already`;
  try {
    await context.cluster.startNode(index);
    return `restarted n${index}`;
  } catch (error) {
    context.finding(`restart of n${index} after ${why} failed: ${describeError(error)}`);
    return `restart of n${index} FAILED`;
  }
}
