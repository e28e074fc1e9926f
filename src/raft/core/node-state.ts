// The state one raft server keeps, and the moves every role shares (terms, timers, the log's
// unstable tail, outgoing work). Role-specific behaviour lives in election.ts, follower.ts,
// leader.ts and membership.ts; the public face is raft.ts.

import { findServer, isVoter } from "./configuration.js";
import { decodeConfiguration } from "./configuration-codec.js";
import { ConfigurationHistory } from "./configuration-history.js";
import { invariant, RaftLoadError } from "./errors.js";
import type { LoadedState, ResolvedOptions } from "./options.js";
import type { Progress } from "./progress.js";
import { RaftLog } from "./raft-log.js";
import type { RaftEvent, RaftRoleState, SnapshotSend, SoftState } from "./ready.js";
import {
  type Configuration,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  type NodeId,
  type RaftRole,
  type Snapshot,
} from "./types.js";

export interface CandidateState {
  /** In the pre-vote round: nothing persisted, requests carry term + 1. */
  preVote: boolean;
  /** Started by TimeoutNow: voters forget the leader they know. */
  disruptLeader: boolean;
  granted: Set<NodeId>;
}

export interface Promotion {
  id: NodeId;
  round: number;
  roundIndex: number;
  roundStartMs: number;
}

export interface LeaderState {
  progress: Map<NodeId, Progress>;
  promotion: Promotion | null;
  /**
   * When this leader appended its entries `appendTimesFrom`, `appendTimesFrom + 1`, ... (pruned
   * below the commit index): a follower acknowledging one of them proves it heard from this
   * leader no earlier than that time. The read lease is built on it.
   */
  appendTimes: number[];
  appendTimesFrom: number;
}

export interface Transfer {
  target: NodeId;
  startMs: number;
  /** When TimeoutNow was last sent (resent at most once per heartbeat). */
  lastSentMs: number;
}

export class NodeState {
  readonly id: NodeId;
  readonly options: ResolvedOptions;

  term: number;
  votedFor: NodeId;
  role: RaftRoleState = "follower";
  /** Valid for the current term only. */
  leaderId: NodeId = 0n;

  readonly log: RaftLog;
  readonly configurations: ConfigurationHistory;
  commitIndex: number;
  /** Highest index handed out to the driver to apply (or restored from a snapshot). */
  lastApplied: number;
  /** Highest index known durable on this node's disk (matching the current log). */
  durableIndex: number;
  /** First index not yet handed out in a Ready, and the pending truncation point. */
  unstableFrom: number;
  truncateFrom: number | undefined;
  /** A snapshot received from the leader, being persisted by the driver. */
  installing: { index: number; term: number } | null = null;
  pendingSnapshot: Snapshot | null = null;

  electionStartMs: number;
  /**
   * A node that just started does not know whether it promised a leader to stay quiet: it
   * refuses votes (like a follower that knows a leader) for one election timeout, so that a
   * leader's read lease survives followers restarting.
   */
  voteGuardUntilMs: number;
  randomizedElectionTimeoutMs = 0;
  candidate: CandidateState | null = null;
  leader: LeaderState | null = null;
  transfer: Transfer | null = null;

  /** Follower: highest index known to match the current leader's log. */
  leaderMatchIndex = 0;
  /** Follower: last index acknowledged to the current leader. */
  lastAckIndex = 0;
  /** Follower: durable index grew; acknowledge it at the next `ready()`. */
  ackDue = false;

  /** Leader: bytes of entry data after the commit index. */
  uncommittedBytes = 0;
  /** Leader: replication may have work (new entries, a reply, a new follower). */
  flushDue = false;

  messages: Message[] = [];
  events: RaftEvent[] = [];
  snapshotSends: SnapshotSend[] = [];
  lastHardState: HardState;
  lastSoftState: SoftState;

  constructor(options: ResolvedOptions, loaded: LoadedState) {
    this.id = options.id;
    this.options = options;
    this.term = loaded.hardState.term;
    this.votedFor = loaded.hardState.votedFor;
    this.lastHardState = { ...loaded.hardState };

    const snapshot = loaded.snapshot;
    // Entries that end before the snapshot (applied before they were synced) add nothing to it.
    const loadedLast = loaded.entries[loaded.entries.length - 1];
    const entries =
      snapshot !== undefined && loadedLast !== undefined && loadedLast.index < snapshot.index
        ? []
        : loaded.entries;
    const firstIndex = entries.length > 0 ? entries[0].index : (snapshot?.index ?? 0) + 1;
    if (snapshot !== undefined && firstIndex > snapshot.index + 1) {
      throw new RaftLoadError(`entries start at ${firstIndex}, after snapshot ${snapshot.index}`);
    }
    if (snapshot === undefined && firstIndex !== 1) {
      throw new RaftLoadError(`entries start at ${firstIndex} without a snapshot`);
    }
    this.log = new RaftLog(snapshot?.index ?? 0, snapshot?.term ?? 0, firstIndex);
    this.configurations = new ConfigurationHistory(
      snapshot === undefined
        ? undefined
        : { index: snapshot.configurationIndex, configuration: snapshot.configuration },
    );
    for (const [i, entry] of entries.entries()) {
      if (entry.index !== firstIndex + i) {
        throw new RaftLoadError(`entry ${entry.index} where ${firstIndex + i} was expected`);
      }
      if (
        snapshot !== undefined &&
        entry.index === snapshot.index &&
        entry.term !== snapshot.term
      ) {
        throw new RaftLoadError(
          `entry ${entry.index} has term ${entry.term}, snapshot says ${snapshot.term}`,
        );
      }
      this.log.append(entry);
      if (entry.type === EntryType.Change && entry.index > (snapshot?.index ?? 0)) {
        this.configurations.append(entry.index, decodeConfiguration(entry.data));
      }
    }
    // libraft treats a log that starts with the bootstrap CHANGE at index 1 as committed there.
    const bootstrapped = snapshot === undefined && entries[0]?.type === EntryType.Change;
    this.commitIndex = snapshot?.index ?? (bootstrapped ? 1 : 0);
    this.lastApplied = snapshot?.index ?? 0;
    this.durableIndex = this.log.lastIndex;
    this.unstableFrom = this.log.lastIndex + 1;
    this.truncateFrom = undefined;
    this.electionStartMs = options.now();
    this.voteGuardUntilMs = options.voteGuardOnStart
      ? this.electionStartMs + options.electionTimeoutMs
      : Number.NEGATIVE_INFINITY;
    this.lastSoftState = { state: "follower", term: this.term, leaderId: 0n };
  }

  now(): number {
    return this.options.now();
  }

  get configuration(): Configuration {
    return this.configurations.current.configuration;
  }

  /** Index of the newest configuration if it is not committed yet, else 0. */
  get uncommittedConfigurationIndex(): number {
    const index = this.configurations.current.index;
    return index > this.commitIndex ? index : 0;
  }

  isVoter(id: NodeId = this.id): boolean {
    return isVoter(this.configuration, id);
  }

  /**
   * Voters campaign. So does a voter removed or demoted by a configuration that is not known
   * committed: if that leader died before committing it, the servers still on the previous
   * configuration may need this one to lead until it commits (libraft 0.15 deadlocks there).
   */
  mayCampaign(): boolean {
    if (this.isVoter()) return true;
    const current = this.configurations.current;
    if (current.index <= this.commitIndex) return false;
    return isVoter(this.configurations.at(current.index - 1).configuration, this.id);
  }

  roleOf(id: NodeId): RaftRole | undefined {
    return findServer(this.configuration, id)?.role;
  }

  send(message: Message): void {
    this.messages.push(message);
  }

  resetElectionTimer(): void {
    const timeout = this.options.electionTimeoutMs;
    this.randomizedElectionTimeoutMs = this.options.random(timeout, 2 * timeout);
    invariant(
      this.randomizedElectionTimeoutMs >= timeout && this.randomizedElectionTimeoutMs < 2 * timeout,
      "random() out of [min, max)",
    );
    this.electionStartMs = this.now();
  }

  electionTimerExpired(): boolean {
    return this.now() - this.electionStartMs >= this.randomizedElectionTimeoutMs;
  }

  /** Steps down (or stays) as a follower with no known leader and a fresh election timer. */
  becomeFollower(): void {
    this.role = "follower";
    this.candidate = null;
    this.leader = null;
    this.setLeader(0n);
    this.resetElectionTimer();
  }

  /** A higher term was seen: adopt it, forget the vote and any leader, follow. */
  bumpTerm(term: number): void {
    invariant(term > this.term, `bump to ${term} from ${this.term}`);
    this.term = term;
    this.votedFor = 0n;
    if (this.role !== "follower") this.becomeFollower();
    else this.setLeader(0n);
  }

  setLeader(id: NodeId): void {
    if (id !== this.leaderId) {
      this.leaderId = id;
      this.leaderMatchIndex = 0;
      this.lastAckIndex = 0;
      this.ackDue = false;
    }
  }

  /** Appends to the in-memory log; a CHANGE entry takes effect at once. */
  appendEntry(entry: Entry): void {
    this.log.append(entry);
    if (entry.type === EntryType.Change) {
      this.configurations.append(entry.index, decodeConfiguration(entry.data));
    }
  }

  /** Drops entries from `index` on (a follower's conflicting tail); reverts their configurations. */
  truncateLog(index: number): void {
    invariant(index > this.commitIndex, `truncating committed entry ${index}`);
    this.log.truncate(index);
    this.configurations.truncate(index);
    if (this.durableIndex >= index) this.durableIndex = index - 1;
    if (index < this.unstableFrom) {
      this.unstableFrom = index;
      this.truncateFrom = Math.min(this.truncateFrom ?? index, index);
    }
  }

  hardState(): HardState {
    return { term: this.term, votedFor: this.votedFor };
  }

  softState(): SoftState {
    return { state: this.role, term: this.term, leaderId: this.leaderId };
  }
}
