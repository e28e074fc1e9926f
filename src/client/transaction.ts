// A transaction: one session pinned from BEGIN to COMMIT or ROLLBACK. Losing the session or the
// leader on the way makes the transaction fail with TransactionLostError; it is never retried.
import { Deadline } from "./deadline.js";
import {
  ConnectionError,
  DqliteError,
  LeadershipLostError,
  TransactionLostError,
} from "./errors.js";
import { Queryable } from "./queryable.js";
import { isLeaderChange, type Safety } from "./retry-policy.js";
import type { Session } from "./session.js";
import type { ScannedSql } from "./sql-scanner.js";
import type { Executor, Reserved } from "./statement-runner.js";

/** How BEGIN takes its locks (SQLite's DEFERRED, IMMEDIATE or EXCLUSIVE). */
export type TransactionMode = "deferred" | "immediate" | "exclusive";

/** The SQL handle inside `db.transaction(fn)`: exec, query, get, iterate, prepare. */
export class Transaction extends Queryable {
  /** Made by `db.transaction`. */
  constructor(executor: TransactionExecutor) {
    super(executor);
  }
}

// COMMIT and ROLLBACK belong to `transaction()`; savepoints inside are fine.
function isTransactionEnd(keywords: readonly string[]): boolean {
  const [first, second, third] = keywords;
  if (first === "BEGIN" || first === "COMMIT" || first === "END") return true;
  return first === "ROLLBACK" && second !== "TO" && !(second === "TRANSACTION" && third === "TO");
}

/** Runs a transaction's statements on its session and tracks whether the transaction lives. */
export class TransactionExecutor implements Executor {
  readonly timeoutMs: number;
  readonly bigints: boolean;
  readonly session: Session;
  #state: "active" | "finished" | "lost" = "active";
  #lostCause: unknown;

  constructor(session: Session, timeoutMs: number) {
    this.session = session;
    this.timeoutMs = timeoutMs;
    this.bigints = session.bigints;
  }

  async reserve<T>(
    _safety: Safety,
    _deadline: Deadline,
    work: (session: Session) => Promise<T>,
  ): Promise<Reserved<T>> {
    this.#checkUsable();
    try {
      const value = await work(this.session);
      return { value, session: this.session, release: () => {} };
    } catch (error) {
      if (isLeaderChange(error) || this.session.broken) {
        this.#lose(error);
        throw new TransactionLostError("rolled-back", { cause: error });
      }
      throw error;
    }
  }

  checkSql(scanned: ScannedSql): void {
    for (const statement of scanned.statements) {
      if (isTransactionEnd(statement.keywords)) {
        throw new TypeError(
          `${statement.keyword} inside db.transaction(): return to commit, throw to roll back`,
        );
      }
    }
  }

  async finalize(sql: string, deadline: Deadline): Promise<void> {
    if (this.#state === "active" && !this.session.broken)
      await this.session.finalize(sql, deadline);
  }

  /** COMMIT; a lost leader or connection becomes TransactionLostError with the right outcome. */
  async commit(deadline: Deadline): Promise<void> {
    this.#checkUsable();
    this.#state = "finished";
    try {
      await this.session.closeStreams(deadline);
      await this.session.exec("COMMIT", [], deadline);
    } catch (error) {
      const unknown =
        error instanceof LeadershipLostError ||
        (error instanceof ConnectionError && error.requestSent) ||
        (this.session.broken && !(error instanceof ConnectionError));
      if (unknown) {
        this.session.close();
        throw new TransactionLostError("unknown", { cause: error });
      }
      if (isLeaderChange(error)) {
        this.session.close();
        throw new TransactionLostError("rolled-back", { cause: error });
      }
      // An SQL error (a deferred constraint, a busy database): the transaction is still open.
      await this.rollback(deadline, true);
      throw error;
    }
  }

  /** ROLLBACK; if it cannot be sent, the session is closed, which rolls back on the server. */
  async rollback(deadline: Deadline, afterCommit = false): Promise<void> {
    if (this.#state === "finished" && !afterCommit) return;
    const wasLost = this.#state === "lost";
    this.#state = "finished";
    if (wasLost || this.session.broken) {
      this.session.close();
      return;
    }
    try {
      await this.session.closeStreams(deadline);
      await this.session.exec("ROLLBACK", [], deadline);
    } catch {
      this.session.close();
    }
  }

  #checkUsable(): void {
    if (this.#state === "active" && this.session.broken) {
      this.#lose(new DqliteError("the transaction's connection failed"));
    }
    if (this.#state === "lost") {
      throw new TransactionLostError("rolled-back", { cause: this.#lostCause });
    }
    if (this.#state === "finished") {
      throw new DqliteError("the transaction is over (committed or rolled back)");
    }
  }

  #lose(cause: unknown): void {
    this.#state = "lost";
    this.#lostCause = cause;
    this.session.close();
  }
}

/** Runs `fn` in a transaction on a session already in BEGIN; see Database.transaction. */
export async function runTransaction<T>(
  session: Session,
  timeoutMs: number,
  fn: (tx: Transaction) => Promise<T>,
  options: { signal?: AbortSignal; timeoutMs?: number } | undefined,
): Promise<T> {
  const executor = new TransactionExecutor(session, timeoutMs);
  let result: T;
  try {
    result = await fn(new Transaction(executor));
  } catch (error) {
    const deadline = Deadline.start(options, timeoutMs);
    try {
      await executor.rollback(deadline);
    } finally {
      deadline.dispose();
    }
    throw error;
  }
  const deadline = Deadline.start(options, timeoutMs);
  try {
    await executor.commit(deadline);
  } finally {
    deadline.dispose();
  }
  return result;
}
