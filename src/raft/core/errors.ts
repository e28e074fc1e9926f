// Typed refusals of the raft core. A caller (the driver) maps them to dqlite's error codes.

/** Why the core refused a request. */
export type RaftErrorCode =
  /** This node is not the leader (or stopped being it). */
  | "notLeader"
  /** A leadership transfer is pending: the leader accepts nothing new until it ends. */
  | "leadershipTransferInProgress"
  /** A configuration change is uncommitted or a promotion is catching up. */
  | "cantChange"
  /** No server has this id. */
  | "notFound"
  /** The id is 0, or names a server that cannot take this action. */
  | "badId"
  /** The server already has this role, or the role is unknown. */
  | "badRole"
  /** A server with this id is already in the configuration. */
  | "duplicateId"
  /** A server with this address is already in the configuration. */
  | "duplicateAddress"
  /** A configuration that breaks a rule (empty, duplicate ids, no voter, bad role). */
  | "badConfiguration"
  /** The leader holds `maxUncommittedBytes` of entries not yet committed: retry later. */
  | "busy";

/** A request the raft core refused; `code` says why. */
export class RaftError extends Error {
  override name = "RaftError";
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The state handed to the core at start is inconsistent (a bug in the loader or a corrupt disk). */
export class RaftLoadError extends Error {
  override name = "RaftLoadError";
}

/** Crashes loudly when an invariant of the algorithm breaks: a bug, never bad input. */
export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`raft invariant violated: ${message}`);
}
