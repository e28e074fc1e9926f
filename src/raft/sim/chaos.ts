// One randomized run: a cluster under faults (partitions of any shape, loss, duplication,
// reordering, crashes with torn writes, restarts, membership changes, leadership transfers,
// snapshots), then a healed network where it must make progress within a bound.
import { RaftError } from "../core/errors.js";
import type { NodeId } from "../core/types.js";
import { RaftRole } from "../core/types.js";
import { InvariantViolation } from "./invariants.js";
import { SimCluster } from "./sim-cluster.js";

export interface ChaosOptions {
  seed: number;
  /** Virtual time under faults. Default 15000 ms. */
  faultMs?: number;
  /** Keep the trace of the run (slower) to print on failure. Default true. */
  trace?: boolean;
}

export interface ChaosResult {
  seed: number;
  steps: number;
  committed: number;
  leaders: number;
  virtualMs: number;
  stats: SimCluster["stats"];
}

/** A failed run: the message says what broke, `trace` the last steps, `seed` how to replay. */
export class ChaosFailure extends Error {
  override name = "ChaosFailure";
  constructor(
    readonly seed: number,
    override readonly cause: unknown,
    readonly trace: string,
  ) {
    super(
      `seed ${seed}: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        `replay: npm run sim -- --seed ${seed}`,
    );
  }
}

export function runChaos(options: ChaosOptions): ChaosResult {
  const seed = options.seed;
  const faultMs = options.faultMs ?? 15000;
  // The shape of the cluster is part of the seed.
  const shape = new SimCluster({ seed, voters: 1 }).prng;
  const voters = shape.pick([1, 2, 3, 3, 3, 4, 5, 5]);
  const cluster = new SimCluster({
    seed,
    voters,
    spareIds: voters < 3 ? shape.int(2, 4) : shape.int(0, 3),
    preVote: shape.chance(0.8),
    barrierOnElection: shape.chance(0.7),
    snapshotThreshold: shape.pick([8, 16, 64, 256]),
    snapshotTrailing: shape.pick([0, 2, 4, 32]),
    maxInflightMessages: shape.pick([1, 4, 32]),
    maxAppendBytes: shape.pick([24, 64, 4096, 65536]),
    traceLines: options.trace === false ? 0 : 400,
    shuffleChance: shape.pick([0, 0, 0.3, 0.9]),
    maxDiskMs: shape.pick([2, 8, 8, 60]),
    // Picked last, so that the seeds' other choices stay what they were.
    snapshotTrailingBytes: shape.pick([32 * 1024 * 1024, 32 * 1024 * 1024, 0, 40]),
    logDataInMemoryBytes: shape.pick([Number.POSITIVE_INFINITY, 0, 0, 64, 8 * 1024 * 1024]),
  });
  try {
    runFaults(cluster, faultMs);
    heal(cluster);
    checkProgress(cluster);
  } catch (error) {
    throw new ChaosFailure(seed, error, cluster.traceText);
  }
  return {
    seed,
    steps: cluster.steps,
    committed: cluster.checker.maxCommitted,
    leaders: cluster.checker.leaders.size,
    virtualMs: cluster.now,
    stats: { ...cluster.stats },
  };
}

function runFaults(cluster: SimCluster, faultMs: number): void {
  const prng = cluster.prng;
  const end = cluster.now + faultMs;
  let nextFault = cluster.now + prng.int(100, 800);
  // Some new leaders die young: after a few messages, with entries of older terms half spread.
  // That is what it takes for an old-term entry to sit on a majority while a rival branch can
  // still win (raft's figure 8).
  const killNewLeaders = prng.chance(0.3);
  cluster.onLeader = (id) => {
    if (killNewLeaders && cluster.now < end && prng.chance(0.5)) {
      const restartAfter = prng.int(0, 300);
      cluster.at(cluster.now + prng.int(0, 30), () => {
        cluster.crash(id);
        cluster.at(cluster.now + restartAfter, () => cluster.start(id));
      });
    }
  };
  // Load comes in bursts and lulls: lulls leave leaders with only older terms' entries to
  // replicate, which is where commit-by-counting mistakes (raft's figure 8) show.
  let proposeChance = 0.7;
  while (cluster.now < end) {
    cluster.runFor(prng.int(1, 40));
    if (prng.chance(proposeChance)) cluster.propose();
    if (cluster.now >= nextFault) {
      fault(cluster);
      nextFault = cluster.now + prng.int(20, 600);
      if (prng.chance(0.2)) proposeChance = prng.pick([0, 0, 0.05, 0.3, 0.9]);
    }
  }
}

function fault(cluster: SimCluster): void {
  const prng = cluster.prng;
  const ids = cluster.ids;
  const alive = ids.filter((id) => cluster.node(id).alive);
  const roll = prng.int(0, 100);
  if (roll < 12) {
    // Split into two groups of random sizes.
    const shuffled = prng.shuffle([...ids]);
    const cut = prng.int(1, shuffled.length);
    cluster.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    cluster.trace(`partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
  } else if (roll < 18) {
    const leader = cluster.leader();
    const victim = leader !== undefined && prng.chance(0.7) ? leader.id : prng.pick(ids);
    cluster.network.isolate(victim, ids);
    cluster.trace(`isolate n${victim}`);
  } else if (roll < 24) {
    // One-way cuts: asymmetric links.
    for (let i = prng.int(1, 4); i > 0; i--) {
      const from = prng.pick(ids);
      const to = prng.pick(ids);
      if (from !== to) cluster.network.cut(from, to);
      cluster.trace(`cut n${from} -> n${to}`);
    }
  } else if (roll < 38) {
    cluster.network.heal();
    cluster.trace("heal");
  } else if (roll < 46) {
    cluster.network.conditions = {
      lossRate: prng.pick([0, 0, 0.05, 0.2, 0.4]),
      duplicateRate: prng.pick([0, 0.05, 0.2]),
      minDelayMs: 1,
      maxDelayMs: prng.pick([5, 30, 150]),
    };
    cluster.trace(`network ${JSON.stringify(cluster.network.conditions)}`);
  } else if (roll < 56) {
    if (alive.length > 0) {
      const leader = cluster.leader();
      cluster.crash(leader !== undefined && prng.chance(0.4) ? leader.id : prng.pick(alive));
    }
  } else if (roll < 68) {
    const down = ids.filter((id) => !cluster.node(id).alive && wasStarted(cluster, id));
    if (down.length > 0) cluster.start(prng.pick(down));
  } else if (roll < 86) {
    changeMembership(cluster);
  } else if (roll < 94) {
    const leader = cluster.leader();
    if (leader !== undefined) {
      const result = cluster.request(leader.id, (raft) => raft.transferLeadership(0n));
      cluster.trace(
        `n${leader.id} transfer -> ${result instanceof RaftError ? result.code : `n${result}`}`,
      );
    }
  } else {
    const leader = cluster.leader();
    if (leader !== undefined) cluster.request(leader.id, (raft) => raft.barrier());
  }
}

function wasStarted(cluster: SimCluster, id: NodeId): boolean {
  return cluster.node(id).restarts > 0;
}

function changeMembership(cluster: SimCluster): void {
  const prng = cluster.prng;
  const leader = cluster.leader();
  if (leader === undefined) return;
  const configuration = leader.raft!.configuration;
  const members = configuration.map((s) => s.id);
  const outsiders = cluster.ids.filter((id) => !members.includes(id));
  const voters = configuration.filter((s) => s.role === RaftRole.Voter).length;
  // Small clusters grow first, so that single-voter seeds soon have peers to fault.
  const nonVoters = configuration.filter((s) => s.role !== RaftRole.Voter);
  let roll = prng.int(0, 3);
  if (voters < 3 && prng.chance(0.7)) roll = nonVoters.length > 0 && prng.chance(0.6) ? 3 : 0;
  let description: string;
  let result: unknown;
  if (roll === 3) {
    const target = prng.pick(nonVoters);
    result = cluster.request(leader.id, (raft) => raft.assignRole(target.id, RaftRole.Voter));
    description = `assign n${target.id} Voter`;
  } else if (roll === 0 && outsiders.length > 0) {
    const id = prng.pick(outsiders);
    // A server joining starts empty unless it was a member before (then it keeps its disk).
    cluster.start(id);
    result = cluster.request(leader.id, (raft) => raft.addServer(id, cluster.node(id).address));
    description = `add n${id}`;
  } else if (roll === 1) {
    const target = prng.pick(configuration);
    const role = prng.pick([RaftRole.Voter, RaftRole.Voter, RaftRole.Standby, RaftRole.Spare]);
    if (target.role === RaftRole.Voter && role !== RaftRole.Voter && voters <= 1) return;
    result = cluster.request(leader.id, (raft) => raft.assignRole(target.id, role));
    description = `assign n${target.id} ${RaftRole[role]}`;
  } else {
    const target = prng.pick(configuration);
    if (target.role === RaftRole.Voter && voters <= 1) return;
    result = cluster.request(leader.id, (raft) => raft.removeServer(target.id));
    description = `remove n${target.id}`;
  }
  const outcome =
    result instanceof RaftError
      ? result.code
      : result === undefined
        ? "catching up"
        : JSON.stringify(result);
  cluster.trace(`n${leader.id} ${description}: ${outcome}`);
}

function heal(cluster: SimCluster): void {
  cluster.network.heal();
  cluster.network.conditions = { lossRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 10 };
  for (const id of cluster.ids) {
    if (!cluster.node(id).alive && wasStarted(cluster, id)) cluster.start(id);
  }
  cluster.trace("heal all, restart all");
}

/** Liveness: after healing, a leader commits a new entry and every member applies it. */
function checkProgress(cluster: SimCluster): void {
  const boundMs = 40 * cluster.options.electionTimeoutMs;
  const deadline = cluster.now + boundMs;
  let marker: { index: number; term: number; leader: NodeId } | undefined;
  const done = () => {
    const leader = cluster.leader();
    if (leader === undefined) return false;
    const raft = leader.raft!;
    if (marker === undefined || marker.term !== raft.term || marker.leader !== leader.id) {
      const proposed = cluster.propose(leader.id);
      if (proposed === undefined) return false;
      marker = { index: proposed.index, term: proposed.term, leader: leader.id };
      return false;
    }
    if (raft.termAt(marker.index) !== marker.term && raft.snapshotIndex < marker.index) {
      marker = undefined;
      return false;
    }
    const members = SimCluster.replicated(raft.configuration);
    return cluster.appliedEverywhere(marker.index, members);
  };
  if (!cluster.runUntilTrue(done, boundMs, 50)) {
    const states = cluster.ids
      .map((id) => {
        const node = cluster.node(id);
        const raft = node.raft;
        if (raft === null) return `n${id} down`;
        return (
          `n${id} ${raft.state} t${raft.term} leader ${raft.leaderId} last ${raft.lastIndex} ` +
          `commit ${raft.commitIndex} applied ${node.fsm.lastIndex} conf ` +
          raft.configuration.map((s) => `${s.id}:${RaftRole[s.role]}`).join(",")
        );
      })
      .join("\n");
    throw new InvariantViolation(
      `no progress within ${boundMs} ms after healing (until ${deadline});` +
        ` marker ${marker === undefined ? "none" : `${marker.index}/${marker.term} at n${marker.leader}`}\n${states}`,
    );
  }
}
