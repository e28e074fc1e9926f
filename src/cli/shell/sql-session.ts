// The shell's SQL connection, behaving like go-dqlite's driver under database/sql for the one
// thing the shell does: BEGIN, one QuerySQL with every row read, COMMIT (or ROLLBACK). The
// connection goes to the leader and stays open between commands; a connection that failed, or a
// node that stopped leading, is dropped and the next BEGIN finds the leader again.
import { Client, type DialFunction, type NodeStore, NoLeaderError } from "../../client/index.js";
import { ErrorCode, type Request, type Response } from "../../wire/index.js";
import { type GoValue, goValueOfCell } from "./go-value.js";
import { WireConnection, WireConnectionError } from "./wire-connection.js";

/** A Failure response: SQLite's (extended) code and the server's message. */
export class SqlFailure extends Error {
  override name = "SqlFailure";
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Which step of a query failed, as go-dqlite's shell names them in its errors. */
export type QueryStep = "query" | "rows";

/** An error while running or reading a query, with the step it happened in. */
export class QueryStepError extends Error {
  override name = "QueryStepError";
  readonly step: QueryStep;

  constructor(step: QueryStep, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.step = step;
  }
}

/** database/sql gives a bad connection this many tries when it begins a transaction. */
const BEGIN_ATTEMPTS = 3;
/** Rows messages read while draining an interrupted query before giving the connection up. */
const MAX_DRAINED_MESSAGES = 100_000;

export interface SqlSessionOptions {
  store: NodeStore;
  database: string;
  dial: DialFunction;
}

export class SqlSession {
  readonly #options: SqlSessionOptions;
  #connection: WireConnection | undefined;
  #dbId = 0;

  constructor(options: SqlSessionOptions) {
    this.#options = options;
  }

  /** BEGIN on a leader connection; a bad connection or a former leader is replaced and retried. */
  async begin(signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const connection = await this.#connect(signal);
        await this.#exec(connection, "BEGIN", signal);
        return;
      } catch (error) {
        this.#dropIfBad(error);
        if (!isBadConnection(error) || attempt >= BEGIN_ATTEMPTS || signal.aborted) throw error;
      }
    }
  }

  /**
   * Runs `sql` through QuerySQL and hands over the column names, then each row as driver values.
   * Errors are QueryStepError: "query" when the statement failed, "rows" when reading failed.
   */
  async query(
    sql: string,
    signal: AbortSignal,
    onColumns: (columns: string[]) => void,
    onRow: (row: GoValue[]) => void,
  ): Promise<void> {
    const connection = this.#current();
    let response: Response;
    try {
      response = expectRows(
        await connection.call(
          { type: "querySql", schema: 0, dbId: this.#dbId, sql, params: [] },
          signal,
        ),
      );
    } catch (error) {
      this.#dropIfBad(error);
      throw new QueryStepError("query", error);
    }
    onColumns(response.columns);
    for (;;) {
      const { columns, rowCount, types, values, more } = response;
      const width = columns.length;
      try {
        for (let r = 0, cell = 0; r < rowCount; r++) {
          const row: GoValue[] = new Array(width);
          for (let c = 0; c < width; c++, cell++) row[c] = goValueOfCell(types[cell], values[cell]);
          onRow(row);
        }
      } catch (error) {
        if (more) await this.#interrupt(connection, signal);
        throw new QueryStepError("rows", error);
      }
      if (!more) return;
      try {
        response = expectRows(await connection.receive(signal));
      } catch (error) {
        this.#dropIfBad(error);
        throw new QueryStepError("rows", error);
      }
    }
  }

  /** COMMIT. */
  async commit(signal: AbortSignal): Promise<void> {
    try {
      await this.#exec(this.#current(), "COMMIT", signal);
    } catch (error) {
      this.#dropIfBad(error);
      throw error;
    }
  }

  /** ROLLBACK; nothing to do when the connection is gone (the server dropped the transaction). */
  async rollback(signal: AbortSignal): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || connection.broken) return;
    try {
      await this.#exec(connection, "ROLLBACK", signal);
    } catch (error) {
      this.#dropIfBad(error);
      throw error;
    }
  }

  close(): void {
    this.#connection?.close();
    this.#connection = undefined;
  }

  #current(): WireConnection {
    const connection = this.#connection;
    if (connection === undefined || connection.broken) {
      throw new WireConnectionError("the connection to the leader was lost");
    }
    return connection;
  }

  async #connect(signal: AbortSignal): Promise<WireConnection> {
    if (this.#connection !== undefined && !this.#connection.broken) return this.#connection;
    this.close();
    const { store, dial, database } = this.#options;
    let leader: Client;
    try {
      leader = await Client.findLeader(store, { dial, signal });
    } catch (error) {
      // go-dqlite's connector gives up with ErrNoAvailableLeader when its context expires.
      throw signal.aborted ? new NoLeaderError({ cause: error }) : error;
    }
    const address = leader.address;
    leader.close();
    const connection = await WireConnection.open(address, dial, signal);
    try {
      expectType(await connection.call({ type: "client", clientId: 0n }, signal), "welcome");
      const db = expectType(
        await connection.call({ type: "open", name: database, flags: 0, vfs: "volatile" }, signal),
        "db",
      );
      this.#dbId = db.dbId;
    } catch (error) {
      connection.close();
      throw error;
    }
    this.#connection = connection;
    return connection;
  }

  async #exec(connection: WireConnection, sql: string, signal: AbortSignal): Promise<void> {
    const request: Request = { type: "execSql", schema: 0, dbId: this.#dbId, sql, params: [] };
    expectType(await connection.call(request, signal), "result");
  }

  // Interrupt, then discard what is still coming until the server confirms with Empty.
  async #interrupt(connection: WireConnection, signal: AbortSignal): Promise<void> {
    try {
      connection.send({ type: "interrupt", dbId: this.#dbId });
      for (let i = 0; i < MAX_DRAINED_MESSAGES; i++) {
        const response = await connection.receive(signal);
        if (response.type === "empty" || response.type === "failure") return;
      }
      connection.close();
    } catch (error) {
      this.#dropIfBad(error);
    }
  }

  #dropIfBad(error: unknown): void {
    if (isBadConnection(error)) this.close();
  }
}

// The failures go-dqlite's driver turns into driver.ErrBadConn: the connection is not reused.
function isBadConnection(error: unknown): boolean {
  if (error instanceof WireConnectionError) return true;
  if (!(error instanceof SqlFailure)) return false;
  switch (error.code) {
    case ErrorCode.NotLeader:
    case ErrorCode.NotLeaderLegacy:
    case ErrorCode.LeadershipLost:
    case ErrorCode.LeadershipLostLegacy:
    case ErrorCode.NotFound:
      return true;
    default:
      return false;
  }
}

function expectRows(response: Response): Extract<Response, { type: "rows" }> {
  return expectType(response, "rows");
}

function expectType<T extends Response["type"]>(
  response: Response,
  type: T,
): Extract<Response, { type: T }> {
  if (response.type === type) return response as Extract<Response, { type: T }>;
  if (response.type === "failure") throw new SqlFailure(response.code, response.message);
  throw new WireConnectionError(`unexpected ${response.type} response (wanted ${type})`);
}
