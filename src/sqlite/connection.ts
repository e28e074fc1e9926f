// A database connection over the raw sqlite3_* exports: open, prepare, exec, changes, close.
import { SQLITE_MISUSE, SQLITE_OK, SqliteError } from "./result-codes.js";
import { type SqlValue, Statement, type StatementOwner } from "./statement.js";
import type { Pointer, Wasm } from "./wasm.js";

const SQLITE_OPEN_READWRITE = 0x2;
const SQLITE_OPEN_CREATE = 0x4;
const SQLITE_OPEN_EXRESCODE = 0x02000000;
const SQLITE_DBCONFIG_ENABLE_FKEY = 1002;
const SQLITE_DBCONFIG_DQS_DML = 1013;
const SQLITE_DBCONFIG_DQS_DDL = 1014;

/** Result of preparing the statement that starts at a byte offset of a SQL text. */
export interface PrepareResult {
  /** The statement, or null when only whitespace or comments were left. */
  readonly statement: Statement | null;
  /** Where the rest of the SQL text starts (UTF-8 byte offset into the same text). */
  readonly tailOffsetBytes: number;
}

/** Connection settings: the dialect dqlite users get (see ENGINE.md) and the replicating journal. */
const SETUP_SQL = [
  "PRAGMA page_size=4096",
  "PRAGMA journal_mode=MEMORY",
  "PRAGMA locking_mode=NORMAL",
  "PRAGMA synchronous=OFF",
  "PRAGMA temp_store=MEMORY",
  "PRAGMA secure_delete=ON",
];

/** An open SQLite connection. Not thread-safe by nature: everything here is synchronous. */
export class Connection {
  readonly #wasm: Wasm;
  #db: Pointer;
  readonly #statements = new Set<Statement>();
  #schemaResetWanted = false;
  readonly #owner: StatementOwner;

  private constructor(wasm: Wasm, db: Pointer) {
    this.#wasm = wasm;
    this.#db = db;
    this.#owner = {
      wasm,
      fail: (rc) => this.#fail(rc),
      beforeUse: () => this.#beforeUse(),
      forget: (statement) => this.#statements.delete(statement),
    };
  }

  /**
   * Opens `filename` on the VFS named `vfsName` (the default VFS when omitted) and applies the
   * connection settings dqlite uses.
   */
  static open(wasm: Wasm, filename: string, vfsName?: string): Connection {
    const ex = wasm.exports;
    const filenamePointer = wasm.allocCString(filename);
    const vfsPointer = vfsName === undefined ? 0 : wasm.allocCString(vfsName);
    const out = wasm.malloc(4);
    try {
      wasm.i32()[out >> 2] = 0;
      const flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE;
      const rc = ex.sqlite3_open_v2(filenamePointer, out, flags, vfsPointer);
      const db = wasm.i32()[out >> 2];
      if (rc !== SQLITE_OK) {
        const message =
          db === 0 ? wasm.cString(ex.sqlite3_errstr(rc)) : wasm.cString(ex.sqlite3_errmsg(db));
        if (db !== 0) ex.sqlite3_close_v2(db);
        throw new SqliteError(rc, `cannot open ${JSON.stringify(filename)}: ${message}`);
      }
      const connection = new Connection(wasm, db);
      try {
        connection.#configure();
      } catch (error) {
        connection.close();
        throw error;
      }
      return connection;
    } finally {
      wasm.free(out);
      wasm.free(filenamePointer);
      if (vfsPointer !== 0) wasm.free(vfsPointer);
    }
  }

  #configure(): void {
    const ex = this.#wasm.exports;
    for (const op of [
      SQLITE_DBCONFIG_DQS_DML,
      SQLITE_DBCONFIG_DQS_DDL,
      SQLITE_DBCONFIG_ENABLE_FKEY,
    ]) {
      const rc = ex.sqlite3__wasm_db_config_ip(this.#db, op, 1, 0);
      if (rc !== SQLITE_OK) this.#fail(rc);
    }
    for (const sql of SETUP_SQL) this.exec(sql);
  }

  /** The sqlite3* handle (for the VFS of this folder). */
  get pointer(): Pointer {
    if (this.#db === 0) throw new SqliteError(SQLITE_MISUSE, "connection is closed");
    return this.#db;
  }

  get isOpen(): boolean {
    return this.#db !== 0;
  }

  /** Prepares the first statement of `sql`; throws if it holds none. The rest is ignored. */
  prepare(sql: string): Statement {
    this.#beforeUse();
    const { pointer, sizeBytes } = this.#wasm.scratchUtf8(sql, 16);
    const { statement } = this.#prepareAt(pointer, sizeBytes);
    if (statement === null) throw new SqliteError(SQLITE_MISUSE, "no SQL statement to prepare");
    return statement;
  }

  /**
   * Prepares the statement starting at `offsetBytes` of the UTF-8 text `sql` and says where
   * the next one starts: step multi-statement SQL one statement at a time (ENGINE.md pitfall 4).
   */
  prepareAt(sql: Uint8Array, offsetBytes = 0): PrepareResult {
    this.#beforeUse();
    const sizeBytes = sql.length - offsetBytes;
    const pointer = this.#wasm.scratch(sizeBytes + 16);
    this.#wasm.u8().set(sql.subarray(offsetBytes), pointer);
    const result = this.#prepareAt(pointer, sizeBytes);
    return { statement: result.statement, tailOffsetBytes: offsetBytes + result.consumedBytes };
  }

  #prepareAt(
    pointer: Pointer,
    sizeBytes: number,
  ): { statement: Statement | null; consumedBytes: number } {
    const ex = this.#wasm.exports;
    // The text is NUL-terminated (SQLite then needs no private copy of it) and the
    // out-parameters [stmt*, tail*] follow it in the same scratch area.
    this.#wasm.u8()[pointer + sizeBytes] = 0;
    const out = (pointer + sizeBytes + 4) & ~3;
    const words = this.#wasm.i32();
    words[out >> 2] = 0;
    words[(out + 4) >> 2] = 0;
    const rc = ex.sqlite3_prepare_v3(this.pointer, pointer, sizeBytes + 1, 0, out, out + 4);
    const after = this.#wasm.i32();
    const stmt = after[out >> 2];
    const tail = after[(out + 4) >> 2];
    if (rc !== SQLITE_OK) this.#fail(rc);
    const consumedBytes = tail === 0 ? sizeBytes : Math.min(tail - pointer, sizeBytes);
    if (stmt === 0) return { statement: null, consumedBytes };
    const statement = new Statement(this.#owner, stmt);
    this.#statements.add(statement);
    return { statement, consumedBytes };
  }

  /** Runs every statement of `sql` to completion, discarding rows. */
  exec(sql: string): void {
    const text = new TextEncoder().encode(sql);
    let offset = 0;
    while (offset < text.length) {
      const { statement, tailOffsetBytes } = this.prepareAt(text, offset);
      offset = tailOffsetBytes;
      if (statement === null) break;
      try {
        while (statement.step()) {
          // rows are discarded
        }
      } finally {
        statement.finalize();
      }
    }
  }

  /** Runs one statement and returns its rows (convenience for tests and tools). */
  query(sql: string, parameters: readonly SqlValue[] = []): SqlValue[][] {
    const statement = this.prepare(sql);
    try {
      statement.bindAll(parameters);
      return statement.all();
    } finally {
      statement.finalize();
    }
  }

  /** Rows changed by the last INSERT, UPDATE or DELETE. */
  changes(): number {
    return Number(this.#wasm.exports.sqlite3_changes64(this.pointer));
  }

  totalChanges(): number {
    return Number(this.#wasm.exports.sqlite3_total_changes64(this.pointer));
  }

  /** Rowid of the last successful INSERT (bigint when beyond 2^53). */
  lastInsertRowid(): number | bigint {
    const rowid = this.#wasm.exports.sqlite3_last_insert_rowid(this.pointer);
    const asNumber = Number(rowid);
    return Number.isSafeInteger(asNumber) ? asNumber : rowid;
  }

  /** True outside an explicit transaction. */
  isAutocommit(): boolean {
    return this.#wasm.exports.sqlite3_get_autocommit(this.pointer) !== 0;
  }

  /** Makes the running statement stop with SQLITE_INTERRUPT at its next opportunity. */
  interrupt(): void {
    this.#wasm.exports.sqlite3_interrupt(this.pointer);
  }

  /** Extended result code of the most recent failed call. */
  extendedErrorCode(): number {
    return this.#wasm.exports.sqlite3_extended_errcode(this.pointer);
  }

  errorMessage(): string {
    return this.#wasm.cString(this.#wasm.exports.sqlite3_errmsg(this.pointer));
  }

  /**
   * Forgets the cached schema before the next use: after an aborted transaction the schema
   * cookie can repeat with different content (ENGINE.md pitfalls 2 and 3).
   */
  invalidateSchema(): void {
    this.#schemaResetWanted = true;
  }

  #beforeUse(): void {
    if (!this.#schemaResetWanted) return;
    this.#schemaResetWanted = false;
    const { pointer } = this.#wasm.scratchUtf8("PRAGMA writable_schema=RESET");
    const rc = this.#wasm.exports.sqlite3_exec(this.pointer, pointer, 0, 0, 0);
    if (rc !== SQLITE_OK) this.#fail(rc);
  }

  #fail(rc: number): never {
    const db = this.#db;
    const ex = this.#wasm.exports;
    const extended = db === 0 ? rc : ex.sqlite3_extended_errcode(db);
    // The connection's error may belong to an older call when `rc` came from a bind.
    const code = (extended & 0xff) === (rc & 0xff) ? extended : rc;
    const message = db === 0 ? this.#wasm.cString(ex.sqlite3_errstr(rc)) : this.errorMessage();
    throw new SqliteError(code, message);
  }

  /** Finalizes every statement and closes the connection. Closing twice is harmless. */
  close(): void {
    if (this.#db === 0) return;
    for (const statement of [...this.#statements]) statement.finalize();
    this.#wasm.exports.sqlite3_close_v2(this.#db);
    this.#db = 0;
  }
}
