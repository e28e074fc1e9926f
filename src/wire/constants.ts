// Numbers the dqlite client protocol puts on the wire (client-protocol.md §1, §4-7, §11).

/** The handshake word of the current protocol. */
export const PROTOCOL_VERSION = 1n;
/** The pre-1.0 handshake word; only changes the Leader response to the NodeLegacy shape. */
export const PROTOCOL_VERSION_LEGACY = 0x86104dd760433fe5n;
/** Heartbeat timeout a server reports in Welcome (milliseconds); nobody enforces it. */
export const HEARTBEAT_TIMEOUT_MS = 15_000;
/** The id go-dqlite gives the node that bootstraps a cluster. */
export const BOOTSTRAP_ID = 0x2dc171858c3155ben;

/** Size of the message header and of the handshake. */
export const HEADER_SIZE_BYTES = 8;
/** dqlite ends a Rows message once it has reached this size (the OS page size), header included. */
export const ROWS_PART_SIZE_BYTES = 4096;
/**
 * Default bound on one message (header + body) for the stream decoder. Rows split at 4 KiB and
 * requests are SQL text plus parameters, so only single huge values and Dump responses come near
 * it; it bounds the memory a peer can make one connection hold. Raise it to Dump big databases.
 */
export const DEFAULT_MAX_MESSAGE_SIZE_BYTES = 64 * 1024 * 1024;

/** Request type codes (header byte 4, client to server). */
export enum RequestType {
  Leader = 0,
  Client = 1,
  Heartbeat = 2,
  Open = 3,
  Prepare = 4,
  Exec = 5,
  Query = 6,
  Finalize = 7,
  ExecSql = 8,
  QuerySql = 9,
  Interrupt = 10,
  Connect = 11,
  Add = 12,
  Assign = 13,
  Remove = 14,
  Dump = 15,
  Cluster = 16,
  Transfer = 17,
  Describe = 18,
  Weight = 19,
}

/** Response type codes (header byte 4, server to client). */
export enum ResponseType {
  Failure = 0,
  Node = 1,
  Welcome = 2,
  Servers = 3,
  Db = 4,
  Stmt = 5,
  Result = 6,
  Rows = 7,
  Empty = 8,
  Files = 9,
  Metadata = 10,
}

/** Value type codes of parameter and row tuples. */
export enum ValueType {
  Integer = 1,
  Float = 2,
  Text = 3,
  Blob = 4,
  Null = 5,
  /** int64 seconds since the epoch; rows only (servers refuse it as a parameter). */
  UnixTime = 9,
  /** Text holding a date/time. */
  Iso8601 = 10,
  /** uint64 0/1. */
  Boolean = 11,
}

/** Node roles in dqlite's wire numbering (libraft's own enum differs). */
export enum Role {
  Voter = 0,
  StandBy = 1,
  Spare = 2,
}

/** Failure codes seen on the wire (SQLite's, extended ones, and dqlite's own). */
export enum ErrorCode {
  /** Prepare/QuerySQL of an empty statement; clients treat it as a broken connection. */
  EmptyStatement = 0,
  Error = 1,
  Busy = 5,
  IoErr = 10,
  NotFound = 12,
  Protocol = 15,
  Auth = 23,
  Range = 25,
  Row = 100,
  ConstraintNotNull = 1299,
  ConstraintPrimaryKey = 1555,
  ConstraintUnique = 2067,
  ConstraintForeignKey = 787,
  DqliteProto = 1001,
  DqliteNotFound = 1002,
  DqliteParse = 1005,
  /** SQLITE_IOERR_NOT_LEADER = 10 | (40 << 8). */
  NotLeader = 10250,
  /** SQLITE_IOERR_LEADERSHIP_LOST = 10 | (41 << 8). */
  LeadershipLost = 10506,
  /** Pre-"replication4" not-leader code; clients still recognise it, never emit it. */
  NotLeaderLegacy = 8202,
  /** Pre-"replication4" leadership-lost code; never emit it. */
  LeadershipLostLegacy = 8458,
}

/** The last word of a Rows message that more Rows messages follow. */
export const ROWS_PART_MARKER = 0xeeeeeeeeeeeeeeeen;
/** The last word of the final Rows message of a result. */
export const ROWS_DONE_MARKER = 0xffffffffffffffffn;
