// The SQL API's entry point: `connect` opens a database by name on a cluster and returns a handle
// backed by a small pool of leader connections. Statements that fail because the leader changed
// run again on the new leader when that cannot apply them twice (see retry-policy.ts).

import { checkLogLevel, type LogLevel, silentLogger } from "../log/logger.js";
import { ErrorCode } from "../wire/index.js";
import { Connector, type ConnectorOptions, toNodeStore } from "./connector.js";
import { type CallOptions, checkTimeoutMs, Deadline, sleep } from "./deadline.js";
import { ConnectionError, LeadershipLostError, NotLeaderError, SqliteError } from "./errors.js";
import type { NodeStore } from "./node-store.js";
import { SessionPool } from "./pool.js";
import { Queryable } from "./queryable.js";
import { isLeaderChange, MAX_STATEMENT_ATTEMPTS, mayRetry, type Safety } from "./retry-policy.js";
import { Session } from "./session.js";
import type { ScannedSql } from "./sql-scanner.js";
import { type SqlTracer, sqlTracer } from "./sql-tracer.js";
import type { Executor, Reserved } from "./statement-runner.js";
import { runTransaction, type Transaction, type TransactionMode } from "./transaction.js";

/** Options of `connect`. */
export interface ConnectOptions extends ConnectorOptions {
  /** The nodes to ask for the leader: addresses, or a NodeStore (e.g. a YamlNodeStore). */
  cluster: readonly string[] | NodeStore;
  /** The database name (opaque to dqlite; created on first use). */
  database: string;
  /** INTEGER results: "number" (default) gives a number when it is safe, else a bigint; "bigint" always. */
  integers?: "number" | "bigint";
  /** Leader connections kept by the handle (default 10). */
  maxConnections?: number;
  /** Default time limit of every operation, leader search included (default 30000). */
  timeoutMs?: number;
  /**
   * How long a single statement (or a transaction's BEGIN) refused with SQLITE_BUSY is tried
   * again, like SQLite's busy timeout (default 5000; 0 = never). dqlite 1.11 refuses a second
   * writer at once instead of queueing it.
   */
  busyTimeoutMs?: number;
  /** Aborts `connect` itself. */
  signal?: AbortSignal;
  /**
   * Limit for opening one leader connection (search and Open), within the operation's own
   * limit (go-dqlite's WithConnectionTimeout; default: only the operation's limit).
   */
  connectionTimeoutMs?: number;
  /** Logs every SQL request and its duration at this level of `logger` (go-dqlite's WithTracing). */
  tracing?: LogLevel;
}

/** Options of `transaction`. */
export interface TransactionOptions extends CallOptions {
  /** BEGIN DEFERRED (default), IMMEDIATE or EXCLUSIVE. */
  mode?: TransactionMode;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONNECTIONS = 10;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

function isBusy(error: unknown): boolean {
  return error instanceof SqliteError && error.primaryCode === ErrorCode.Busy;
}

// 1, 2, 4 ... 32 ms, with jitter so that waiting writers do not retry in step.
function busyDelayMs(waits: number): number {
  const base = Math.min(32, 2 ** waits);
  return base / 2 + Math.random() * (base / 2);
}

/** Opens `database` on the cluster's leader and returns a handle for SQL. */
export async function connect(options: ConnectOptions): Promise<Database> {
  if (typeof options.database !== "string" || options.database === "") {
    throw new TypeError("connect needs a database name");
  }
  const timeoutMs = checkTimeoutMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const integers = options.integers ?? "number";
  if (integers !== "number" && integers !== "bigint") {
    throw new RangeError(`integers must be "number" or "bigint", got ${String(integers)}`);
  }
  const connector = new Connector(toNodeStore(options.cluster), options);
  const bigints = integers === "bigint";
  const trace: SqlTracer | undefined =
    options.tracing === undefined
      ? undefined
      : sqlTracer(options.logger ?? silentLogger, checkLogLevel(options.tracing, "tracing"));
  const connectionTimeoutMs =
    options.connectionTimeoutMs === undefined
      ? undefined
      : checkTimeoutMs(options.connectionTimeoutMs, "connectionTimeoutMs");
  const pool = new SessionPool(
    options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    async (operation) => {
      const deadline =
        connectionTimeoutMs === undefined ? operation : operation.child(connectionTimeoutMs);
      try {
        const connection = await connector.connect(deadline);
        try {
          return await Session.open(connection, options.database, bigints, deadline, trace);
        } catch (error) {
          connection.close();
          throw error;
        }
      } finally {
        if (deadline !== operation) deadline.dispose();
      }
    },
  );
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof busyTimeoutMs !== "number" || !(busyTimeoutMs >= 0)) {
    throw new RangeError(`busyTimeoutMs must be >= 0, got ${busyTimeoutMs}`);
  }
  const executor = new PoolExecutor(pool, connector, timeoutMs, bigints, busyTimeoutMs);
  // One connection now, so that an unreachable cluster shows at once.
  const deadline = new Deadline(options.signal, timeoutMs);
  try {
    const session = await executor.reserve("read", deadline, async () => undefined);
    session.release();
  } catch (error) {
    pool.close();
    throw error;
  } finally {
    deadline.dispose();
  }
  return new Database(options.database, executor);
}

/** A database on a dqlite cluster. Make one with `connect`. */
export class Database extends Queryable {
  /** The database name. */
  readonly name: string;
  readonly #executor: PoolExecutor;

  /** Use `connect`. */
  constructor(name: string, executor: PoolExecutor) {
    super(executor);
    this.name = name;
    this.#executor = executor;
  }

  /**
   * Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK (and rethrow)
   * when it throws. A lost connection or leader fails it with TransactionLostError, never retried.
   */
  async transaction<T>(
    fn: (tx: Transaction) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> {
    const mode = options?.mode;
    if (mode !== undefined && mode !== "deferred" && mode !== "immediate" && mode !== "exclusive") {
      throw new RangeError(`unknown transaction mode ${String(mode)}`);
    }
    const begin = mode === undefined ? "BEGIN" : `BEGIN ${mode.toUpperCase()}`;
    const timeoutMs = this.#executor.timeoutMs;
    const deadline = Deadline.start(options, timeoutMs);
    let reserved: Reserved<Session>;
    try {
      // BEGIN applies nothing, so it may be repeated on a new leader like a read.
      reserved = await this.#executor.reserve("read", deadline, async (session) => {
        await session.exec(begin, [], deadline);
        return session;
      });
    } finally {
      deadline.dispose();
    }
    try {
      return await runTransaction(reserved.value, timeoutMs, fn, options);
    } finally {
      reserved.release();
    }
  }

  /** Closes every connection; later calls fail. */
  async close(): Promise<void> {
    this.#executor.pool.close();
  }
}

/** Runs statements on pooled sessions and repeats them on a new leader when that is safe. */
class PoolExecutor implements Executor {
  readonly pool: SessionPool;
  readonly timeoutMs: number;
  readonly bigints: boolean;
  readonly busyTimeoutMs: number;
  readonly #connector: Connector;

  constructor(
    pool: SessionPool,
    connector: Connector,
    timeoutMs: number,
    bigints: boolean,
    busyTimeoutMs: number,
  ) {
    this.pool = pool;
    this.#connector = connector;
    this.timeoutMs = timeoutMs;
    this.bigints = bigints;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  async reserve<T>(
    safety: Safety,
    deadline: Deadline,
    work: (session: Session) => Promise<T>,
    dropOnError = false,
  ): Promise<Reserved<T>> {
    let busySince: number | undefined;
    let busyWaits = 0;
    for (let attempt = 1; ; attempt++) {
      let session: Session;
      try {
        session = await this.pool.acquire(deadline);
      } catch (error) {
        // Opening a session runs nothing of the statement: a refused Open is safe to repeat.
        const retryable =
          error instanceof ConnectionError ||
          error instanceof NotLeaderError ||
          (error instanceof SqliteError && isLeaderChange(error));
        if (!retryable || attempt >= MAX_STATEMENT_ATTEMPTS || deadline.aborted) throw error;
        continue;
      }
      try {
        const value = await work(session);
        return { value, session, release: () => this.pool.release(session) };
      } catch (error) {
        this.#afterFailure(session, error, dropOnError);
        if (isBusy(error) && safety !== "script") {
          // Another connection holds the write lock (dqlite 1.11 does not queue writers): the
          // statement did nothing, so wait a little and try again, like SQLite's busy timeout.
          busySince ??= performance.now();
          const leftMs = this.busyTimeoutMs - (performance.now() - busySince);
          if (leftMs <= 0) throw error;
          await sleep(Math.min(busyDelayMs(busyWaits++), leftMs), deadline);
          attempt--;
          continue;
        }
        if (!mayRetry(error, safety) || attempt >= MAX_STATEMENT_ATTEMPTS || deadline.aborted) {
          throw error;
        }
      }
    }
  }

  #afterFailure(session: Session, error: unknown, dropOnError: boolean): void {
    if (error instanceof NotLeaderError || error instanceof LeadershipLostError) {
      // The node stopped leading: its other idle sessions are as stale as this one.
      const address = session.connection.address;
      this.pool.discard(session);
      this.pool.discardIdleTo(address);
      if (this.#connector.tracker.address === address) this.#connector.tracker.address = undefined;
    } else if (dropOnError || session.broken || isLeaderChange(error)) {
      this.pool.discard(session);
    } else {
      this.pool.release(session);
    }
  }

  checkSql(scanned: ScannedSql): void {
    // A pooled session must come back outside any transaction: the last BEGIN/SAVEPOINT of a
    // script needs its COMMIT/RELEASE/ROLLBACK after it.
    let open = false;
    for (const statement of scanned.statements) {
      const keyword = statement.keyword;
      if (keyword === "BEGIN" || keyword === "SAVEPOINT") open = true;
      else if (keyword === "COMMIT" || keyword === "END" || keyword === "RELEASE") open = false;
      else if (keyword === "ROLLBACK" && !statement.keywords.includes("TO")) open = false;
    }
    if (open) {
      throw new TypeError(
        "the SQL leaves a transaction open on a pooled connection: use db.transaction()",
      );
    }
  }

  async finalize(sql: string, deadline: Deadline): Promise<void> {
    // Sessions in use keep theirs until it ages out of their cache: waiting for them could take
    // as long as the longest query. A session lost meanwhile has nothing left to finalize.
    const idle = this.pool.idleSessions();
    await Promise.all(idle.map((session) => session.finalize(sql, deadline).catch(() => {})));
  }
}
