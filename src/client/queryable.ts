// The SQL methods a database handle and a transaction share.
import type { CallOptions } from "./deadline.js";
import type { QueryResult, Row, RunResult } from "./results.js";
import { scanSqlCached } from "./sql-scanner.js";
import { Statement } from "./statement.js";
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

function textOf(sql: string): () => SqlText {
  return () => {
    if (typeof sql !== "string") throw new TypeError("the SQL must be a string");
    return { sql, scanned: scanSqlCached(sql), prepared: false };
  };
}

/** exec, query, get, iterate and prepare over one executor. */
export abstract class Queryable {
  readonly #executor: Executor;

  protected constructor(executor: Executor) {
    this.#executor = executor;
  }

  /**
   * Runs every statement of `sql` (ExecSQL); returns the rows changed by the last one and the
   * connection's last inserted rowid.
   */
  exec(sql: string, params?: BindParameters, options?: CallOptions): Promise<RunResult> {
    return runExec(this.#executor, textOf(sql), params, options);
  }

  /** All rows of `sql` (objects keyed by column name, or arrays with `rowMode: "array"`). */
  query<T = Row>(
    sql: string,
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): Promise<QueryResult<T>>;
  query(
    sql: string,
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): Promise<QueryResult<SqlValue[]>>;
  query(
    sql: string,
    params?: BindParameters,
    options?: QueryOptions,
  ): Promise<QueryResult<unknown>> {
    return runQuery(this.#executor, textOf(sql), params, options);
  }

  /** The first row of `sql`, or undefined; the rest of the result is interrupted. */
  get<T = Row>(
    sql: string,
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): Promise<T | undefined>;
  get(
    sql: string,
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): Promise<SqlValue[] | undefined>;
  get(sql: string, params?: BindParameters, options?: QueryOptions): Promise<unknown> {
    return runGet(this.#executor, textOf(sql), params, options);
  }

  /**
   * The rows of `sql` one at a time (`for await`), fetched as the loop asks for them; leaving
   * the loop early interrupts the query. The connection is held until the loop ends.
   */
  iterate<T = Row>(
    sql: string,
    params?: BindParameters,
    options?: QueryOptions & { rowMode?: "object" },
  ): AsyncGenerator<T, void, undefined>;
  iterate(
    sql: string,
    params: BindParameters | undefined,
    options: QueryOptions & { rowMode: "array" },
  ): AsyncGenerator<SqlValue[], void, undefined>;
  iterate(
    sql: string,
    params?: BindParameters,
    options?: QueryOptions,
  ): AsyncGenerator<unknown, void, undefined> {
    return runIterate(this.#executor, textOf(sql), params, options);
  }

  /** A prepared statement for one SQL statement, reused across calls. */
  prepare(sql: string): Statement {
    return new Statement(this.#executor, sql);
  }
}
