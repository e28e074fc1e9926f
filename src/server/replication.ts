// What the gateway needs from raft. The Node implements it over the raft driver; tests implement
// it in memory. Roles here are in dqlite's wire numbering (Voter 0, StandBy 1, Spare 2).
import type { Role } from "../wire/index.js";

export interface Member {
  id: bigint;
  address: string;
  role: Role;
}

/** Why raft refused or failed a request; the gateway turns it into a wire Failure. */
export type ReplicationErrorKind =
  /** This node is not the leader (nothing was applied). */
  | "not-leader"
  /** Leadership was lost while the entry was in flight: it may or may not commit. */
  | "leadership-lost"
  /** Another configuration change is in progress. */
  | "cant-change"
  /** The disk is full. */
  | "no-space"
  /** The node is shutting down. */
  | "shutdown"
  /** Anything else; the message says what. */
  | "other";

export class ReplicationError extends Error {
  override name = "ReplicationError";
  readonly kind: ReplicationErrorKind;

  constructor(kind: ReplicationErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface Replication {
  /** True while this node is the raft leader and not handing leadership over. */
  isLeader(): boolean;
  /** True when this node is a voter in the configuration in force. */
  isVoter(): boolean;
  /** The leader this node knows of (itself when leading), or null. */
  leader(): { id: bigint; address: string } | null;
  /**
   * Replicates an FSM command: throws ReplicationError at once if raft refuses it; otherwise
   * the entry is in the log (later proposals come after it) and the promise resolves once raft
   * committed it and the FSM applied it here, or rejects with ReplicationError.
   */
  propose(command: Uint8Array): Promise<void>;
  /** Resolves once every entry committed before the call has been applied here. */
  barrier(): Promise<void>;
  /**
   * Until when (performance.now() clock) this leader may serve reads without asking a quorum;
   * a barrier renews it.
   */
  readLeaseUntilMs(): number;
  /** The configuration in force, in the order servers were added. */
  members(): Member[];
  add(id: bigint, address: string): Promise<void>;
  assign(id: bigint, role: Role): Promise<void>;
  remove(id: bigint): Promise<void>;
  /** Hands leadership to `id` (0n: the most suitable voter); resolves once this node is not leader. */
  transfer(id: bigint): Promise<void>;
  /** Subscribes to leadership changes of this node; returns the unsubscribe function. */
  onLeadershipChange(listener: (isLeader: boolean) => void): () => void;
}
