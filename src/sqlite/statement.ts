// A prepared statement over the raw sqlite3_* exports: bind, step, read columns, reset, finalize.
import {
  SQLITE_BLOB,
  SQLITE_DONE,
  SQLITE_FLOAT,
  SQLITE_INTEGER,
  SQLITE_MISUSE,
  SQLITE_NULL,
  SQLITE_OK,
  SQLITE_ROW,
  SQLITE_TEXT,
  SqliteError,
} from "./result-codes.js";
import type { Pointer, Wasm } from "./wasm.js";

/** A value SQLite stores or returns: integers as number (bigint when beyond 2^53), floats, text, blobs. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** What a statement needs from the connection that prepared it. */
export interface StatementOwner {
  readonly wasm: Wasm;
  /** Throws the connection's current error for result code `rc`. */
  fail(rc: number): never;
  /** Runs work the connection postponed until it is idle (a schema reset after an abort). */
  beforeUse(): void;
  forget(statement: Statement): void;
}

const SQLITE_TRANSIENT = -1;
const MIN_INT32 = -0x80000000;
const MAX_INT32 = 0x7fffffff;

/** A prepared statement. Finalize it (or close its connection) to free it. */
export class Statement {
  readonly #owner: StatementOwner;
  readonly #wasm: Wasm;
  #pointer: Pointer;

  constructor(owner: StatementOwner, pointer: Pointer) {
    this.#owner = owner;
    this.#wasm = owner.wasm;
    this.#pointer = pointer;
  }

  #live(): Pointer {
    if (this.#pointer === 0) throw new SqliteError(SQLITE_MISUSE, "statement is finalized");
    return this.#pointer;
  }

  /** Number of `?`, `?N`, `:name` parameters. */
  parameterCount(): number {
    return this.#wasm.exports.sqlite3_bind_parameter_count(this.#live());
  }

  /** Name of parameter `index` (1-based), e.g. ":id"; empty for a nameless `?`. */
  parameterName(index: number): string {
    return this.#wasm.cString(this.#wasm.exports.sqlite3_bind_parameter_name(this.#live(), index));
  }

  /** True if the statement makes no direct change to the database. */
  isReadonly(): boolean {
    return this.#wasm.exports.sqlite3_stmt_readonly(this.#live()) !== 0;
  }

  /** Binds `value` to parameter `index` (1-based); integers beyond int32 go as int64. */
  bind(index: number, value: SqlValue): void {
    if (value === null) this.bindNull(index);
    else if (typeof value === "number") {
      if (Number.isInteger(value)) {
        if (value >= MIN_INT32 && value <= MAX_INT32) this.#check(this.#bindInt32(index, value));
        else if (Number.isSafeInteger(value)) this.bindInt64(index, BigInt(value));
        else this.bindDouble(index, value);
      } else this.bindDouble(index, value);
    } else if (typeof value === "bigint") this.bindInt64(index, value);
    else if (typeof value === "string") this.bindText(index, value);
    else this.bindBlob(index, value);
  }

  /** Binds every value of `values` to parameters 1..n. */
  bindAll(values: readonly SqlValue[]): void {
    for (let i = 0; i < values.length; i++) this.bind(i + 1, values[i]);
  }

  bindNull(index: number): void {
    this.#check(this.#wasm.exports.sqlite3_bind_null(this.#live(), index));
  }

  #bindInt32(index: number, value: number): number {
    return this.#wasm.exports.sqlite3_bind_int(this.#live(), index, value);
  }

  bindInt64(index: number, value: bigint): void {
    this.#check(
      this.#wasm.exports.sqlite3_bind_int64(this.#live(), index, BigInt.asIntN(64, value)),
    );
  }

  bindDouble(index: number, value: number): void {
    this.#check(this.#wasm.exports.sqlite3_bind_double(this.#live(), index, value));
  }

  bindText(index: number, value: string): void {
    const stmt = this.#live();
    const { pointer, sizeBytes } = this.#wasm.scratchUtf8(value);
    this.#check(
      this.#wasm.exports.sqlite3_bind_text(stmt, index, pointer, sizeBytes, SQLITE_TRANSIENT),
    );
  }

  bindBlob(index: number, value: Uint8Array): void {
    const stmt = this.#live();
    // A zero-length blob needs a non-null pointer or SQLite binds NULL instead.
    const pointer = this.#wasm.scratch(value.length + 1);
    this.#wasm.u8().set(value, pointer);
    this.#check(
      this.#wasm.exports.sqlite3_bind_blob(stmt, index, pointer, value.length, SQLITE_TRANSIENT),
    );
  }

  #check(rc: number): void {
    if (rc !== SQLITE_OK) this.#owner.fail(rc);
  }

  /** Runs one step: true when a row is ready, false when done. Throws `SqliteError` on failure. */
  step(): boolean {
    const stmt = this.#live();
    this.#owner.beforeUse();
    const rc = this.#wasm.exports.sqlite3_step(stmt);
    if (rc === SQLITE_ROW) return true;
    if (rc === SQLITE_DONE) return false;
    return this.#owner.fail(rc);
  }

  /** Steps to the end, returning every row as an array of values. */
  all(): SqlValue[][] {
    const rows: SqlValue[][] = [];
    while (this.step()) rows.push(this.row());
    return rows;
  }

  /** Resets the statement so it can run again; bindings are kept. */
  reset(): void {
    // The result code repeats the last step's error, which the caller has already seen.
    this.#wasm.exports.sqlite3_reset(this.#live());
  }

  clearBindings(): void {
    this.#wasm.exports.sqlite3_clear_bindings(this.#live());
  }

  columnCount(): number {
    return this.#wasm.exports.sqlite3_column_count(this.#live());
  }

  columnName(index: number): string {
    return this.#wasm.cString(this.#wasm.exports.sqlite3_column_name(this.#live(), index));
  }

  /** Declared type of a result column that comes straight from a table ("" otherwise). */
  columnDecltype(index: number): string {
    return this.#wasm.cString(this.#wasm.exports.sqlite3_column_decltype(this.#live(), index));
  }

  /** One of SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL for the current row. */
  columnType(index: number): number {
    return this.#wasm.exports.sqlite3_column_type(this.#pointer, index);
  }

  /** Integer value: a number when it is a safe integer, else a bigint. */
  columnInt(index: number): number | bigint {
    const ex = this.#wasm.exports;
    // A double that is a safe integer proves the int64 is that exact value (conversion is
    // monotonic and exact below 2^53); this avoids a BigInt per column in the common case.
    const asDouble = ex.sqlite3_column_double(this.#pointer, index);
    if (Number.isSafeInteger(asDouble)) return asDouble;
    return ex.sqlite3_column_int64(this.#pointer, index);
  }

  columnInt64(index: number): bigint {
    return this.#wasm.exports.sqlite3_column_int64(this.#pointer, index);
  }

  columnDouble(index: number): number {
    return this.#wasm.exports.sqlite3_column_double(this.#pointer, index);
  }

  columnText(index: number): string {
    const ex = this.#wasm.exports;
    const pointer = ex.sqlite3_column_text(this.#pointer, index);
    const sizeBytes = ex.sqlite3_column_bytes(this.#pointer, index);
    return this.#wasm.utf8(pointer, sizeBytes);
  }

  /** Blob value, copied out of wasm memory. */
  columnBlob(index: number): Uint8Array {
    const ex = this.#wasm.exports;
    const pointer = ex.sqlite3_column_blob(this.#pointer, index);
    const sizeBytes = ex.sqlite3_column_bytes(this.#pointer, index);
    return this.#wasm.u8().slice(pointer, pointer + sizeBytes);
  }

  /** Value of column `index` in the current row, typed as SQLite stores it. */
  columnValue(index: number): SqlValue {
    switch (this.columnType(index)) {
      case SQLITE_INTEGER:
        return this.columnInt(index);
      case SQLITE_FLOAT:
        return this.columnDouble(index);
      case SQLITE_TEXT:
        return this.columnText(index);
      case SQLITE_BLOB:
        return this.columnBlob(index);
      case SQLITE_NULL:
        return null;
      default:
        throw new SqliteError(SQLITE_MISUSE, "unknown column type");
    }
  }

  /** Every column of the current row. */
  row(): SqlValue[] {
    const n = this.#wasm.exports.sqlite3_data_count(this.#pointer);
    const values = new Array<SqlValue>(n);
    for (let i = 0; i < n; i++) values[i] = this.columnValue(i);
    return values;
  }

  /** Frees the statement; later calls throw. Finalizing twice is harmless. */
  finalize(): void {
    if (this.#pointer === 0) return;
    this.#wasm.exports.sqlite3_finalize(this.#pointer);
    this.#pointer = 0;
    this.#owner.forget(this);
  }
}
