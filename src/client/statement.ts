// A prepared statement: Prepare once per connection, then Exec/Query by id on every call.
import type { CallOptions } from "./deadline.js";
import { Deadline } from "./deadline.js";
import { DqliteError } from "./errors.js";
import type { QueryResult, Row, RunResult } from "./results.js";
import { scanSqlCached } from "./sql-scanner.js";
import {
  type Executor,
  type QueryOptions,
  runExec,
  runGet,
  runIterate,
  runQuery,
  type SqlText,
} from "./statement-runner.js";
import type { BindParameters, SqlValue } from "./values.js";

/**
 * A statement prepared on each connection that runs it, and reused across calls. It belongs to
 * the handle that made it (the database or a transaction). Call `close` when done.
 */
export class Statement {
  /** The SQL text (one statement). */
  readonly sql: string;
  readonly #executor: Executor;
  readonly #text: SqlText;
  #closed = false;

  /** Use `db.prepare(sql)` or `tx.prepare(sql)`. */
  constructor(executor: Executor, sql: string) {
    if (typeof sql !== "string") throw new TypeError("the SQL must be a string");
    const scanned = scanSqlCached(sql);
    // dqlite 1.11 compiles the first statement and silently drops the rest: refuse them here.
    if (scanned.statements.length !== 1) {
      throw new TypeError(
        `a prepared statement needs exactly one SQL statement, got ${scanned.statements.length}`,
      );
    }
    this.sql = sql;
    this.#executor = executor;
    this.#text = { sql, scanned, prepared: true };
  }

  /** Runs the statement; returns the rows it changed and the last inserted rowid. */
  exec(params?: BindParameters, options?: CallOptions): Promise<RunResult> {
    return runExec(this.#executor, this.#textOf, params, options);
  }

  /** All result rows (objects keyed by column name, or arrays with `rowMode: "array"`). */
  query<T = Row>(
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): Promise<QueryResult<T>>;
  query(
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): Promise<QueryResult<SqlValue[]>>;
  query(params?: BindParameters, options?: QueryOptions): Promise<QueryResult<unknown>> {
    return runQuery(this.#executor, this.#textOf, params, options);
  }

  /** The first result row, or undefined. */
  get<T = Row>(
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): Promise<T | undefined>;
  get(
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): Promise<SqlValue[] | undefined>;
  get(params?: BindParameters, options?: QueryOptions): Promise<unknown> {
    return runGet(this.#executor, this.#textOf, params, options);
  }

  /** The result rows one at a time, fetched from the server as the loop asks for them. */
  iterate<T = Row>(
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): AsyncGenerator<T, void, undefined>;
  iterate(
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): AsyncGenerator<SqlValue[], void, undefined>;
  iterate(
    params?: BindParameters,
    options?: QueryOptions,
  ): AsyncGenerator<unknown, void, undefined> {
    return runIterate(this.#executor, this.#textOf, params, options);
  }

  /** Finalizes the statement on the idle connections that prepared it; later calls fail. */
  async close(options?: CallOptions): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = Deadline.start(options, this.#executor.timeoutMs);
    try {
      await this.#executor.finalize(this.sql, deadline);
    } finally {
      deadline.dispose();
    }
  }

  readonly #textOf = (): SqlText => {
    if (this.#closed) throw new DqliteError("the statement is closed");
    return this.#text;
  };
}
