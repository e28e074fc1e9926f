// Loads @sqlite.org/sqlite-wasm once and exposes its raw sqlite3_* exports and heap views.
// Everything after the load is synchronous. This is the only module that knows how the
// package is shaped; the rest of the folder sees `Wasm`.
import sqlite3InitModule from "@sqlite.org/sqlite-wasm";

/** Wasm pointer (32-bit address into the module's memory). */
export type Pointer = number;

/** The subset of the C API the binding and the VFS call directly. */
export interface SqliteExports {
  sqlite3_open_v2(filename: Pointer, ppDb: Pointer, flags: number, zVfs: Pointer): number;
  sqlite3_close_v2(db: Pointer): number;
  sqlite3_extended_result_codes(db: Pointer, onoff: number): number;
  sqlite3_prepare_v3(
    db: Pointer,
    zSql: Pointer,
    nByte: number,
    prepFlags: number,
    ppStmt: Pointer,
    pzTail: Pointer,
  ): number;
  sqlite3_step(stmt: Pointer): number;
  sqlite3_reset(stmt: Pointer): number;
  sqlite3_finalize(stmt: Pointer): number;
  sqlite3_clear_bindings(stmt: Pointer): number;
  sqlite3_bind_parameter_count(stmt: Pointer): number;
  sqlite3_bind_parameter_index(stmt: Pointer, zName: Pointer): number;
  sqlite3_bind_parameter_name(stmt: Pointer, index: number): Pointer;
  sqlite3_bind_null(stmt: Pointer, index: number): number;
  sqlite3_bind_int(stmt: Pointer, index: number, value: number): number;
  sqlite3_bind_int64(stmt: Pointer, index: number, value: bigint): number;
  sqlite3_bind_double(stmt: Pointer, index: number, value: number): number;
  sqlite3_bind_text(
    stmt: Pointer,
    index: number,
    text: Pointer,
    nBytes: number,
    destructor: number,
  ): number;
  sqlite3_bind_blob(
    stmt: Pointer,
    index: number,
    blob: Pointer,
    nBytes: number,
    destructor: number,
  ): number;
  sqlite3_stmt_readonly(stmt: Pointer): number;
  sqlite3_stmt_busy(stmt: Pointer): number;
  sqlite3_column_count(stmt: Pointer): number;
  sqlite3_data_count(stmt: Pointer): number;
  sqlite3_column_name(stmt: Pointer, index: number): Pointer;
  sqlite3_column_decltype(stmt: Pointer, index: number): Pointer;
  sqlite3_column_type(stmt: Pointer, index: number): number;
  sqlite3_column_int64(stmt: Pointer, index: number): bigint;
  sqlite3_column_double(stmt: Pointer, index: number): number;
  sqlite3_column_text(stmt: Pointer, index: number): Pointer;
  sqlite3_column_blob(stmt: Pointer, index: number): Pointer;
  sqlite3_column_bytes(stmt: Pointer, index: number): number;
  sqlite3_changes64(db: Pointer): bigint;
  sqlite3_total_changes64(db: Pointer): bigint;
  sqlite3_last_insert_rowid(db: Pointer): bigint;
  sqlite3_get_autocommit(db: Pointer): number;
  sqlite3_interrupt(db: Pointer): void;
  sqlite3_errcode(db: Pointer): number;
  sqlite3_extended_errcode(db: Pointer): number;
  sqlite3_errmsg(db: Pointer): Pointer;
  sqlite3_errstr(rc: number): Pointer;
  sqlite3_exec(db: Pointer, zSql: Pointer, callback: number, arg: Pointer, errmsg: Pointer): number;
  sqlite3_file_control(db: Pointer, zDbName: Pointer, op: number, pArg: Pointer): number;
  sqlite3_vfs_find(name: Pointer): Pointer;
  sqlite3_vfs_register(vfs: Pointer, makeDefault: number): number;
  sqlite3_vfs_unregister(vfs: Pointer): number;
  sqlite3_malloc(nBytes: number): Pointer;
  sqlite3_free(p: Pointer): void;
  sqlite3_limit(db: Pointer, id: number, newValue: number): number;
  sqlite3__wasm_db_config_ip(db: Pointer, op: number, arg: number, pOut: Pointer): number;
}

/** The part of WebAssembly.Memory used here (the lib typings do not include WebAssembly). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

interface RawModule {
  wasm: {
    exports: SqliteExports;
    memory: WasmMemory;
    installFunction(signature: string, func: (...args: never[]) => unknown): Pointer;
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The loaded wasm module: raw exports, heap views that follow memory growth, string helpers. */
export class Wasm {
  readonly exports: SqliteExports;
  readonly #memory: WasmMemory;
  readonly #install: RawModule["wasm"]["installFunction"];
  #u8: Uint8Array;
  #i32: Int32Array;
  #scratch: Pointer = 0;
  #scratchSizeBytes = 0;

  constructor(raw: RawModule) {
    this.exports = raw.wasm.exports;
    this.#memory = raw.wasm.memory;
    this.#install = raw.wasm.installFunction.bind(raw.wasm);
    this.#u8 = new Uint8Array(this.#memory.buffer);
    this.#i32 = new Int32Array(this.#memory.buffer);
  }

  /** Byte view of the whole heap; refreshed when the memory has grown (old views detach). */
  u8(): Uint8Array {
    // Growing the memory detaches the old buffer, which leaves its views with length 0.
    if (this.#u8.byteLength === 0) this.#refresh();
    return this.#u8;
  }

  /** 32-bit view of the whole heap (index = pointer >> 2). */
  i32(): Int32Array {
    if (this.#i32.byteLength === 0) this.#refresh();
    return this.#i32;
  }

  #refresh(): void {
    this.#u8 = new Uint8Array(this.#memory.buffer);
    this.#i32 = new Int32Array(this.#memory.buffer);
  }

  /** Puts a JavaScript function into the wasm function table (signature letters as emscripten's). */
  installFunction(signature: string, func: (...args: never[]) => unknown): Pointer {
    return this.#install(signature, func);
  }

  malloc(sizeBytes: number): Pointer {
    const p = this.exports.sqlite3_malloc(sizeBytes);
    if (p === 0) throw new RangeError(`sqlite3_malloc(${sizeBytes}) failed: out of wasm memory`);
    return p;
  }

  free(p: Pointer): void {
    this.exports.sqlite3_free(p);
  }

  /** Reads a NUL-terminated UTF-8 string (empty for a null pointer). */
  cString(p: Pointer): string {
    if (p === 0) return "";
    const heap = this.u8();
    let end = p;
    while (heap[end] !== 0) end++;
    return decoder.decode(heap.subarray(p, end));
  }

  /** Decodes `sizeBytes` of UTF-8 at `p`. */
  utf8(p: Pointer, sizeBytes: number): string {
    if (sizeBytes === 0) return "";
    const heap = this.u8();
    if (sizeBytes < 32) {
      // Short ASCII strings are the common case of column text; a loop beats TextDecoder there.
      let ascii = true;
      for (let i = p; i < p + sizeBytes; i++) {
        if (heap[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, heap.subarray(p, p + sizeBytes) as never);
    }
    return decoder.decode(heap.subarray(p, p + sizeBytes));
  }

  /** Allocates a NUL-terminated UTF-8 copy of `text`; the caller frees it. */
  allocCString(text: string): Pointer {
    const bytes = encoder.encode(text);
    const p = this.malloc(bytes.length + 1);
    const heap = this.u8();
    heap.set(bytes, p);
    heap[p + bytes.length] = 0;
    return p;
  }

  /**
   * Returns a scratch area of at least `sizeBytes`, valid until the next call. Used for values
   * SQLite copies at once (SQLITE_TRANSIENT binds, SQL text being prepared).
   */
  scratch(sizeBytes: number): Pointer {
    if (sizeBytes > this.#scratchSizeBytes) {
      if (this.#scratch !== 0) this.free(this.#scratch);
      const size = Math.max(sizeBytes, 4096, this.#scratchSizeBytes * 2);
      this.#scratch = this.malloc(size);
      this.#scratchSizeBytes = size;
    }
    return this.#scratch;
  }

  /**
   * Encodes `text` as NUL-terminated UTF-8 into the scratch area (with `extraBytes` to spare
   * after it); returns the pointer and the byte length without the NUL.
   */
  scratchUtf8(text: string, extraBytes = 0): { pointer: Pointer; sizeBytes: number } {
    const pointer = this.scratch(text.length * 3 + extraBytes + 1);
    const heap = this.u8();
    const { written } = encoder.encodeInto(text, heap.subarray(pointer, pointer + text.length * 3));
    heap[pointer + written] = 0;
    return { pointer, sizeBytes: written };
  }
}

let loading: Promise<Wasm> | undefined;

/** Loads the wasm module (once per process); later calls return the same instance. */
export function loadWasm(): Promise<Wasm> {
  loading ??= (sqlite3InitModule as unknown as () => Promise<RawModule>)().then(
    (raw) => new Wasm(raw),
  );
  return loading;
}
