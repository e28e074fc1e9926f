// One gateway per client connection: decodes requests, runs them with dqlite's semantics
// (client-protocol.md §5-10), and writes the responses. Requests are handled one at a time, in
// order; the only message read while a request runs is an Interrupt during a streamed query.
import type { Socket } from "node:net";
import type { Fsm } from "../fsm/index.js";
import type { Logger } from "../log/logger.js";
import {
  type Connection,
  type PendingTransaction,
  SqliteError,
  type Statement,
} from "../sqlite/index.js";
import {
  decodeRequest,
  ErrorCode,
  encodeResponse,
  type Frame,
  HEARTBEAT_TIMEOUT_MS,
  type Param,
  PROTOCOL_VERSION_LEGACY,
  type Request,
  RequestType,
  type Response,
  Role,
  RowsWriter,
  type StreamDecoder,
  ValueType,
  WireDecodeError,
} from "../wire/index.js";
import { type Replication, ReplicationError } from "./replication.js";
import { type ColumnPlan, planColumns, writeRow } from "./row-encoding.js";
import { StatementCache } from "./statement-cache.js";
import { BusyError, type WriterLock } from "./writer-lock.js";

/** This node's Describe answer; weight changes at run time (Weight request). */
export interface NodeMetadata {
  failureDomain: bigint;
  weight: bigint;
}

/** What a gateway needs from its node. */
export interface GatewayServices {
  readonly fsm: Fsm;
  readonly replication: Replication;
  readonly metadata: NodeMetadata;
  readonly busyTimeoutMs: number;
  readonly logger: Logger;
  /** The writer lock of database `name`. */
  lockFor(name: string): WriterLock;
  /** Resolves once a new leader has applied everything committed before it took over. */
  leaderReady(): Promise<void>;
  /** Resolves once this leader may serve a read (its lease is valid), renewing it if needed. */
  readReady(): Promise<void>;
  /** Hands a raft peer's connection (after its CONNECT request) to the raft transport. */
  acceptPeer(socket: Socket, id: bigint, address: string, leftover: Uint8Array): void;
}

/** A request answered with a Failure, without closing the connection. */
class RequestFailure extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const notLeader = () => new RequestFailure(ErrorCode.NotLeader, "not leader");
const noDatabase = () => new RequestFailure(ErrorCode.NotFound, "no database opened");
const noStatement = () => new RequestFailure(ErrorCode.NotFound, "no statement with the given id");

// A client may not pipeline requests (only an Interrupt may follow a Rows part); this bounds what
// a misbehaving one can queue.
const MAX_QUEUED_REQUESTS = 64;

interface Session {
  readonly name: string;
  readonly connection: Connection;
  readonly statements: (PreparedEntry | undefined)[];
  /** Single statements of ExecSQL/QuerySQL, compiled once per session. */
  readonly cache: StatementCache;
  /** Leadership was lost: close the SQLite connection once the running request ends. */
  lost: boolean;
}

interface PreparedEntry {
  statement: Statement;
  plan: ColumnPlan | null;
}

export class Gateway {
  readonly #socket: Socket;
  readonly #decoder: StreamDecoder;
  readonly #services: GatewayServices;
  readonly #inbox: Frame[] = [];
  #running = false;
  #closed = false;
  #session: Session | null = null;
  #onClose: (gateway: Gateway) => void;

  constructor(
    socket: Socket,
    decoder: StreamDecoder,
    services: GatewayServices,
    onClose: (gateway: Gateway) => void,
  ) {
    this.#socket = socket;
    this.#decoder = decoder;
    this.#services = services;
    this.#onClose = onClose;
    socket.on("data", this.#onData);
    socket.on("close", () => this.close());
    socket.on("error", () => this.close());
  }

  /** Feeds bytes that arrived before the gateway took over the socket. */
  start(): void {
    this.#drainDecoder();
  }

  /** Leadership was lost: in-flight writes fail through raft; the SQLite session is closed. */
  leadershipLost(): void {
    const session = this.#session;
    if (session === null) return;
    session.lost = true;
    if (!this.#running) this.#closeSession();
  }

  /** Closes the socket and releases everything this connection holds. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.length = 0;
    this.#socket.off("data", this.#onData);
    this.#socket.destroy();
    if (!this.#running) this.#closeSession();
    this.#onClose(this);
  }

  readonly #onData = (chunk: Buffer) => {
    this.#decoder.push(chunk);
    this.#drainDecoder();
  };

  #drainDecoder(): void {
    if (this.#inbox.at(-1)?.type === RequestType.Connect) return;
    try {
      for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) {
        // Frames are views of socket chunks, which Node does not reuse: safe to keep.
        this.#inbox.push(frame);
        // After a CONNECT the stream carries raft messages: leave them in the decoder.
        if (frame.type === RequestType.Connect) break;
      }
    } catch (error) {
      this.#protocolViolation(error);
      return;
    }
    if (this.#inbox.length > MAX_QUEUED_REQUESTS) {
      this.#protocolViolation(new Error(`more than ${MAX_QUEUED_REQUESTS} requests queued`));
      return;
    }
    void this.#pump();
  }

  #protocolViolation(error: unknown): void {
    this.#services.logger.debug(
      { error: error instanceof Error ? error.message : String(error) },
      "closing client connection after a protocol error",
    );
    this.close();
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#closed && this.#inbox.length > 0) {
        const frame = this.#inbox.shift()!;
        if (frame.type === RequestType.Connect && this.#session === null) {
          this.#handOverToRaft(frame);
          return;
        }
        await this.#handle(frame);
        if (this.#session?.lost) this.#closeSession();
      }
    } finally {
      this.#running = false;
      if (this.#closed) this.#closeSession();
    }
  }

  #handOverToRaft(frame: Frame): void {
    let request: Request;
    try {
      request = decode(frame);
    } catch (error) {
      this.#protocolViolation(error);
      return;
    }
    if (request.type !== "connect") return;
    this.#closed = true;
    this.#socket.off("data", this.#onData);
    this.#socket.removeAllListeners("close");
    this.#socket.removeAllListeners("error");
    this.#onClose(this);
    const leftover = this.#decoder.takeRemaining();
    this.#services.acceptPeer(this.#socket, request.nodeId, request.address, leftover);
  }

  async #handle(frame: Frame): Promise<void> {
    let request: Request;
    try {
      request = decode(frame);
    } catch (error) {
      const failure = decodeFailure(frame, error);
      if (failure === null) this.#protocolViolation(error);
      else this.#send({ type: "failure", code: failure.code, message: failure.message });
      return;
    }
    try {
      await this.#dispatch(request);
    } catch (error) {
      this.#send(failureFor(error));
    }
  }

  #send(response: Response, serversFormat?: number): void {
    if (this.#closed) return;
    this.#socket.write(encodeResponse(response, { serversFormat }));
  }

  async #dispatch(request: Request): Promise<void> {
    const { replication } = this.#services;
    switch (request.type) {
      case "leader":
        return this.#leader();
      case "client":
        return this.#send({ type: "welcome", heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
      case "heartbeat":
      case "connect":
        throw new RequestFailure(ErrorCode.DqliteParse, "unrecognized request type");
      case "open":
        return this.#open(request.name);
      case "prepare":
        return this.#prepare(request.dbId, request.sql, request.schema);
      case "exec":
        return this.#execPrepared(request.dbId, request.stmtId, request.params);
      case "query":
        return this.#queryPrepared(request.dbId, request.stmtId, request.params);
      case "finalize":
        return this.#finalize(request.dbId, request.stmtId);
      case "execSql":
        return this.#execSql(request.dbId, request.sql, request.params);
      case "querySql":
        return this.#querySql(request.dbId, request.sql, request.params);
      case "interrupt":
        // Nothing is running (a streamed query checks for Interrupts itself).
        return this.#send({ type: "empty" });
      case "add":
        this.#requireLeader();
        await replication.add(request.nodeId, request.address);
        return this.#send({ type: "empty" });
      case "assign": {
        this.#requireLeader();
        const role = request.role ?? Role.Voter;
        if (role !== Role.Voter && role !== Role.StandBy && role !== Role.Spare) {
          throw new RequestFailure(ErrorCode.Error, `unknown role ${role}`);
        }
        await replication.assign(request.nodeId, role);
        return this.#send({ type: "empty" });
      }
      case "remove":
        this.#requireLeader();
        await replication.remove(request.nodeId);
        return this.#send({ type: "empty" });
      case "transfer":
        this.#requireLeader();
        await replication.transfer(request.nodeId);
        return this.#send({ type: "empty" });
      case "dump":
        return this.#dump(request.name);
      case "cluster":
        return this.#cluster(request.format);
      case "describe": {
        if (request.format !== 0) {
          throw new RequestFailure(ErrorCode.Protocol, "bad format version");
        }
        const { failureDomain, weight } = this.#services.metadata;
        return this.#send({ type: "metadata", failureDomain, weight });
      }
      case "weight":
        this.#services.metadata.weight = request.weight;
        return this.#send({ type: "empty" });
    }
  }

  #leader(): void {
    const { replication } = this.#services;
    // Only voters are trusted to know the leader; others answer "no leader" (dqlite's rule).
    const leader = replication.isVoter() ? replication.leader() : null;
    if (this.#decoder.version === PROTOCOL_VERSION_LEGACY) {
      this.#send({ type: "nodeLegacy", address: leader?.address ?? "" });
    } else {
      this.#send({ type: "node", id: leader?.id ?? 0n, address: leader?.address ?? "" });
    }
  }

  #cluster(format: number): void {
    if (format !== 0 && format !== 1) {
      throw new RequestFailure(ErrorCode.DqliteParse, "unrecognized cluster format");
    }
    const servers = this.#services.replication.members().map((member) => ({
      id: member.id,
      address: member.address,
      ...(format === 1 ? { role: member.role } : {}),
    }));
    this.#send({ type: "servers", servers }, format);
  }

  #dump(name: string): void {
    const dump = this.#services.fsm.dump(name);
    if (dump === null) {
      throw new RequestFailure(ErrorCode.DqliteNotFound, "database does not exists");
    }
    this.#send({
      type: "files",
      files: [
        { name, data: dump.main },
        { name: `${name}-wal`, data: dump.wal },
      ],
    });
  }

  #requireLeader(): void {
    if (!this.#services.replication.isLeader()) throw notLeader();
  }

  #open(name: string): void {
    this.#requireLeader();
    if (this.#session !== null) {
      throw new RequestFailure(ErrorCode.Busy, "a database for this connection is already open");
    }
    const connection = this.#services.fsm.connect(name);
    this.#session = {
      name,
      connection,
      statements: [],
      cache: new StatementCache(),
      lost: false,
    };
    this.#send({ type: "db", dbId: 0 });
  }

  /** The open session, checked in dqlite's order: database first, then leadership. */
  #sessionFor(dbId: number): Session {
    const session = this.#session;
    if (session === null || dbId !== 0 || session.lost) {
      if (!this.#services.replication.isLeader()) throw notLeader();
      throw noDatabase();
    }
    this.#requireLeader();
    return session;
  }

  async #prepare(dbId: number, sql: string, schema: 0 | 1): Promise<void> {
    const session = this.#sessionFor(dbId);
    await this.#leaderReady(session);
    const text = utf8.encode(sql);
    const { statement, tailOffsetBytes } = session.connection.prepareAt(text, 0);
    if (statement === null) throw new RequestFailure(ErrorCode.EmptyStatement, "empty statement");
    if (schema === 0 && !isBlankTail(session.connection, text, tailOffsetBytes)) {
      statement.finalize();
      throw new RequestFailure(ErrorCode.Error, "nonempty statement tail");
    }
    let stmtId = session.statements.indexOf(undefined);
    if (stmtId < 0) stmtId = session.statements.length;
    session.statements[stmtId] = { statement, plan: null };
    this.#send({
      type: "stmt",
      dbId: 0,
      stmtId,
      paramCount: statement.parameterCount(),
      ...(schema === 1 ? { tailOffset: tailOffsetBytes } : {}),
    });
  }

  #prepared(session: Session, stmtId: number): PreparedEntry {
    const entry = session.statements[stmtId];
    if (entry === undefined) throw noStatement();
    return entry;
  }

  #finalize(dbId: number, stmtId: number): void {
    const session = this.#session;
    if (session === null || dbId !== 0) throw noDatabase();
    const entry = this.#prepared(session, stmtId);
    session.statements[stmtId] = undefined;
    while (session.statements.length > 0 && session.statements.at(-1) === undefined) {
      session.statements.pop();
    }
    entry.statement.finalize();
    this.#send({ type: "empty" });
  }

  async #execPrepared(dbId: number, stmtId: number, params: Param[]): Promise<void> {
    const session = this.#sessionFor(dbId);
    const { statement } = this.#prepared(session, stmtId);
    await this.#leaderReady(session);
    statement.clearBindings();
    bindParams(statement, params, 0);
    await this.#exec(session, statement);
    this.#sendResult(session.connection);
  }

  async #execSql(dbId: number, sql: string, params: Param[]): Promise<void> {
    const session = this.#sessionFor(dbId);
    await this.#leaderReady(session);
    const cached = session.cache.get(sql);
    if (cached !== undefined) {
      cached.statement.clearBindings();
      bindParams(cached.statement, params, 0);
      await this.#exec(session, cached.statement);
      this.#sendResult(session.connection);
      return;
    }
    const text = utf8.encode(sql);
    let offset = 0;
    let used = 0;
    let ran = false;
    // Each statement runs, and commits through raft, before the next is prepared: a later
    // statement may depend on the schema or data of an earlier one (ENGINE.md pitfall 4).
    while (offset < text.length) {
      const first = offset === 0;
      const { statement, tailOffsetBytes } = session.connection.prepareAt(text, offset);
      offset = tailOffsetBytes;
      if (statement === null) break;
      // SQL that is one statement is kept compiled for the next time it comes.
      const keep = first && isBlankTail(session.connection, text, tailOffsetBytes);
      if (keep) session.cache.put(sql, statement);
      try {
        used = bindParams(statement, params, used);
        await this.#exec(session, statement);
        ran = true;
      } finally {
        if (!keep) statement.finalize();
      }
      if (keep) break;
      this.#requireLeader();
    }
    if (ran) this.#sendResult(session.connection);
    else this.#send({ type: "result", lastInsertId: 0n, rowsAffected: 0 });
  }

  async #queryPrepared(dbId: number, stmtId: number, params: Param[]): Promise<void> {
    const session = this.#sessionFor(dbId);
    const entry = this.#prepared(session, stmtId);
    await this.#leaderReady(session);
    entry.statement.clearBindings();
    if (bindParams(entry.statement, params, 0) < params.length) {
      throw new RequestFailure(ErrorCode.Error, "bind parameters");
    }
    entry.plan ??= planColumns(entry.statement);
    await this.#query(session, entry.statement, entry.plan);
  }

  async #querySql(dbId: number, sql: string, params: Param[]): Promise<void> {
    const session = this.#sessionFor(dbId);
    await this.#leaderReady(session);
    let entry = session.cache.get(sql);
    if (entry === undefined) {
      const text = utf8.encode(sql);
      const { statement, tailOffsetBytes } = session.connection.prepareAt(text, 0);
      if (statement === null) {
        throw new RequestFailure(ErrorCode.EmptyStatement, "empty statement");
      }
      if (!isBlankTail(session.connection, text, tailOffsetBytes)) {
        statement.finalize();
        throw new RequestFailure(ErrorCode.Error, "nonempty statement tail");
      }
      entry = session.cache.put(sql, statement);
    }
    const { statement } = entry;
    statement.clearBindings();
    if (bindParams(statement, params, 0) < params.length) {
      throw new RequestFailure(ErrorCode.Error, "bind parameters");
    }
    entry.plan ??= planColumns(statement);
    await this.#query(session, statement, entry.plan);
  }

  #sendResult(connection: Connection): void {
    const rowid = connection.lastInsertRowid();
    this.#send({
      type: "result",
      lastInsertId: typeof rowid === "bigint" ? rowid : BigInt(rowid),
      rowsAffected: connection.changes(),
    });
  }

  /** A new leader first applies what its predecessors committed (unless a transaction is open). */
  async #leaderReady(session: Session): Promise<void> {
    if (session.connection.isAutocommit()) await this.#services.leaderReady();
    this.#requireLeader();
  }

  /** Runs a statement that must not yield rows; its commit, if any, goes through raft. */
  async #exec(session: Session, statement: Statement): Promise<void> {
    await this.#withWriterLock(session, statement, async () => {
      let yielded = false;
      try {
        yielded = statement.step();
      } finally {
        // A write statement commits when it is reset in autocommit mode, even after a row; and
        // whatever committed must go through raft (or be aborted), whatever else happened.
        resetQuietly(statement);
        await this.#replicate(session);
      }
      if (yielded) {
        throw new RequestFailure(
          ErrorCode.Error,
          "rows yielded when none expected for EXEC request",
        );
      }
    });
  }

  /**
   * Runs a statement and streams its rows. Reads stream part by part; a statement that writes
   * (e.g. RETURNING) sends nothing before its transaction is committed through raft.
   */
  async #query(session: Session, statement: Statement, plan: ColumnPlan): Promise<void> {
    const columns = Array.from({ length: plan.length }, (_, i) => statement.columnName(i));
    const writer = new RowsWriter(columns);
    const streams = statement.isReadonly();
    // A read answers from local state: only while no other leader can exist. (A write needs no
    // such check: it commits only if this node still leads.)
    if (streams) await this.#services.readReady();
    await this.#withWriterLock(session, statement, async () => {
      const held: Uint8Array[] = [];
      try {
        for (;;) {
          if (!statement.step()) break;
          if (plan.length === 0) continue;
          writeRow(writer, statement, plan);
          if (!writer.full) continue;
          const part = writer.finish(true);
          if (!streams) {
            held.push(part);
            continue;
          }
          this.#socket.write(part);
          if (await this.#interruptedWhileSending()) {
            this.#send({ type: "empty" });
            return;
          }
        }
      } finally {
        resetQuietly(statement);
        await this.#replicate(session);
      }
      for (const part of held) this.#socket.write(part);
      this.#socket.write(writer.finish(false));
    });
  }

  /**
   * Lets the socket drain and looks for an Interrupt, which a client sends after a Rows part
   * when it stops reading a result. True if one arrived (it is consumed).
   */
  async #interruptedWhileSending(): Promise<boolean> {
    if (this.#closed) return true;
    if (this.#socket.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#socket.off("drain", done);
          this.#socket.off("close", done);
          resolve();
        };
        this.#socket.on("drain", done);
        this.#socket.on("close", done);
      });
    }
    if (this.#closed) return true;
    const next = this.#inbox[0];
    if (next?.type !== RequestType.Interrupt) return false;
    this.#inbox.shift();
    return true;
  }

  /**
   * Runs `work` holding the database's writer lock if the statement writes. A writer sees the
   * transactions still waiting for raft and builds on them (pipelining); readers never do.
   */
  async #withWriterLock(
    session: Session,
    statement: Statement,
    work: () => Promise<void>,
  ): Promise<void> {
    const { fsm } = this.#services;
    const lock = this.#services.lockFor(session.name);
    if (!statement.isReadonly()) {
      try {
        await lock.acquire(this, this.#services.busyTimeoutMs);
      } catch (error) {
        if (error instanceof BusyError) throw new RequestFailure(ErrorCode.Busy, error.message);
        throw error;
      }
      this.#requireLeader();
    }
    fsm.setWriteIntent(session.connection, lock.owner === this);
    try {
      await work();
    } finally {
      if (session.connection.isOpen) fsm.setWriteIntent(session.connection, false);
      // The lock stays with an open transaction until its COMMIT or ROLLBACK.
      if (!session.connection.isOpen || session.connection.isAutocommit()) lock.release(this);
    }
  }

  /**
   * If the last step committed a transaction, replicate it and wait until it is applied. Once
   * raft has the entry, the next writer may go: its transaction comes later in the log, so it
   * commits only after this one (and fails if this one fails).
   */
  async #replicate(session: Session): Promise<void> {
    const { fsm, replication } = this.#services;
    const transaction: PendingTransaction | null = fsm.takeCommitted(session.connection);
    if (transaction === null) {
      // Also inside an open transaction (BEGIN IMMEDIATE, or its first write): whatever it
      // answers from now on rests on what it saw, so that must be committed first.
      await this.#settleReadPending(session);
      return;
    }
    // Committed on top of what it read: raft commits it only after those.
    fsm.takeReadPending(session.connection);
    const command = fsm.encode(transaction);
    let applied: Promise<void>;
    try {
      applied = replication.propose(command);
    } catch (error) {
      fsm.abort(transaction);
      throw error;
    }
    if (session.connection.isAutocommit()) this.#services.lockFor(session.name).release(this);
    try {
      await applied;
    } catch (error) {
      fsm.abort(transaction);
      throw error;
    }
  }

  /**
   * A statement whose read transaction saw transactions still waiting for raft (write intent:
   * an autocommit write that changed nothing, BEGIN IMMEDIATE, an open transaction's first
   * write) answers only once they are committed: a barrier behind them in the log. If one of
   * them was dropped, it fails (an open transaction is rolled back): what it would answer rests
   * on a write that never happened. Once per read transaction: what it sees does not change.
   */
  async #settleReadPending(session: Session): Promise<void> {
    const seen = this.#services.fsm.takeReadPending(session.connection);
    if (seen === null) return;
    let failure: unknown = null;
    if (seen.state === "pending") {
      await this.#services.replication.barrier().catch((error: unknown) => {
        failure = error;
      });
    }
    // A failed barrier matters only if what it read is not known to be applied.
    if (seen.state !== "applied") {
      // An open transaction built on it is rolled back: nothing it reads could be trusted.
      if (!session.connection.isAutocommit()) {
        try {
          session.connection.exec("ROLLBACK");
        } catch {
          // Already rolled back by SQLite.
        }
      }
      throw (
        failure ??
        new ReplicationError("leadership-lost", "a transaction it read was not committed")
      );
    }
  }

  #closeSession(): void {
    const session = this.#session;
    if (session === null) return;
    this.#session = null;
    for (const entry of session.statements) entry?.statement.finalize();
    const lock = this.#services.lockFor(session.name);
    // Closing rolls back an open transaction; a committed one was replicated or aborted already.
    session.connection.close();
    lock.cancel(this);
    lock.release(this);
  }
}

const utf8 = new TextEncoder();

/** Integers beyond 2^53 arrive as bigint; the SQLite binding takes both. */
function decode(frame: Frame): Request {
  return decodeRequest(frame);
}

/**
 * A decode error answered with a Failure (the connection stays usable), or null when the bytes
 * are malformed and the connection must be closed, as dqlite does.
 */
function decodeFailure(frame: Frame, error: unknown): RequestFailure | null {
  if (!(error instanceof WireDecodeError)) return null;
  switch (error.kind) {
    case "unknown-type":
      return new RequestFailure(ErrorCode.DqliteParse, "unrecognized request type");
    case "unknown-schema": {
      const statementRequest =
        frame.type >= RequestType.Prepare && frame.type <= RequestType.QuerySql;
      return new RequestFailure(
        statementRequest ? ErrorCode.Error : ErrorCode.DqliteParse,
        "unrecognized schema version",
      );
    }
    case "bad-value-type":
      return new RequestFailure(ErrorCode.DqliteParse, error.message);
    default:
      return null;
  }
}

function failureFor(error: unknown): Response {
  if (error instanceof RequestFailure) {
    return { type: "failure", code: error.code, message: error.message };
  }
  if (error instanceof SqliteError) {
    return { type: "failure", code: error.extendedCode, message: error.message };
  }
  if (error instanceof ReplicationError) {
    switch (error.kind) {
      case "not-leader":
        return { type: "failure", code: ErrorCode.NotLeader, message: "not leader" };
      case "leadership-lost":
        return { type: "failure", code: ErrorCode.LeadershipLost, message: "leadership lost" };
      case "cant-change":
        return { type: "failure", code: ErrorCode.Busy, message: error.message };
      case "no-space":
        return { type: "failure", code: ErrorCode.IoErr | (3 << 8), message: error.message };
      case "shutdown":
        return { type: "failure", code: 4, message: error.message };
      default:
        return { type: "failure", code: ErrorCode.Error, message: error.message };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { type: "failure", code: ErrorCode.Error, message };
}

/**
 * Binds as many values from `params[from..]` as the statement has placeholders (current dqlite:
 * values are consumed statement by statement). Returns the index of the first unused value.
 */
function bindParams(statement: Statement, params: readonly Param[], from: number): number {
  const count = Math.min(statement.parameterCount(), params.length - from);
  for (let i = 0; i < count; i++) {
    const param = params[from + i];
    switch (param.type) {
      case ValueType.Boolean:
        statement.bind(i + 1, param.value ? 1 : 0);
        break;
      default:
        statement.bind(i + 1, param.value);
    }
  }
  return from + count;
}

/** True when the SQL after `offset` holds no statement (only spaces and comments). */
function isBlankTail(connection: Connection, text: Uint8Array, offset: number): boolean {
  if (offset >= text.length) return true;
  let statement: Statement | null;
  try {
    ({ statement } = connection.prepareAt(text, offset));
  } catch {
    // A statement that does not compile yet (it may need the first one's table) is one.
    return false;
  }
  if (statement === null) return true;
  statement.finalize();
  return false;
}

function resetQuietly(statement: Statement): void {
  try {
    statement.reset();
  } catch {
    // reset repeats the error of the last step, which was already reported
  }
}
