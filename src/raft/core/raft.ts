// The raft algorithm as a pure state machine (etcd-raft's shape, libraft 0.15's behaviour).
//
// How a driver uses it:
//   const raft = new Raft({ id, loaded, now, random });   // loaded: what is on disk
//   - call `raft.tick()` every heartbeatTimeoutMs (500 ms by default);
//   - call `raft.step(message)` for each message from a peer (`from` filled by the transport);
//   - call `raft.propose(data)` / `barrier()` / `addServer` / `assignRole` / `removeServer` /
//     `transferLeadership` for requests; they return the index the entry got or throw RaftError;
//   - whenever `raft.hasReady()`, take `raft.ready()` and do its work in the order documented on
//     `Ready` (persist hard state, install snapshot, queue the disk write, send, apply);
//   - when a disk write is durable call `raft.persisted(lastIndex, lastTerm)`; writes complete
//     in the order they were queued. Proposals made between two `ready()` calls share one write.
//   - when the FSM has taken a snapshot at an applied index, get its metadata from
//     `snapshotMeta(index)` before writing it and call `snapshotTaken(index)` once it is on
//     disk: the core then releases entries older than `snapshotTrailing` behind it (and beyond
//     `snapshotTrailingBytes` of data). When to take
//     a snapshot (libraft: every `threshold` applied entries) is the driver's choice.
// Nothing here reads a clock, a random source, a disk or a socket except through the options.

import { voterCount } from "./configuration.js";
import {
  becomeCandidate,
  handleRequestVote,
  handleRequestVoteResult,
  handleTimeoutNow,
  startElection,
} from "./election.js";
import { invariant } from "./errors.js";
import {
  flushAcknowledgement,
  handleAppendEntries,
  handleInstallSnapshot,
  handlePersisted,
} from "./follower.js";
import {
  type Appended,
  appendLocal,
  flushReplication,
  handleAppendEntriesResult,
  readLeaseUntilMs,
  tickLeader,
} from "./leader.js";
import {
  addServer,
  assignRole,
  checkAcceptsEntries,
  checkRoomFor,
  checkTransferDone,
  removeServer,
  tickPromotion,
  tickTransfer,
  transferLeadership,
  updateCatchUp,
} from "./membership.js";
import { NodeState } from "./node-state.js";
import { type RaftOptions, resolveOptions } from "./options.js";
import type { RaftRoleState, Ready, SoftState } from "./ready.js";
import {
  type Configuration,
  type Entry,
  EntryType,
  type Message,
  type NodeId,
  RaftRole,
  type SnapshotMeta,
} from "./types.js";

export type { Appended } from "./leader.js";

/** Fast failover (`failoverPauseMs`): the first follower's pause, then one turn per rank. */
const FAILOVER_FIRST_PAUSE_MS = 100;
const FAILOVER_TURN_MS = 250;

/** One raft server's consensus logic, without I/O. */
export class Raft {
  readonly #node: NodeState;

  constructor(options: RaftOptions) {
    this.#node = new NodeState(resolveOptions(options), options.loaded);
    this.#node.resetElectionTimer();
    // libraft: a server that is the only voter elects itself at start.
    const node = this.#node;
    if (node.isVoter() && voterCount(node.configuration) === 1) {
      becomeCandidate(node, false);
    }
  }

  /** This server's id. */
  get id(): NodeId {
    return this.#node.id;
  }

  /** Follower, candidate or leader. */
  get state(): RaftRoleState {
    return this.#node.role;
  }

  /** The current term. */
  get term(): number {
    return this.#node.term;
  }

  /** The leader this node knows for the current term (itself when leading), 0n if none. */
  get leaderId(): NodeId {
    return this.#node.leaderId;
  }

  /** Highest index known committed. */
  get commitIndex(): number {
    return this.#node.commitIndex;
  }

  /** Highest index handed out to apply (or restored from a snapshot). */
  get lastApplied(): number {
    return this.#node.lastApplied;
  }

  /** Index of the last entry in the log (or of the snapshot when the log is empty). */
  get lastIndex(): number {
    return this.#node.log.lastIndex;
  }

  /** Term of the entry at `index`, 0 when this node does not hold it. */
  termAt(index: number): number {
    return this.#node.log.termAt(index);
  }

  /** Index of the newest snapshot known to the core. */
  get snapshotIndex(): number {
    return this.#node.log.snapshotIndex;
  }

  /** The configuration in force (the newest appended, committed or not). */
  get configuration(): Configuration {
    return this.#node.configuration;
  }

  /** Index of the entry carrying the configuration in force (0: none). */
  get configurationIndex(): number {
    return this.#node.configurations.current.index;
  }

  /** Index of the last configuration known committed. */
  get committedConfigurationIndex(): number {
    return this.#node.configurations.at(this.#node.commitIndex).index;
  }

  /**
   * Until when (in the clock passed in) this leader may serve reads without a round trip to a
   * quorum; -Infinity when it may not (not leader, transfer pending, nothing acknowledged yet
   * in this term). A barrier renews it.
   */
  readLeaseUntilMs(): number {
    return readLeaseUntilMs(this.#node);
  }

  /** Target of the pending leadership transfer, 0n when none. */
  get transferTarget(): NodeId {
    return this.#node.transfer?.target ?? 0n;
  }

  /** Handles one message from a peer. `message.to` must be this node. */
  step(message: Message): void {
    const node = this.#node;
    if (message.to !== node.id || message.from === node.id) return;
    switch (message.type) {
      case "appendEntries":
        handleAppendEntries(node, message);
        break;
      case "appendEntriesResult":
        handleAppendEntriesResult(node, message, (id) => updateCatchUp(node, id));
        break;
      case "requestVote":
        handleRequestVote(node, message);
        break;
      case "requestVoteResult":
        handleRequestVoteResult(node, message);
        break;
      case "installSnapshot":
        handleInstallSnapshot(node, message);
        break;
      case "timeoutNow":
        handleTimeoutNow(node, message);
        break;
    }
    checkTransferDone(node);
  }

  /**
   * The driver has proof that leader `id` is gone (its address refuses connections: no process
   * listens there, so it serves nothing): forget it, so this node grants votes to others again
   * without waiting for the election timeout. The promise behind the read lease (no vote for an
   * election timeout after hearing from a leader) only ever protected that dead leader.
   */
  leaderUnreachable(id: NodeId): void {
    const node = this.#node;
    if (node.role !== "follower" || node.leaderId !== id || id === 0n) return;
    node.setLeader(0n);
    // The guard a restart puts on votes keeps a promise to whichever leader this node may have
    // acknowledged before it went down. That leader's term is at most this one: either it is
    // `id` (one leader per term), now gone, or an older one whose lease had run out before `id`
    // was elected. Keeping the guard would only make the others wait out the election timeout.
    node.voteGuardUntilMs = Number.NEGATIVE_INFINITY;
  }

  /**
   * How long to wait, after `leaderUnreachable(goneId)`, before `campaignIfLeaderless()`.
   * Followers that noticed together campaign in turns (by id) so they do not split the vote,
   * after a pause that lets every follower notice and forget the leader first (one that still
   * knows it refuses votes). A candidate whose log is behind is refused and the next one wins.
   * `jitter` is a random number in [0, 1).
   */
  failoverPauseMs(goneId: NodeId, jitter: number): number {
    const node = this.#node;
    const rank = node.configuration
      .filter((server) => server.role === RaftRole.Voter && server.id !== goneId)
      .map((server) => server.id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .indexOf(node.id);
    return FAILOVER_FIRST_PAUSE_MS + Math.max(0, rank) * FAILOVER_TURN_MS + jitter * 50;
  }

  /** Starts an election now (pre-vote first) if this follower knows no leader and may campaign. */
  campaignIfLeaderless(): void {
    const node = this.#node;
    if (node.role === "follower" && node.leaderId === 0n && node.mayCampaign()) {
      becomeCandidate(node, false);
    }
  }

  /** Advances timers: elections, heartbeats, check-quorum, catch-up and transfer deadlines. */
  tick(): void {
    const node = this.#node;
    switch (node.role) {
      case "follower":
        if (!node.electionTimerExpired()) break;
        if (node.mayCampaign()) becomeCandidate(node, false);
        else {
          // A server that may not campaign still forgets a silent leader, or its stickiness
          // would refuse votes forever (it may be a voter in a candidate's newer configuration).
          node.setLeader(0n);
          node.resetElectionTimer();
        }
        break;
      case "candidate":
        if (node.electionTimerExpired()) startElection(node);
        break;
      case "leader":
        tickLeader(node);
        if (node.role === "leader") tickPromotion(node);
        break;
    }
    tickTransfer(node);
  }

  /** Appends a COMMAND entry; returns its index and term. Throws RaftError unless leader. */
  propose(data: Uint8Array): Appended {
    checkRoomFor(this.#node, data.length);
    return appendLocal(this.#node, EntryType.Command, data);
  }

  /** Appends a BARRIER entry: when it is applied, everything before it is applied. */
  barrier(): Appended {
    checkAcceptsEntries(this.#node);
    return appendLocal(this.#node, EntryType.Barrier, new Uint8Array(8));
  }

  /** Adds a server as a spare. */
  addServer(id: NodeId, address: string): Appended {
    return addServer(this.#node, id, address);
  }

  /** Changes a server's role; a promotion to voter may first run catch-up rounds (undefined). */
  assignRole(id: NodeId, role: RaftRole): Appended | undefined {
    return assignRole(this.#node, id, role);
  }

  /** Removes a server. */
  removeServer(id: NodeId): Appended {
    return removeServer(this.#node, id);
  }

  /** Hands leadership to `id` (0n: pick the most up-to-date voter); returns the target. */
  transferLeadership(id: NodeId = 0n): NodeId {
    return transferLeadership(this.#node, id);
  }

  /** The driver made entries durable up to (index, term), or installed the snapshot at it. */
  persisted(index: number, term: number): void {
    handlePersisted(this.#node, index, term);
  }

  /**
   * Metadata of a snapshot of the FSM at `index` (applied, not older than the last one). Call it
   * when the FSM state is captured, before awaiting anything: an InstallSnapshot accepted
   * meanwhile releases the entries and this then throws RangeError.
   */
  snapshotMeta(index: number): SnapshotMeta {
    const node = this.#node;
    const term = node.log.termAt(index);
    if (index > node.lastApplied || index < node.log.snapshotIndex || term === 0) {
      throw new RangeError(
        `no snapshot possible at ${index} (applied ${node.lastApplied}, snapshot ${node.log.snapshotIndex})`,
      );
    }
    const { index: configurationIndex, configuration } = node.configurations.at(index);
    return { index, term, configuration, configurationIndex };
  }

  /** A snapshot at `index` is durable: release entries older than the trailing window. */
  snapshotTaken(index: number): void {
    const node = this.#node;
    if (index <= node.log.snapshotIndex) return;
    if (index > node.lastApplied) {
      throw new RangeError(`snapshot at ${index} beyond applied ${node.lastApplied}`);
    }
    node.log.compact(index, node.options.snapshotTrailing, node.options.snapshotTrailingBytes);
    node.configurations.forgetBefore(index);
  }

  /** True when `ready()` has work for the driver. */
  hasReady(): boolean {
    const node = this.#node;
    return (
      node.messages.length > 0 ||
      node.events.length > 0 ||
      node.snapshotSends.length > 0 ||
      node.pendingSnapshot !== null ||
      node.unstableFrom <= node.log.lastIndex ||
      node.truncateFrom !== undefined ||
      (Math.min(node.commitIndex, node.durableIndex) > node.lastApplied &&
        node.installing === null) ||
      node.ackDue ||
      (node.flushDue && node.role === "leader") ||
      !sameHardState(node) ||
      node.lastSoftState.state !== node.role ||
      node.lastSoftState.term !== node.term ||
      node.lastSoftState.leaderId !== node.leaderId
    );
  }

  /** Takes the pending work (see `Ready` for the order to do it in). */
  ready(): Ready {
    const node = this.#node;
    if (node.role === "leader" && node.flushDue) {
      node.flushDue = false;
      flushReplication(node);
    }
    flushAcknowledgement(node);
    const ready: Ready = {
      entries: [],
      messages: node.messages,
      snapshotSends: node.snapshotSends,
      committed: [],
      events: node.events,
    };
    node.messages = [];
    node.snapshotSends = [];
    node.events = [];
    if (!sameHardState(node)) {
      ready.hardState = node.hardState();
      node.lastHardState = ready.hardState;
    }
    if (node.pendingSnapshot !== null) {
      ready.snapshot = node.pendingSnapshot;
      node.pendingSnapshot = null;
    }
    if (node.truncateFrom !== undefined) ready.truncateFromIndex = node.truncateFrom;
    if (node.unstableFrom <= node.log.lastIndex) {
      ready.entries = node.log.slice(node.unstableFrom, node.log.lastIndex);
    }
    node.truncateFrom = undefined;
    node.unstableFrom = node.log.lastIndex + 1;
    ready.committed = takeCommitted(node);
    if (node.log.heldBytes > node.options.logDataInMemoryBytes) {
      // Applied and durable: storage has them for any follower that still needs them.
      node.log.dropData(
        Math.min(node.lastApplied, node.durableIndex),
        node.options.logDataInMemoryBytes,
      );
    }
    const soft = node.softState();
    if (!sameSoftState(node.lastSoftState, soft)) {
      ready.soft = soft;
      node.lastSoftState = soft;
    }
    return ready;
  }
}

function takeCommitted(node: NodeState): Entry[] {
  const out: Entry[] = [];
  if (node.installing !== null) return out;
  let bytes = 0;
  // Only entries durable here are applied, so a snapshot never covers entries the disk lacks.
  const applyTo = Math.min(node.commitIndex, node.durableIndex);
  while (node.lastApplied < applyTo) {
    const entry = node.log.get(node.lastApplied + 1);
    invariant(entry !== undefined, `committed entry ${node.lastApplied + 1} not in memory`);
    bytes += entry.data.length;
    if (out.length > 0 && bytes > node.options.maxCommittedBytesPerReady) break;
    out.push(entry);
    node.lastApplied++;
  }
  return out;
}

function sameHardState(node: NodeState): boolean {
  return node.lastHardState.term === node.term && node.lastHardState.votedFor === node.votedFor;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.state === b.state && a.term === b.term && a.leaderId === b.leaderId;
}
