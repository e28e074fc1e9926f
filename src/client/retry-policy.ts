// When a statement may run again on another leader connection. The rule: only when running it
// twice cannot apply it twice, i.e. the server refused it before doing anything, it never reached
// the server, or it only reads.
import { ErrorCode } from "../wire/index.js";
import { ConnectionError, LeadershipLostError, NotLeaderError, SqliteError } from "./errors.js";

/**
 * How a statement may be repeated. "read": reads only, any failure of the connection allows it.
 * "write": one statement that writes; a not-leader refusal applied nothing. "script": several
 * statements that write; a not-leader refusal can come after earlier ones committed.
 */
export type Safety = "read" | "write" | "script";

/** Attempts of one statement across leader changes (each attempt may search for the leader). */
export const MAX_STATEMENT_ATTEMPTS = 5;

/** The error means the connection no longer leads to the leader (or to anything). */
export function isLeaderChange(error: unknown): boolean {
  return (
    error instanceof NotLeaderError ||
    error instanceof LeadershipLostError ||
    error instanceof ConnectionError ||
    // go-dqlite treats "no database opened"/"no statement with the given id" like a lost leader.
    (error instanceof SqliteError && error.code === ErrorCode.NotFound)
  );
}

/** True when the failed statement may be run again on a fresh leader connection. */
export function mayRetry(error: unknown, safety: Safety): boolean {
  if (error instanceof ConnectionError) return !error.requestSent || safety === "read";
  if (error instanceof NotLeaderError) return safety !== "script";
  if (error instanceof SqliteError && error.code === ErrorCode.NotFound) return safety !== "script";
  if (error instanceof LeadershipLostError) return safety === "read";
  return false;
}
