// The four ways to run SQL (exec, query, get, iterate), once for every handle: the database pool,
// a transaction, and prepared statements of either. An Executor decides which session runs the
// work and whether a failed attempt may run again.
import type { Param } from "../wire/index.js";
import { type CallOptions, Deadline } from "./deadline.js";
import {
  collectRows,
  type QueryResult,
  type RowMode,
  type RunResult,
  toRunResult,
} from "./results.js";
import type { Safety } from "./retry-policy.js";
import type { RowStream } from "./row-stream.js";
import type { Session } from "./session.js";
import type { ScannedSql } from "./sql-scanner.js";
import { type BindParameters, bindParameters } from "./values.js";

/** Options of query, get and iterate. */
export interface QueryOptions extends CallOptions {
  /** Rows as objects keyed by column name (default) or as arrays in column order. */
  rowMode?: RowMode;
}

/** A session reserved for some work, given back with `release`. */
export interface Reserved<T> {
  value: T;
  session: Session;
  release(): void;
}

/** Where statements run: the pool (with retries on leader changes) or a transaction's session. */
export interface Executor {
  /** Default time limit of an operation. */
  readonly timeoutMs: number;
  /** INTEGER values always as bigint. */
  readonly bigints: boolean;
  /**
   * Runs `work` on a session and keeps the session reserved until `release`. `safety` says when
   * a failed attempt may run again on a new leader; `dropOnError` discards the session after any
   * failure (its transaction state is unknown).
   */
  reserve<T>(
    safety: Safety,
    deadline: Deadline,
    work: (session: Session) => Promise<T>,
    dropOnError?: boolean,
  ): Promise<Reserved<T>>;
  /** Refuses SQL this handle must not run (e.g. BEGIN inside a transaction). */
  checkSql(scanned: ScannedSql): void;
  /** Finalizes the prepared statements for `sql` that the handle's sessions keep. */
  finalize(sql: string, deadline: Deadline): Promise<void>;
}

/**
 * One SQL text ready to run: scanned once, prepared or not. The run functions take it through a
 * callback so that bad input rejects the promise (or the iteration) instead of throwing.
 */
export interface SqlText {
  sql: string;
  scanned: ScannedSql;
  prepared: boolean;
}

/** How a statement may be repeated after a leader change. */
export function safetyOf(text: SqlText, reading: boolean): Safety {
  const statements = text.scanned.statements;
  if (reading && statements.every((statement) => !statement.writes)) return "read";
  return statements.length > 1 ? "script" : "write";
}

/** True when the SQL contains BEGIN, COMMIT, SAVEPOINT... (the session's state may change). */
export function controlsTransactions(scanned: ScannedSql): boolean {
  return scanned.statements.some((statement) => TRANSACTION_KEYWORDS.has(statement.keyword));
}

const TRANSACTION_KEYWORDS = new Set([
  "BEGIN",
  "COMMIT",
  "END",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
]);

async function run<T>(
  executor: Executor,
  safety: Safety,
  deadline: Deadline,
  work: (session: Session) => Promise<T>,
  dropOnError = false,
): Promise<T> {
  const reserved = await executor.reserve(safety, deadline, work, dropOnError);
  reserved.release();
  return reserved.value;
}

function bind(text: SqlText, params: BindParameters | undefined): Param[] {
  return bindParameters(text.sql, params, text.scanned);
}

/** Runs every statement of the text; the result is the last statement's. */
export async function runExec(
  executor: Executor,
  textOf: () => SqlText,
  params: BindParameters | undefined,
  options: CallOptions | undefined,
): Promise<RunResult> {
  const text = textOf();
  executor.checkSql(text.scanned);
  const values = bind(text, params);
  const deadline = Deadline.start(options, executor.timeoutMs);
  try {
    const result = await run(
      executor,
      safetyOf(text, false),
      deadline,
      (session) =>
        text.prepared
          ? session.execPrepared(text.sql, values, deadline)
          : session.exec(text.sql, values, deadline),
      controlsTransactions(text.scanned),
    );
    return toRunResult(result, executor.bigints);
  } finally {
    deadline.dispose();
  }
}

function startStream(
  session: Session,
  text: SqlText,
  values: Param[],
  deadline: Deadline,
): Promise<RowStream> {
  return text.prepared
    ? session.queryPrepared(text.sql, values, deadline)
    : session.query(text.sql, values, deadline);
}

/** All rows of the first statement, read in full before returning. */
export async function runQuery(
  executor: Executor,
  textOf: () => SqlText,
  params: BindParameters | undefined,
  options: QueryOptions | undefined,
): Promise<QueryResult<unknown>> {
  const text = textOf();
  executor.checkSql(text.scanned);
  const values = bind(text, params);
  const mode = options?.rowMode ?? "object";
  const deadline = Deadline.start(options, executor.timeoutMs);
  try {
    // The whole read is one attempt: a read that fails half-way can start again from scratch.
    return await run(executor, safetyOf(text, true), deadline, async (session) => {
      const stream = await startStream(session, text, values, deadline);
      const rows: unknown[] = [];
      collectRows(stream.batch, mode, rows);
      while (await stream.next(deadline)) collectRows(stream.batch, mode, rows);
      return { columns: stream.columns, rows };
    });
  } finally {
    deadline.dispose();
  }
}

/** The first row, or undefined; the rest of the result is interrupted. */
export async function runGet(
  executor: Executor,
  textOf: () => SqlText,
  params: BindParameters | undefined,
  options: QueryOptions | undefined,
): Promise<unknown> {
  const text = textOf();
  executor.checkSql(text.scanned);
  const values = bind(text, params);
  const mode = options?.rowMode ?? "object";
  const deadline = Deadline.start(options, executor.timeoutMs);
  try {
    return await run(executor, safetyOf(text, true), deadline, async (session) => {
      const stream = await startStream(session, text, values, deadline);
      // A PART message always carries a row, so an empty first batch means an empty result.
      const rows: unknown[] = [];
      collectRows(stream.batch, mode, rows);
      await stream.close(deadline);
      return rows[0];
    });
  } finally {
    deadline.dispose();
  }
}

/**
 * The rows one at a time, pulling Rows messages only as the caller asks for them. Leaving the
 * loop early (break, throw) interrupts the query. The session is held until the iteration ends.
 */
export async function* runIterate(
  executor: Executor,
  textOf: () => SqlText,
  params: BindParameters | undefined,
  options: QueryOptions | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const text = textOf();
  executor.checkSql(text.scanned);
  const values = bind(text, params);
  const mode = options?.rowMode ?? "object";
  // The limit applies to the start and to each later message, not to the caller's pace.
  let deadline = Deadline.start(options, executor.timeoutMs);
  let reserved: Reserved<RowStream>;
  try {
    reserved = await executor.reserve(safetyOf(text, true), deadline, (session) =>
      startStream(session, text, values, deadline),
    );
  } finally {
    deadline.dispose();
  }
  const stream = reserved.value;
  try {
    for (;;) {
      const rows: unknown[] = [];
      collectRows(stream.batch, mode, rows);
      for (const row of rows) yield row;
      if (stream.finished) return;
      deadline = Deadline.start(options, executor.timeoutMs);
      try {
        if (!(await stream.next(deadline))) return;
      } finally {
        deadline.dispose();
      }
    }
  } finally {
    if (!stream.finished) {
      deadline = Deadline.start(options, executor.timeoutMs);
      try {
        await stream.close(deadline);
      } finally {
        deadline.dispose();
      }
    }
    reserved.release();
  }
}
