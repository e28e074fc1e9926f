// A deterministic cluster: raft cores wired to a simulated network, disks and state machines,
// driven by one virtual clock and one seeded PRNG. Every step is followed by the invariant
// checks; scenario tests and the chaos runner build on the controls below.
import { bootstrapEntry } from "../core/configuration-entries.js";
import { RaftError } from "../core/errors.js";
import type { Raft } from "../core/raft.js";
import type { Ready } from "../core/ready.js";
import {
  type Configuration,
  type Message,
  type NodeId,
  RaftRole,
  type ServerInfo,
} from "../core/types.js";
import { needsStoredData } from "../node/stored-data.js";
import { EventQueue } from "./event-queue.js";
import { InvariantChecker, InvariantViolation } from "./invariants.js";
import { Prng } from "./prng.js";
import type { InFlight } from "./sim-network.js";
import { SimNetwork } from "./sim-network.js";
import { SimNode } from "./sim-node.js";

export interface SimClusterOptions {
  seed: number;
  /** Ids 1..voters start as voters of the bootstrap configuration. */
  voters: number;
  /** Further ids (voters+1..voters+spareIds) exist and may be added later. */
  spareIds?: number;
  electionTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  preVote?: boolean;
  barrierOnElection?: boolean;
  /** Take an FSM snapshot every this many applied entries. */
  snapshotThreshold?: number;
  snapshotTrailing?: number;
  /** Bytes of trailing entries the cores keep in memory (default 32 MiB, the core's). */
  snapshotTrailingBytes?: number;
  /** Data of applied entries the cores keep in memory (default: all, the core's default). */
  logDataInMemoryBytes?: number;
  maxInflightMessages?: number;
  maxAppendBytes?: number;
  /** Disk write latency range. */
  minDiskMs?: number;
  maxDiskMs?: number;
  /** Lines of trace kept for failure reports. */
  traceLines?: number;
  /**
   * Chance that the next event is picked among the first few pending ones instead of the
   * earliest: events then happen late, out of order (messages, ticks and disk completions).
   */
  shuffleChance?: number;
}

type SimEvent =
  | { kind: "tick"; id: NodeId; generation: number }
  | { kind: "deliver"; flight: InFlight }
  | { kind: "disk"; id: NodeId; generation: number }
  | { kind: "call"; fn: () => void };

/** Bound on ready() rounds after one event: more means the core never settles. */
const MAX_READY_ROUNDS = 1000;

export class SimCluster {
  readonly options: Required<SimClusterOptions>;
  readonly prng: Prng;
  readonly network: SimNetwork;
  readonly checker = new InvariantChecker();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly #events = new EventQueue<SimEvent>();
  #now = 0;
  #stepCount = 0;
  readonly #trace: string[] = [];
  #proposalCounter = 0;
  /** What happened in the run, to judge that a seed exercised something. */
  readonly stats = {
    crashes: 0,
    snapshotsInstalled: 0,
    snapshotsTaken: 0,
    truncations: 0,
    leaderChanges: 0,
    events: 0,
    messages: 0,
    /** AppendEntries whose entries' data a leader read back from its disk. */
    readBacks: 0,
  };
  /** Called when a node becomes leader (the chaos runner uses it to crash new leaders). */
  onLeader: ((id: NodeId) => void) | undefined;

  constructor(options: SimClusterOptions) {
    this.options = {
      spareIds: 0,
      electionTimeoutMs: 1000,
      heartbeatTimeoutMs: 100,
      preVote: true,
      barrierOnElection: true,
      snapshotThreshold: 64,
      snapshotTrailing: 32,
      snapshotTrailingBytes: 32 * 1024 * 1024,
      logDataInMemoryBytes: Number.POSITIVE_INFINITY,
      maxInflightMessages: 32,
      maxAppendBytes: 64 * 1024,
      minDiskMs: 1,
      maxDiskMs: 8,
      traceLines: 400,
      shuffleChance: 0,
      ...options,
    };
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng);
    const configuration: ServerInfo[] = [];
    for (let i = 1; i <= this.options.voters; i++) {
      configuration.push({ id: BigInt(i), address: `n${i}`, role: RaftRole.Voter });
    }
    const bootstrap = bootstrapEntry(configuration);
    for (let i = 1; i <= this.options.voters + this.options.spareIds; i++) {
      const node = new SimNode(BigInt(i), `n${i}`);
      if (i <= this.options.voters) {
        node.disk.setHardState({ term: 1, votedFor: 0n });
        node.disk.entries = [bootstrap];
      }
      this.nodes.set(node.id, node);
    }
    for (const node of this.nodes.values()) {
      if (node.disk.entries.length > 0) this.start(node.id);
    }
  }

  get now(): number {
    return this.#now;
  }

  get steps(): number {
    return this.#stepCount;
  }

  get ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    const raft = this.node(id).raft;
    if (raft === null) throw new Error(`node ${id} is down`);
    return raft;
  }

  trace(line: string): void {
    this.#trace.push(`[${this.#now}] ${line}`);
    if (this.#trace.length > this.options.traceLines) this.#trace.shift();
  }

  get traceText(): string {
    return this.#trace.join("\n");
  }

  // ------------------------------------------------------------------ node lifecycle

  /** Starts a node from its disk (an empty disk: a fresh server waiting to be added). */
  start(id: NodeId): void {
    const node = this.node(id);
    if (node.alive) return;
    node.restarts++;
    const raft = node.start({
      now: () => this.#now,
      random: (min, max) => this.prng.int(min, max),
      electionTimeoutMs: this.options.electionTimeoutMs,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      preVote: this.options.preVote,
      barrierOnElection: this.options.barrierOnElection,
      snapshotTrailing: this.options.snapshotTrailing,
      snapshotTrailingBytes: this.options.snapshotTrailingBytes,
      logDataInMemoryBytes: this.options.logDataInMemoryBytes,
      maxInflightMessages: this.options.maxInflightMessages,
      maxAppendBytes: this.options.maxAppendBytes,
      maxCatchUpRoundDurationMs: 20 * this.options.electionTimeoutMs,
      maxCatchUpRounds: 10,
      voteGuardOnStart: true,
    });
    this.checker.onRestart(id, raft);
    this.trace(
      `n${id} start (term ${raft.term}, last ${raft.lastIndex}, commit ${raft.commitIndex})`,
    );
    const phase = this.prng.int(0, this.options.heartbeatTimeoutMs);
    this.#events.push(this.#now + phase, { kind: "tick", id, generation: node.restarts });
    this.#drive(node);
  }

  /** Power loss: the process dies, unsynced writes are lost or torn. */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.alive) return;
    this.trace(`n${id} crash`);
    this.stats.crashes++;
    const generation = node.restarts;
    node.crash((disk) => disk.crash(this.prng));
    this.#probeDeadLeader(id, generation);
  }

  /**
   * The driver's fast failover (raft-node.ts): each follower of a crashed leader sees its
   * connection close, finds the address refusing connections (unless the node is back by then),
   * forgets the leader and, after a pause ranked by id, campaigns.
   */
  #probeDeadLeader(deadId: NodeId, deadGeneration: number): void {
    const followers = [...this.nodes.values()].filter(
      (n) => n.raft !== null && n.raft.state === "follower" && n.raft.leaderId === deadId,
    );
    for (const follower of followers) {
      const generation = follower.restarts;
      const alive = () => follower.raft !== null && follower.restarts === generation;
      const probedAt = this.#now + this.prng.int(1, 20);
      this.#events.push(probedAt, {
        kind: "call",
        fn: () => {
          const dead = this.node(deadId);
          if (!alive() || dead.alive || dead.restarts !== deadGeneration) return;
          const raft = follower.raft!;
          this.trace(`n${follower.id} finds leader n${deadId} gone`);
          raft.leaderUnreachable(deadId);
          const pauseMs = raft.failoverPauseMs(deadId, this.prng.int(0, 1000) / 1000);
          this.#events.push(this.#now + pauseMs, {
            kind: "call",
            fn: () => {
              if (!alive()) return;
              follower.raft!.campaignIfLeaderless();
              this.#drive(follower);
            },
          });
          this.#drive(follower);
        },
      });
    }
  }

  // ------------------------------------------------------------------ time

  /** Runs every event due up to `untilMs`. */
  runUntil(untilMs: number): void {
    for (;;) {
      const next = this.#events.peekTime();
      if (next === undefined || next > untilMs) break;
      let position = 0;
      if (this.options.shuffleChance > 0 && this.prng.chance(this.options.shuffleChance)) {
        position = this.prng.int(0, Math.min(8, this.#events.size));
        if (this.#events.peekTime(position)! > untilMs) position = 0;
      }
      // Picking a later event moves the clock to it: the ones passed over run late.
      const event = this.#events.popAt(position)!;
      this.#now = Math.max(this.#now, event.atMs);
      this.#handle(event.value);
    }
    this.#now = Math.max(this.#now, untilMs);
  }

  runFor(ms: number): void {
    this.runUntil(this.#now + ms);
  }

  /** Runs until `done()` holds (checked every `stepMs`); false if `maxMs` passes first. */
  runUntilTrue(done: () => boolean, maxMs: number, stepMs = 10): boolean {
    const deadline = this.#now + maxMs;
    while (!done()) {
      if (this.#now >= deadline) return false;
      this.runFor(Math.min(stepMs, deadline - this.#now));
    }
    return true;
  }

  /** Schedules `fn` at `atMs` (for scripted faults). */
  at(atMs: number, fn: () => void): void {
    this.#events.push(atMs, { kind: "call", fn });
  }

  #handle(event: SimEvent): void {
    this.#stepCount++;
    switch (event.kind) {
      case "tick": {
        const node = this.node(event.id);
        if (node.raft === null || node.restarts !== event.generation) return;
        node.raft.tick();
        this.#events.push(this.#now + this.options.heartbeatTimeoutMs, event);
        this.#drive(node);
        return;
      }
      case "deliver": {
        if (!this.network.arrives(event.flight)) return;
        const node = this.nodes.get(event.flight.message.to);
        if (node?.raft == null) return;
        node.raft.step(event.flight.message);
        this.#drive(node);
        return;
      }
      case "disk": {
        const node = this.node(event.id);
        if (node.raft === null || node.restarts !== event.generation) return;
        for (const op of node.disk.completeDue(this.#now)) {
          if (op.kind === "write") node.raft.persisted(op.lastIndex, op.lastTerm);
          else {
            node.fsm.restore(op.snapshot.data);
            node.snapshotIndex = op.snapshot.meta.index;
            this.checker.onFsmState(node.id, node.fsm.lastIndex, node.fsm.hash);
            node.raft.persisted(op.snapshot.meta.index, op.snapshot.meta.term);
          }
        }
        this.#drive(node);
        return;
      }
      case "call":
        event.fn();
        return;
    }
  }

  // ------------------------------------------------------------------ the driver

  #drive(node: SimNode): void {
    for (let round = 0; node.raft?.hasReady(); round++) {
      if (round >= MAX_READY_ROUNDS)
        throw new InvariantViolation(`n${node.id} ready never settles`);
      this.#process(node, node.raft.ready());
    }
    if (node.raft !== null) this.checker.onCommit(node.id, node.raft);
  }

  /**
   * Read-lease safety: when a node starts leading a term, no leader of an older term may still
   * hold a read lease (it would serve reads that miss this leader's writes).
   */
  #checkReadLeases(newLeader: NodeId, term: number): void {
    for (const other of this.nodes.values()) {
      const raft = other.raft;
      if (other.id === newLeader || raft === null || raft.state !== "leader") continue;
      if (raft.term < term && raft.readLeaseUntilMs() > this.#now) {
        throw new InvariantViolation(
          `n${other.id} holds a read lease until ${raft.readLeaseUntilMs()} at ${this.#now} while n${newLeader} leads term ${term}`,
        );
      }
    }
  }

  #diskDoneAt(): number {
    return this.#now + this.prng.int(this.options.minDiskMs, this.options.maxDiskMs + 1);
  }

  #process(node: SimNode, ready: Ready): void {
    const raft = node.raft!;
    const id = node.id;
    if (ready.soft !== undefined) {
      this.trace(
        `n${id} ${ready.soft.state} term ${ready.soft.term} leader ${ready.soft.leaderId}`,
      );
      this.checker.onSoftState(id, ready.soft, raft);
      if (ready.soft.state === "leader") this.#checkReadLeases(id, ready.soft.term);
      if (ready.soft.state === "leader") {
        this.stats.leaderChanges++;
        this.onLeader?.(id);
      }
    }
    if (ready.hardState !== undefined) node.disk.setHardState(ready.hardState);
    if (ready.snapshot !== undefined) {
      const meta = ready.snapshot.meta;
      this.trace(`n${id} installs snapshot ${meta.index}/${meta.term}`);
      this.stats.snapshotsInstalled++;
      node.mirror.reset(meta.index, meta.term);
      this.#scheduleDisk(node, node.disk.queueInstall(ready.snapshot, this.#diskDoneAt()));
    }
    if (ready.truncateFromIndex !== undefined) {
      this.trace(`n${id} truncates from ${ready.truncateFromIndex}`);
      this.stats.truncations++;
      node.mirror.truncate(ready.truncateFromIndex);
    }
    for (const entry of ready.entries) this.checker.onAppend(id, node.mirror, entry);
    if (ready.entries.length > 0 || ready.truncateFromIndex !== undefined) {
      const doneAt = node.disk.queueWrite(
        ready.truncateFromIndex,
        ready.entries,
        this.#diskDoneAt(),
      );
      this.#scheduleDisk(node, doneAt);
    }
    this.stats.messages += ready.messages.length;
    for (const message of ready.messages) this.#send(message);
    for (const send of ready.snapshotSends) {
      const snapshot = node.disk.snapshot;
      if (snapshot === undefined)
        throw new InvariantViolation(`n${id} asked to send a snapshot it lacks`);
      this.trace(`n${id} sends snapshot ${snapshot.meta.index} to n${send.to}`);
      this.#send({ type: "installSnapshot", from: id, to: send.to, term: send.term, snapshot });
    }
    for (const entry of ready.committed) {
      node.fsm.apply(entry);
      this.checker.onApply(id, entry);
      this.checker.onFsmState(id, entry.index, node.fsm.hash);
    }
    for (const event of ready.events) {
      this.stats.events++;
      this.trace(
        `n${id} event ${JSON.stringify(event, (_k, v) => (typeof v === "bigint" ? `${v}` : v))}`,
      );
    }
    if (node.fsm.lastIndex - node.snapshotIndex >= this.options.snapshotThreshold) {
      const meta = raft.snapshotMeta(node.fsm.lastIndex);
      node.disk.putSnapshot({ meta, data: node.fsm.snapshot() }, this.options.snapshotTrailing);
      raft.snapshotTaken(meta.index);
      this.stats.snapshotsTaken++;
      node.snapshotIndex = meta.index;
    }
  }

  #scheduleDisk(node: SimNode, doneAtMs: number): void {
    this.#events.push(doneAtMs, { kind: "disk", id: node.id, generation: node.restarts });
  }

  #send(message: Message): void {
    if (needsStoredData(message)) {
      // As the driver does: the stand-ins' data comes from the sender's disk (lost if gone).
      const filled = this.nodes.get(message.from)!.disk.withStoredData(message);
      this.trace(`n${message.from} reads entries back from disk: ${filled ? "ok" : "gone"}`);
      if (filled === null) return;
      this.stats.readBacks++;
      message = filled;
    }
    for (const flight of this.network.send(message, this.#now)) {
      this.#events.push(flight.deliverAtMs, { kind: "deliver", flight });
    }
  }

  // ------------------------------------------------------------------ client requests

  /** The alive leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      const raft = node.raft;
      if (raft === null || raft.state !== "leader") continue;
      if (best === undefined || raft.term > best.raft!.term) best = node;
    }
    return best;
  }

  /** Proposes a unique 8-byte command at `id` (default: the leader). */
  propose(id?: NodeId): { index: number; term: number; data: Uint8Array } | undefined {
    const node = id === undefined ? this.leader() : this.node(id);
    if (node?.raft == null) return undefined;
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat64(0, ++this.#proposalCounter, true);
    try {
      const appended = node.raft.propose(data);
      this.#drive(node);
      return { ...appended, data };
    } catch (error) {
      if (error instanceof RaftError) return undefined;
      throw error;
    }
  }

  /** Runs `fn` on a node's core and drives it; RaftErrors come back as values. */
  request<T>(id: NodeId, fn: (raft: Raft) => T): T | RaftError {
    const node = this.node(id);
    try {
      const result = fn(this.raft(id));
      this.#drive(node);
      return result;
    } catch (error) {
      if (error instanceof RaftError) return error;
      throw error;
    }
  }

  /** True when `index` is applied with the same entry on every listed alive node. */
  appliedEverywhere(index: number, ids: readonly NodeId[]): boolean {
    return ids.every((id) => {
      const node = this.node(id);
      return node.raft === null || node.fsm.lastIndex >= index;
    });
  }

  /** Ids of a configuration's servers that receive the log (voters and standbys). */
  static replicated(configuration: Configuration): NodeId[] {
    return configuration.filter((s) => s.role !== RaftRole.Spare).map((s) => s.id);
  }
}
