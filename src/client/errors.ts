// The errors the client raises. Everything coming from the cluster or the network is a DqliteError;
// bad arguments from the caller are TypeError/RangeError, as in the rest of JavaScript.
import { ErrorCode } from "../wire/index.js";

/** Base class of every error raised by the dqlite client. */
export class DqliteError extends Error {
  override name = "DqliteError";
}

/** The server answered with a Failure: SQLite's (extended) result code and message. */
export class SqliteError extends DqliteError {
  override name = "SqliteError";
  /** The code on the wire: an SQLite extended result code or one of dqlite's own (1001-1005). */
  readonly code: number;
  /** Symbolic name of the code, e.g. "SQLITE_CONSTRAINT_UNIQUE". */
  readonly codeName: string;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
    this.codeName = codeName(code);
  }

  /** The primary SQLite result code (the low byte), e.g. 19 for every constraint failure. */
  get primaryCode(): number {
    return this.code & 0xff;
  }
}

/**
 * The node is not the leader (code 10250, legacy 8202): the request was refused before anything
 * was applied. The SQL API retries such statements on the new leader by itself.
 */
export class NotLeaderError extends SqliteError {
  override name = "NotLeaderError";
}

/**
 * The node lost leadership while the request was being replicated (code 10506, legacy 8458):
 * the write may or may not have been committed.
 */
export class LeadershipLostError extends SqliteError {
  override name = "LeadershipLostError";
}

/** The connection to a node failed: dial error, socket closed, or bytes that break the protocol. */
export class ConnectionError extends DqliteError {
  override name = "ConnectionError";
  /** The node's address. */
  readonly address: string;
  /** The request had (maybe) reached the server when the connection failed: its outcome is unknown. */
  readonly requestSent: boolean;

  constructor(address: string, message: string, requestSent: boolean, options?: ErrorOptions) {
    super(`${address}: ${message}`, options);
    this.address = address;
    this.requestSent = requestSent;
  }
}

/** Leader discovery gave up (deadline, retry limit): go-dqlite's ErrNoAvailableLeader. */
export class NoLeaderError extends DqliteError {
  override name = "NoLeaderError";

  constructor(options?: ErrorOptions) {
    super("no available dqlite leader server found", options);
  }
}

/** An operation did not finish within its `timeoutMs`. */
export class TimeoutError extends DqliteError {
  override name = "TimeoutError";
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`operation timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A transaction's connection or leader was lost. The transaction is never retried by the client.
 * `outcome` says what became of it: "rolled-back" (nothing was committed) or "unknown" (the
 * connection failed while COMMIT was in flight).
 */
export class TransactionLostError extends DqliteError {
  override name = "TransactionLostError";
  readonly outcome: "rolled-back" | "unknown";

  constructor(outcome: "rolled-back" | "unknown", options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      outcome === "unknown"
        ? `transaction lost while committing, its outcome is unknown${cause}`
        : `transaction lost and rolled back${cause}`,
      options,
    );
    this.outcome = outcome;
  }
}

/** The error for a Failure response: the subclass tells leader changes apart. */
export function failureError(code: number, message: string): SqliteError {
  switch (code) {
    case ErrorCode.NotLeader:
    case ErrorCode.NotLeaderLegacy:
      return new NotLeaderError(code, message);
    case ErrorCode.LeadershipLost:
    case ErrorCode.LeadershipLostLegacy:
      return new LeadershipLostError(code, message);
    default:
      return new SqliteError(code, message);
  }
}

const PRIMARY_NAMES: readonly string[] = [
  "SQLITE_OK",
  "SQLITE_ERROR",
  "SQLITE_INTERNAL",
  "SQLITE_PERM",
  "SQLITE_ABORT",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_NOMEM",
  "SQLITE_READONLY",
  "SQLITE_INTERRUPT",
  "SQLITE_IOERR",
  "SQLITE_CORRUPT",
  "SQLITE_NOTFOUND",
  "SQLITE_FULL",
  "SQLITE_CANTOPEN",
  "SQLITE_PROTOCOL",
  "SQLITE_EMPTY",
  "SQLITE_SCHEMA",
  "SQLITE_TOOBIG",
  "SQLITE_CONSTRAINT",
  "SQLITE_MISMATCH",
  "SQLITE_MISUSE",
  "SQLITE_NOLFS",
  "SQLITE_AUTH",
  "SQLITE_FORMAT",
  "SQLITE_RANGE",
  "SQLITE_NOTADB",
  "SQLITE_NOTICE",
  "SQLITE_WARNING",
];

const EXTENDED_NAMES: ReadonlyMap<number, string> = new Map([
  [100, "SQLITE_ROW"],
  [101, "SQLITE_DONE"],
  [261, "SQLITE_BUSY_RECOVERY"],
  [517, "SQLITE_BUSY_SNAPSHOT"],
  [275, "SQLITE_CONSTRAINT_CHECK"],
  [531, "SQLITE_CONSTRAINT_COMMITHOOK"],
  [787, "SQLITE_CONSTRAINT_FOREIGNKEY"],
  [1043, "SQLITE_CONSTRAINT_FUNCTION"],
  [1299, "SQLITE_CONSTRAINT_NOTNULL"],
  [1555, "SQLITE_CONSTRAINT_PRIMARYKEY"],
  [1811, "SQLITE_CONSTRAINT_TRIGGER"],
  [2067, "SQLITE_CONSTRAINT_UNIQUE"],
  [2323, "SQLITE_CONSTRAINT_VTAB"],
  [2579, "SQLITE_CONSTRAINT_ROWID"],
  [2835, "SQLITE_CONSTRAINT_PINNED"],
  [3091, "SQLITE_CONSTRAINT_DATATYPE"],
  [1001, "DQLITE_PROTO"],
  [1002, "DQLITE_NOTFOUND"],
  [1005, "DQLITE_PARSE"],
  [8202, "SQLITE_IOERR_NOT_LEADER_LEGACY"],
  [8458, "SQLITE_IOERR_LEADERSHIP_LOST_LEGACY"],
  [10250, "SQLITE_IOERR_NOT_LEADER"],
  [10506, "SQLITE_IOERR_LEADERSHIP_LOST"],
]);

function codeName(code: number): string {
  const known = EXTENDED_NAMES.get(code);
  if (known !== undefined) return known;
  // An unknown extended code still belongs to its primary code's family.
  return PRIMARY_NAMES[code & 0xff] ?? `UNKNOWN_${code}`;
}
