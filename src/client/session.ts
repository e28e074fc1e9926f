// A leader connection with a database open on it: the SQL requests (ExecSQL, QuerySQL, and
// Prepare/Exec/Query/Finalize with a per-connection statement cache).

import type { Param, ResultResponse, RowsResponse, TupleSchema } from "../wire/index.js";
import { ValueType } from "../wire/index.js";
import { type Connection, expectResponse } from "./connection.js";
import type { Deadline } from "./deadline.js";
import { RowStream } from "./row-stream.js";
import type { SqlTracer, TracedRequest } from "./sql-tracer.js";

/** Prepared statements kept per connection; the least recently used is finalized beyond this. */
const MAX_CACHED_STATEMENTS = 128;
/** Above this many values only the 32-bit count tuple (servers >= 1.12) can carry them. */
const MAX_SCHEMA0_PARAMS = 255;

interface CachedStatement {
  stmtId: number;
  paramCount: number;
}

export class Session {
  readonly connection: Connection;
  readonly bigints: boolean;
  readonly #dbId: number;
  // Insertion order is recency order: a hit is moved to the end.
  readonly #statements = new Map<string, CachedStatement>();
  readonly #streams = new Set<RowStream>();
  readonly #trace: SqlTracer | undefined;

  private constructor(
    connection: Connection,
    dbId: number,
    bigints: boolean,
    trace: SqlTracer | undefined,
  ) {
    this.connection = connection;
    this.#dbId = dbId;
    this.bigints = bigints;
    this.#trace = trace;
  }

  /** Opens database `name` on a leader connection (go-dqlite sends flags 0 and vfs "volatile"). */
  static async open(
    connection: Connection,
    name: string,
    bigints: boolean,
    deadline: Deadline,
    trace?: SqlTracer,
  ): Promise<Session> {
    const response = await connection.call(
      { type: "open", name, flags: 0, vfs: "volatile" },
      deadline,
    );
    const db = expectResponse(connection, response, "db");
    return new Session(connection, db.dbId, bigints, trace);
  }

  get broken(): boolean {
    return this.connection.broken;
  }

  /** Query streams still holding the connection. */
  get openStreams(): ReadonlySet<RowStream> {
    return this.#streams;
  }

  /** ExecSQL: runs every statement of `sql`. */
  async exec(sql: string, params: Param[], deadline: Deadline): Promise<ResultResponse> {
    const request = {
      type: "execSql",
      schema: schemaFor(params),
      dbId: this.#dbId,
      sql,
      params,
    } as const;
    return await this.#traced("exec", sql, async () =>
      expectResponse(this.connection, await this.connection.call(request, deadline), "result"),
    );
  }

  /** QuerySQL: runs the first statement of `sql` and returns its rows as they come. */
  async query(sql: string, params: Param[], deadline: Deadline): Promise<RowStream> {
    const request = {
      type: "querySql",
      schema: schemaFor(params),
      dbId: this.#dbId,
      sql,
      params,
    } as const;
    await this.connection.lock(deadline);
    return await this.#traced("query", sql, () =>
      this.#startRows(() => this.connection.send(request), deadline),
    );
  }

  /** Exec of `sql` prepared on this connection (prepared on first use). */
  async execPrepared(sql: string, params: Param[], deadline: Deadline): Promise<ResultResponse> {
    await this.connection.lock(deadline);
    try {
      const statement = await this.#prepared(sql, deadline);
      const padded = padParams(params, statement.paramCount);
      this.connection.send({
        type: "exec",
        schema: schemaFor(padded),
        dbId: this.#dbId,
        stmtId: statement.stmtId,
        params: padded,
      });
      return await this.#traced("exec", sql, async () =>
        expectResponse(this.connection, await this.connection.receive(deadline), "result"),
      );
    } finally {
      this.connection.unlock();
    }
  }

  /** Query of `sql` prepared on this connection (prepared on first use). */
  async queryPrepared(sql: string, params: Param[], deadline: Deadline): Promise<RowStream> {
    await this.connection.lock(deadline);
    let statement: CachedStatement;
    try {
      statement = await this.#prepared(sql, deadline);
    } catch (error) {
      this.connection.unlock();
      throw error;
    }
    const padded = padParams(params, statement.paramCount);
    const request = {
      type: "query",
      schema: schemaFor(padded),
      dbId: this.#dbId,
      stmtId: statement.stmtId,
      params: padded,
    } as const;
    return await this.#traced("query", sql, () =>
      this.#startRows(() => this.connection.send(request), deadline),
    );
  }

  /** Finalizes the cached statement for `sql`, if this connection has one. */
  async finalize(sql: string, deadline: Deadline): Promise<void> {
    const statement = this.#statements.get(sql);
    if (statement === undefined) return;
    this.#statements.delete(sql);
    const response = await this.connection.call(
      { type: "finalize", dbId: this.#dbId, stmtId: statement.stmtId },
      deadline,
    );
    expectResponse(this.connection, response, "empty");
  }

  /** Closes the query streams still open (interrupting them), e.g. before COMMIT. */
  async closeStreams(deadline: Deadline): Promise<void> {
    for (const stream of [...this.#streams]) await stream.close(deadline);
  }

  close(): void {
    this.connection.close();
  }

  // Runs one request, reporting it to the tracer (when tracing) once answered or failed.
  async #traced<T>(request: TracedRequest, sql: string, work: () => Promise<T>): Promise<T> {
    const trace = this.#trace;
    if (trace === undefined) return await work();
    const startedAtMs = performance.now();
    try {
      const result = await work();
      trace(request, sql, startedAtMs, undefined);
      return result;
    } catch (error) {
      trace(request, sql, startedAtMs, error);
      throw error;
    }
  }

  // Sends the request (lock held) and waits for the first Rows message. On success the stream
  // owns the lock; on failure it is released here.
  async #startRows(send: () => void, deadline: Deadline): Promise<RowStream> {
    let first: RowsResponse;
    try {
      send();
      const response = await this.connection.receive(deadline, { bigints: this.bigints });
      first = expectResponse(this.connection, response, "rows");
    } catch (error) {
      this.connection.unlock();
      throw error;
    }
    const stream = new RowStream(this.connection, this.#dbId, first, this.bigints, (ended) =>
      this.#streams.delete(ended),
    );
    if (!stream.finished) this.#streams.add(stream);
    return stream;
  }

  // The statement for `sql`, prepared now if needed (the lock must be held).
  async #prepared(sql: string, deadline: Deadline): Promise<CachedStatement> {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    if (this.#statements.size >= MAX_CACHED_STATEMENTS) {
      const [oldestSql, oldest] = this.#statements.entries().next().value as [
        string,
        CachedStatement,
      ];
      this.#statements.delete(oldestSql);
      this.connection.send({ type: "finalize", dbId: this.#dbId, stmtId: oldest.stmtId });
      expectResponse(this.connection, await this.connection.receive(deadline), "empty");
    }
    const stmt = await this.#traced("prepared", sql, async () => {
      this.connection.send({ type: "prepare", schema: 0, dbId: this.#dbId, sql });
      return expectResponse(this.connection, await this.connection.receive(deadline), "stmt");
    });
    const statement = { stmtId: stmt.stmtId, paramCount: stmt.paramCount };
    this.#statements.set(sql, statement);
    return statement;
  }
}

function schemaFor(params: readonly Param[]): TupleSchema {
  return params.length > MAX_SCHEMA0_PARAMS ? 1 : 0;
}

// dqlite 1.11 keeps the bindings of the previous run for slots a shorter tuple leaves out; bind
// every slot so that a run never sees the last run's values.
function padParams(params: Param[], count: number): Param[] {
  if (params.length >= count) return params;
  const padded = params.slice();
  while (padded.length < count) padded.push({ type: ValueType.Null, value: null });
  return padded;
}
