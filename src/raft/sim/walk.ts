// A random walk over single steps: each move delivers, drops or duplicates one message, ticks or
// times out one node on its own clock, completes one disk write, crashes a node, or proposes.
// Where the chaos runner plays out time, this explores orders of events one move at a time, so
// rare interleavings (a leader dying with an old-term entry half spread) come up far more often.
// Safety only: a walk makes no promise of progress.
import { bootstrapEntry } from "../core/configuration-entries.js";
import { RaftError } from "../core/errors.js";
import type { Ready } from "../core/ready.js";
import { type Message, type NodeId, RaftRole } from "../core/types.js";
import { InvariantChecker, InvariantViolation } from "./invariants.js";
import { Prng } from "./prng.js";
import { SimNode } from "./sim-node.js";

export interface WalkOptions {
  seed: number;
  /** Moves in the walk. Default 600. */
  moves?: number;
}

export interface WalkResult {
  seed: number;
  moves: number;
  committed: number;
  leaders: number;
}

export class WalkFailure extends Error {
  override name = "WalkFailure";
  constructor(
    readonly seed: number,
    override readonly cause: unknown,
    readonly trace: string,
  ) {
    super(
      `walk seed ${seed}: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        `replay: npm run sim -- --walk --seed ${seed}`,
    );
  }
}

const ELECTION_MS = 1000;
const HEARTBEAT_MS = 100;
/** Messages in the bag beyond this are dropped (oldest first), like a full socket buffer. */
const MAX_BAG = 400;

interface WalkNode {
  sim: SimNode;
  clockMs: number;
}

export function runWalk(options: WalkOptions): WalkResult {
  const seed = options.seed;
  const moves = options.moves ?? 600;
  const prng = new Prng(seed ^ 0x5bd1e995);
  const voters = prng.pick([3, 3, 5]);
  const snapshotThreshold = prng.pick([4, 16, 1000]);
  // Half the walks change membership and transfer leadership; the others keep to elections and
  // replication, where they dig deeper.
  const withChanges = prng.chance(0.5);
  const raftOptions = {
    electionTimeoutMs: ELECTION_MS,
    heartbeatTimeoutMs: HEARTBEAT_MS,
    preVote: prng.chance(0.5),
    barrierOnElection: prng.chance(0.5),
    maxAppendBytes: prng.pick([24, 48, 4096]),
    maxInflightMessages: prng.pick([1, 8]),
    snapshotTrailing: prng.pick([0, 2, 8]),
    // From its own generator, so that the walks' other choices stay what they were.
    logDataInMemoryBytes: new Prng(seed ^ 0x2c1b3c6d).pick([Number.POSITIVE_INFINITY, 0, 64]),
  };
  const checker = new InvariantChecker();
  const trace: string[] = [];
  const log = (line: string) => {
    trace.push(line);
    if (trace.length > 300) trace.shift();
  };
  let bag: Message[] = [];
  const nodes = new Map<NodeId, WalkNode>();
  const configuration = Array.from({ length: voters }, (_, i) => ({
    id: BigInt(i + 1),
    address: `n${i + 1}`,
    role: RaftRole.Voter,
  }));
  const bootstrap = bootstrapEntry(configuration);

  const start = (node: WalkNode) => {
    const raft = node.sim.start({
      ...raftOptions,
      now: () => node.clockMs,
      random: (min, max) => prng.int(min, max),
    });
    checker.onRestart(node.sim.id, raft);
  };

  const process = (node: WalkNode, ready: Ready) => {
    const sim = node.sim;
    const raft = sim.raft!;
    if (ready.soft !== undefined) {
      log(`n${sim.id} ${ready.soft.state} t${ready.soft.term}`);
      checker.onSoftState(sim.id, ready.soft, raft);
    }
    if (ready.hardState !== undefined) sim.disk.setHardState(ready.hardState);
    if (ready.snapshot !== undefined) {
      sim.mirror.reset(ready.snapshot.meta.index, ready.snapshot.meta.term);
      sim.disk.queueInstall(ready.snapshot, 0);
    }
    if (ready.truncateFromIndex !== undefined) sim.mirror.truncate(ready.truncateFromIndex);
    for (const entry of ready.entries) checker.onAppend(sim.id, sim.mirror, entry);
    if (ready.entries.length > 0 || ready.truncateFromIndex !== undefined) {
      sim.disk.queueWrite(ready.truncateFromIndex, ready.entries, 0);
    }
    for (const message of ready.messages) {
      const filled = sim.disk.withStoredData(message);
      if (filled !== null) bag.push(filled);
    }
    for (const send of ready.snapshotSends) {
      const snapshot = sim.disk.snapshot;
      if (snapshot === undefined)
        throw new InvariantViolation(`n${sim.id} has no snapshot to send`);
      bag.push({ type: "installSnapshot", from: sim.id, to: send.to, term: send.term, snapshot });
    }
    for (const entry of ready.committed) {
      sim.fsm.apply(entry);
      checker.onApply(sim.id, entry);
      checker.onFsmState(sim.id, entry.index, sim.fsm.hash);
    }
    if (sim.fsm.lastIndex - sim.snapshotIndex >= snapshotThreshold) {
      const meta = raft.snapshotMeta(sim.fsm.lastIndex);
      sim.disk.putSnapshot({ meta, data: sim.fsm.snapshot() }, raftOptions.snapshotTrailing);
      raft.snapshotTaken(meta.index);
      sim.snapshotIndex = meta.index;
    }
    if (bag.length > MAX_BAG) bag = bag.slice(bag.length - MAX_BAG);
  };

  const drive = (node: WalkNode) => {
    const raft = node.sim.raft;
    if (raft === null) return;
    for (let round = 0; raft.hasReady(); round++) {
      if (round > 1000) throw new InvariantViolation(`n${node.sim.id} ready never settles`);
      process(node, raft.ready());
    }
    checker.onCommit(node.sim.id, raft);
  };

  // With changes, two more servers start empty and may be added.
  for (let i = 1; i <= voters + (withChanges ? 2 : 0); i++) {
    const sim = new SimNode(BigInt(i), `n${i}`);
    if (i <= voters) {
      sim.disk.setHardState({ term: 1, votedFor: 0n });
      sim.disk.entries = [bootstrap];
    }
    const node = { sim, clockMs: 0 };
    nodes.set(sim.id, node);
    start(node);
    drive(node);
  }
  const all = [...nodes.values()];
  /** A membership change or a leadership transfer at a leader; refusals are fine. */
  const change = (leader: WalkNode) => {
    const raft = leader.sim.raft!;
    const members = raft.configuration;
    const target = prng.pick(all).sim.id;
    const role = prng.pick([RaftRole.Voter, RaftRole.Standby, RaftRole.Spare]);
    const voterCount = members.filter((s) => s.role === RaftRole.Voter).length;
    const isVoter = members.some((s) => s.id === target && s.role === RaftRole.Voter);
    try {
      const what = prng.int(0, 4);
      if (what === 0) raft.addServer(target, `n${target}`);
      else if (what === 1 && !(isVoter && role !== RaftRole.Voter && voterCount <= 1)) {
        raft.assignRole(target, role);
      } else if (what === 2 && !(isVoter && voterCount <= 1)) raft.removeServer(target);
      else if (what === 3) raft.transferLeadership(0n);
      log(`n${leader.sim.id} change ${what} n${target} ${RaftRole[role]}`);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
    }
    drive(leader);
  };
  let proposals = 0;
  try {
    for (let move = 0; move < moves; move++) {
      const roll = prng.int(0, 100);
      const node = prng.pick(all);
      const id = node.sim.id;
      if (roll < 40) {
        if (bag.length === 0) continue;
        const at = prng.int(0, bag.length);
        const message = bag[at];
        const duplicate = roll < 3;
        if (!duplicate) bag.splice(at, 1);
        const target = nodes.get(message.to);
        if (target?.sim.raft == null) continue;
        log(
          `deliver ${message.type} ${message.from}->${message.to} t${message.term}${duplicate ? " (dup)" : ""}`,
        );
        target.sim.raft.step(message);
        drive(target);
      } else if (roll < 46) {
        if (bag.length > 0) bag.splice(prng.int(0, bag.length), 1);
      } else if (roll < 62) {
        if (node.sim.raft === null) continue;
        node.clockMs += HEARTBEAT_MS;
        node.sim.raft.tick();
        drive(node);
      } else if (roll < 67) {
        if (node.sim.raft === null) continue;
        node.clockMs += 2 * ELECTION_MS;
        log(`n${id} times out`);
        node.sim.raft.tick();
        drive(node);
      } else if (roll < 83) {
        const raft = node.sim.raft;
        if (raft === null) continue;
        for (const op of node.sim.disk.completeDue(0, 1)) {
          if (op.kind === "write") raft.persisted(op.lastIndex, op.lastTerm);
          else {
            node.sim.fsm.restore(op.snapshot.data);
            node.sim.snapshotIndex = op.snapshot.meta.index;
            checker.onFsmState(id, node.sim.fsm.lastIndex, node.sim.fsm.hash);
            raft.persisted(op.snapshot.meta.index, op.snapshot.meta.term);
          }
        }
        drive(node);
      } else if (roll < 86) {
        log(`n${id} crashes and restarts`);
        node.sim.crash((disk) => disk.crash(prng));
        start(node);
        drive(node);
      } else if (roll < 89 && withChanges) {
        const leader = all.find((n) => n.sim.raft?.state === "leader");
        if (leader === undefined) continue;
        change(leader);
      } else {
        const leader = all.find((n) => n.sim.raft?.state === "leader" && prng.chance(0.8));
        if (leader === undefined) continue;
        for (let n = prng.int(1, 4); n > 0; n--) {
          const data = new Uint8Array(8);
          new DataView(data.buffer).setFloat64(0, ++proposals, true);
          try {
            leader.sim.raft!.propose(data);
            log(`n${leader.sim.id} proposes ${proposals}`);
          } catch (error) {
            if (!(error instanceof RaftError)) throw error;
          }
        }
        drive(leader);
      }
    }
  } catch (error) {
    throw new WalkFailure(seed, error, trace.join("\n"));
  }
  return { seed, moves, committed: checker.maxCommitted, leaders: checker.leaders.size };
}
