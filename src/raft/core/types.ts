// Plain data shared by the raft core, its I/O and its users. No behaviour lives here.
//
// Node ids are u64 on every wire and disk format and the bootstrap id (0x2dc171858c3155be) does not
// fit a double, so ids are bigint. Terms and indexes stay far below 2^53 and are numbers.

/** A server's identity: a non-zero u64. */
export type NodeId = bigint;

/** Roles in libraft's numbering (dqlite's wire numbering differs: Voter 0, StandBy 1, Spare 2). */
export enum RaftRole {
  /** Replicates the log, does not vote. */
  Standby = 0,
  /** Replicates the log, votes, counts for quorum, can lead. */
  Voter = 1,
  /** Gets nothing, votes for nothing. */
  Spare = 2,
}

/** One member of a configuration. Configuration order is the order servers were added. */
export interface ServerInfo {
  id: NodeId;
  address: string;
  role: RaftRole;
}

export type Configuration = readonly ServerInfo[];

/** libraft entry types. */
export enum EntryType {
  /** An FSM command (dqlite: open/frames/undo/checkpoint). */
  Command = 1,
  /** No-op entry; applying it completes a barrier. 8 bytes of payload on the wire. */
  Barrier = 2,
  /** An encoded configuration (libraft's encoding); takes effect when appended. */
  Change = 3,
}

/**
 * A log entry. `data.length` must be a multiple of 8 (libraft's decoders assume it on the wire and
 * on disk).
 */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
  /**
   * Set on the core's stand-in for an applied entry whose data it no longer keeps in memory (see
   * `logDataInMemoryBytes`): `data` is empty and this is the length of the real data, which the
   * driver reads back from storage before the entry leaves the node.
   */
  droppedDataBytes?: number;
}

/** True for a stand-in whose data is only in storage. */
export function isDataDropped(entry: Entry): boolean {
  return entry.droppedDataBytes !== undefined;
}

/** What must be durable before votes are granted or terms acted on. */
export interface HardState {
  term: number;
  /** 0n when this node voted for nobody in `term`. */
  votedFor: NodeId;
}

/** Describes a snapshot: the state after applying every entry up to `index`. */
export interface SnapshotMeta {
  index: number;
  term: number;
  /** The configuration in force at `index`, and the index of the entry that carried it. */
  configuration: Configuration;
  configurationIndex: number;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The FSM's serialized state (dqlite: the snapshot encoding of engine-internals §2.5). */
  data: SnapshotData;
}

/**
 * Snapshot bytes: in memory, or a stream for snapshots too large to hold (a disk-mode database,
 * a snapshot file, one received into a temporary file). The core never looks inside.
 */
export type SnapshotData = Uint8Array | SnapshotStream;

/** Snapshot bytes read in chunks, in order, from wherever they are kept. */
export interface SnapshotStream {
  readonly sizeBytes: number;
  /**
   * The bytes, chunk by chunk (each chunk stays valid after the next is read). May be read
   * more than once until `release`.
   */
  chunks(): AsyncIterable<Uint8Array>;
  /** Lets go of what keeps the bytes readable (pinned pages, a temporary file). Idempotent. */
  release(): void;
}

// ---------------------------------------------------------------------------------------------
// Messages: the six libraft RPCs. `from`/`to` are not on libraft's wire (a receiver learns the
// sender from dqlite's CONNECT hand-off); the transport fills `from` on receipt.

interface Envelope {
  from: NodeId;
  to: NodeId;
  term: number;
}

export interface AppendEntries extends Envelope {
  type: "appendEntries";
  prevLogIndex: number;
  prevLogTerm: number;
  leaderCommit: number;
  entries: Entry[];
}

export interface AppendEntriesResult extends Envelope {
  type: "appendEntriesResult";
  /** 0 on success, else the prevLogIndex that did not match. */
  rejected: number;
  /** On success the last index now durable; on rejection the follower's last index (a hint). */
  lastLogIndex: number;
}

export interface RequestVote extends Envelope {
  type: "requestVote";
  candidateId: NodeId;
  lastLogIndex: number;
  lastLogTerm: number;
  /** Set by a leadership transfer: voters forget the leader they know. */
  disruptLeader: boolean;
  /** A pre-vote: `term` is the candidate's term + 1, nothing is persisted by anyone. */
  preVote: boolean;
}

export interface RequestVoteResult extends Envelope {
  type: "requestVoteResult";
  voteGranted: boolean;
  /** This answers a pre-vote (then `term` is the request's term). */
  preVote: boolean;
}

export interface InstallSnapshot extends Envelope {
  type: "installSnapshot";
  snapshot: Snapshot;
}

export interface TimeoutNow extends Envelope {
  type: "timeoutNow";
  lastLogIndex: number;
  lastLogTerm: number;
}

export type Message =
  | AppendEntries
  | AppendEntriesResult
  | RequestVote
  | RequestVoteResult
  | InstallSnapshot
  | TimeoutNow;
