// How the test app reports an operation, Jepsen's way: "ok" (it happened), "fail" (it certainly
// did not happen) or "info" (it may have). Getting this wrong in the unsafe direction (calling an
// applied write "fail") is itself an anomaly the checkers catch.
import {
  ConnectionError,
  LeadershipLostError,
  NoLeaderError,
  NotLeaderError,
  SqliteError,
  TransactionLostError,
} from "../../../src/client/index.js";

export type OutcomeType = "ok" | "fail" | "info";

/** The reply of every workload endpoint. */
export interface Outcome {
  readonly type: OutcomeType;
  readonly value?: unknown;
  readonly error?: string;
}

/** An error the app raises on purpose to roll a transaction back (e.g. insufficient funds). */
export class Refusal extends Error {
  override name = "Refusal";
}

/**
 * Outcome of a failed transaction. Before COMMIT was sent nothing can have been applied; after,
 * only a definite "not applied" from the client (rolled back, not leader) is a fail.
 */
export function transactionFailure(
  error: unknown,
  committing: boolean,
  readOnly: boolean,
): Outcome {
  const text = describe(error);
  if (readOnly || !committing || error instanceof Refusal) return { type: "fail", error: text };
  if (error instanceof TransactionLostError && error.outcome === "rolled-back") {
    return { type: "fail", error: text };
  }
  if (error instanceof NotLeaderError) return { type: "fail", error: text };
  return { type: "info", error: text };
}

/** Outcome of a failed single statement (outside any explicit transaction). */
export function statementFailure(error: unknown, readOnly: boolean): Outcome {
  const text = describe(error);
  if (readOnly) return { type: "fail", error: text };
  if (error instanceof NotLeaderError || error instanceof NoLeaderError) {
    return { type: "fail", error: text };
  }
  if (error instanceof ConnectionError) {
    return { type: error.requestSent ? "info" : "fail", error: text };
  }
  if (error instanceof LeadershipLostError) return { type: "info", error: text };
  // Constraint and busy refusals come back before anything is replicated.
  if (error instanceof SqliteError && [5, 6, 19].includes(error.primaryCode)) {
    return { type: "fail", error: text };
  }
  return { type: "info", error: text };
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
