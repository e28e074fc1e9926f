// The replicating VFS: registers sqlite3_vfs / sqlite3_io_methods structs whose methods are
// JavaScript functions in the wasm function table, and routes each call to the file object
// behind the sqlite3_file pointer. Every method is wrapped so that an exception becomes an
// I/O error code instead of unwinding through SQLite (ENGINE.md pitfall 7).
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Connection } from "./connection.js";
import { DatabaseFile } from "./database-file.js";
import { FilePageStore } from "./file-page-store.js";
import { MemoryFile } from "./memory-file.js";
import { PageCache } from "./page-cache.js";
import { PageFileBuilder } from "./page-file-builder.js";
import { PageStore } from "./page-store.js";
import {
  type CommitListener,
  type PendingTransaction,
  ReplicatedDatabase,
} from "./replicated-database.js";
import {
  SQLITE_CANTOPEN,
  SQLITE_ERROR,
  SQLITE_IOERR,
  SQLITE_IOERR_CLOSE,
  SQLITE_IOERR_FSTAT,
  SQLITE_IOERR_LOCK,
  SQLITE_IOERR_READ,
  SQLITE_IOERR_TRUNCATE,
  SQLITE_IOERR_WRITE,
  SQLITE_MISUSE,
  SQLITE_NOTFOUND,
  SQLITE_OK,
  SqliteError,
} from "./result-codes.js";
import type { Pointer, Wasm } from "./wasm.js";

const SQLITE_OPEN_MAIN_DB = 0x100;
const SQLITE_OPEN_WAL = 0x80000;
const SQLITE_FCNTL_FILE_POINTER = 7;
const SQLITE_FCNTL_PRAGMA = 14;
const SQLITE_FCNTL_COMMIT_PHASETWO = 22;
const SQLITE_IOCAP_ATOMIC = 0x1;
const SQLITE_IOCAP_SAFE_APPEND = 0x200;
const SQLITE_IOCAP_SEQUENTIAL = 0x400;
const SQLITE_IOCAP_POWERSAFE_OVERWRITE = 0x1000;
const MAX_PATHNAME_BYTES = 512;
const UNIX_EPOCH_JULIAN_MS = 2440587.5 * 86400000;

// sqlite3_vfs layout on wasm32 (offsets in bytes), version 2.
const VFS_STRUCT_BYTES = 88;
const VFS_FIELDS = {
  iVersion: 0,
  szOsFile: 4,
  mxPathname: 8,
  zName: 16,
  xOpen: 24,
  xDelete: 28,
  xAccess: 32,
  xFullPathname: 36,
  xRandomness: 56,
  xSleep: 60,
  xCurrentTime: 64,
  xGetLastError: 68,
  xCurrentTimeInt64: 72,
} as const;
// sqlite3_io_methods layout on wasm32, version 1 (no shared memory: SQLite cannot use WAL).
const IO_METHODS_STRUCT_BYTES = 76;
const IO_FIELDS = {
  iVersion: 0,
  xClose: 4,
  xRead: 8,
  xWrite: 12,
  xTruncate: 16,
  xSync: 20,
  xFileSize: 24,
  xLock: 28,
  xUnlock: 32,
  xCheckReservedLock: 36,
  xFileControl: 40,
  xSectorSize: 44,
  xDeviceCharacteristics: 48,
} as const;

type AnyFile = DatabaseFile | MemoryFile;

interface OpenFile {
  readonly file: AnyFile;
  readonly vfs: Vfs;
}

/** Per wasm instance: the installed method table and the routing maps. */
class Runtime {
  readonly wasm: Wasm;
  readonly vfsByPointer = new Map<Pointer, Vfs>();
  readonly files = new Map<Pointer, OpenFile>();
  readonly ioMethods: Pointer;
  readonly vfsMethods: Record<
    Exclude<keyof typeof VFS_FIELDS, "iVersion" | "szOsFile" | "mxPathname" | "zName">,
    Pointer
  >;

  constructor(wasm: Wasm) {
    this.wasm = wasm;
    const install = (signature: string, fn: (...args: never[]) => number) =>
      wasm.installFunction(signature, fn);
    const vfsOf = (pVfs: Pointer): Vfs => {
      const vfs = this.vfsByPointer.get(pVfs);
      if (vfs === undefined) throw new Error(`unknown sqlite3_vfs pointer ${pVfs}`);
      return vfs;
    };
    const guardVfs =
      <A extends unknown[]>(errorRc: number, fn: (vfs: Vfs, ...args: A) => number) =>
      (pVfs: Pointer, ...args: A): number => {
        const vfs = this.vfsByPointer.get(pVfs);
        try {
          return fn(vfsOf(pVfs), ...args);
        } catch (error) {
          vfs?.reportError(error);
          return errorRc;
        }
      };
    this.vfsMethods = {
      xOpen: install(
        "i(pppip)",
        guardVfs(
          SQLITE_CANTOPEN,
          (vfs, zName: Pointer, pFile: Pointer, flags: number, pOutFlags: Pointer) => {
            const i32 = wasm.i32();
            i32[pFile >> 2] = 0; // no methods: SQLite will not call xClose on a failed open
            if (flags & SQLITE_OPEN_WAL) return SQLITE_CANTOPEN;
            const name = zName === 0 ? "" : wasm.cString(zName);
            const isMain = (flags & SQLITE_OPEN_MAIN_DB) !== 0 && name !== "";
            // A database file opens only as the main database of `connect`: ATTACH and VACUUM
            // INTO would make transactions nobody replicates (newer dqlite denies them too).
            if (isMain && !vfs.isConnecting(name)) return SQLITE_CANTOPEN;
            const file = isMain ? new DatabaseFile(vfs.database(name)) : new MemoryFile();
            this.files.set(pFile, { file, vfs });
            const after = wasm.i32();
            after[pFile >> 2] = this.ioMethods;
            if (pOutFlags !== 0) after[pOutFlags >> 2] = flags;
            return SQLITE_OK;
          },
        ),
      ),
      xDelete: install(
        "i(ppi)",
        guardVfs(SQLITE_IOERR, () => SQLITE_OK),
      ),
      // Journals and WALs never exist as files here. The pager asks whether a -wal file exists
      // at the start of every read transaction: memdb's xAccess (C, "nothing exists") answers
      // without a call into JavaScript.
      xAccess:
        borrowedMemdbAccess(wasm) ??
        install(
          "i(ppip)",
          guardVfs(SQLITE_IOERR, (_vfs, _zName: Pointer, _flags: number, pResOut: Pointer) => {
            wasm.i32()[pResOut >> 2] = 0;
            return SQLITE_OK;
          }),
        ),
      xFullPathname: install(
        "i(ppip)",
        guardVfs(SQLITE_CANTOPEN, (_vfs, zName: Pointer, nOut: number, zOut: Pointer) => {
          const heap = wasm.u8();
          let end = zName;
          while (heap[end] !== 0) end++;
          if (end - zName + 1 > nOut) return SQLITE_CANTOPEN;
          heap.copyWithin(zOut, zName, end + 1);
          return SQLITE_OK;
        }),
      ),
      xRandomness: install(
        "i(pip)",
        guardVfs(0, (_vfs, nByte: number, zOut: Pointer) => {
          crypto.getRandomValues(wasm.u8().subarray(zOut, zOut + Math.min(nByte, 65536)));
          return nByte;
        }),
      ),
      // Never sleep: there is no busy handler and the event loop must not block.
      xSleep: install(
        "i(pi)",
        guardVfs(0, () => 0),
      ),
      xCurrentTime: install(
        "i(pp)",
        guardVfs(SQLITE_ERROR, (_vfs, pOut: Pointer) => {
          new DataView(wasm.u8().buffer).setFloat64(
            pOut,
            (UNIX_EPOCH_JULIAN_MS + Date.now()) / 86400000,
            true,
          );
          return SQLITE_OK;
        }),
      ),
      xGetLastError: install(
        "i(pip)",
        guardVfs(0, () => 0),
      ),
      xCurrentTimeInt64: install(
        "i(pp)",
        guardVfs(SQLITE_ERROR, (_vfs, pOut: Pointer) => {
          new DataView(wasm.u8().buffer).setBigInt64(
            pOut,
            BigInt(UNIX_EPOCH_JULIAN_MS + Date.now()),
            true,
          );
          return SQLITE_OK;
        }),
      ),
    };

    // The file methods run on every read and write: no closures over rest arguments, one map
    // lookup, no allocation on the common paths.
    const files = this.files;
    const failed = (pFile: Pointer, error: unknown, rc: number): number => {
      files.get(pFile)?.vfs.reportError(error);
      return rc;
    };
    const io = {
      xClose: install("i(p)", (pFile: Pointer) => {
        try {
          const open = files.get(pFile);
          files.delete(pFile);
          open?.file.close();
          return SQLITE_OK;
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_CLOSE);
        }
      }),
      xRead: install("i(ppij)", (pFile: Pointer, pBuf: Pointer, amount: number, offset: bigint) => {
        try {
          return files.get(pFile)!.file.readInto(wasm.u8(), pBuf, amount, Number(offset));
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_READ);
        }
      }),
      xWrite: install(
        "i(ppij)",
        (pFile: Pointer, pBuf: Pointer, amount: number, offset: bigint) => {
          try {
            return files.get(pFile)!.file.writeFrom(wasm.u8(), pBuf, amount, Number(offset));
          } catch (error) {
            return failed(pFile, error, SQLITE_IOERR_WRITE);
          }
        },
      ),
      xTruncate: install("i(pj)", (pFile: Pointer, size: bigint) => {
        try {
          return files.get(pFile)!.file.truncate(Number(size));
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_TRUNCATE);
        }
      }),
      // synchronous=OFF: nothing to sync, durability comes from the raft log.
      xSync: install("i(pi)", () => SQLITE_OK),
      xFileSize: install("i(pp)", (pFile: Pointer, pSize: Pointer) => {
        try {
          const size = files.get(pFile)!.file.sizeBytes();
          const i32 = wasm.i32();
          i32[pSize >> 2] = size % 0x100000000;
          i32[(pSize >> 2) + 1] = Math.floor(size / 0x100000000);
          return SQLITE_OK;
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_FSTAT);
        }
      }),
      xLock: install("i(pi)", (pFile: Pointer, level: number) => {
        try {
          return files.get(pFile)!.file.lock(level);
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_LOCK);
        }
      }),
      xUnlock: install("i(pi)", (pFile: Pointer, level: number) => {
        try {
          return files.get(pFile)!.file.unlock(level);
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_LOCK);
        }
      }),
      xCheckReservedLock: install("i(pp)", (pFile: Pointer, pResOut: Pointer) => {
        try {
          wasm.i32()[pResOut >> 2] = files.get(pFile)!.file.checkReservedLock() ? 1 : 0;
          return SQLITE_OK;
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR_LOCK);
        }
      }),
      xFileControl: install("i(pip)", (pFile: Pointer, op: number, pArg: Pointer) => {
        try {
          const file = files.get(pFile)!.file;
          if (!(file instanceof DatabaseFile)) return SQLITE_NOTFOUND;
          if (op === SQLITE_FCNTL_COMMIT_PHASETWO) return file.commitPhaseTwo();
          if (op === SQLITE_FCNTL_PRAGMA) return this.#pragma(file, pArg);
          return SQLITE_NOTFOUND;
        } catch (error) {
          return failed(pFile, error, SQLITE_IOERR);
        }
      }),
      // SQLite asks for these at every transaction: memdb's C function answers the same
      // constants dqlite advertises (atomic, safe append, sequential, powersafe overwrite).
      // A null xSectorSize makes SQLite use its default.
      xDeviceCharacteristics:
        borrowedMemdbIoMethod(wasm, IO_FIELDS.xDeviceCharacteristics) ??
        install(
          "i(p)",
          () =>
            SQLITE_IOCAP_ATOMIC |
            SQLITE_IOCAP_SAFE_APPEND |
            SQLITE_IOCAP_SEQUENTIAL |
            SQLITE_IOCAP_POWERSAFE_OVERWRITE,
        ),
    };
    this.ioMethods = wasm.malloc(IO_METHODS_STRUCT_BYTES);
    wasm.u8().fill(0, this.ioMethods, this.ioMethods + IO_METHODS_STRUCT_BYTES);
    const i32 = wasm.i32();
    i32[(this.ioMethods + IO_FIELDS.iVersion) >> 2] = 1;
    for (const [field, pointer] of Object.entries(io)) {
      i32[(this.ioMethods + IO_FIELDS[field as keyof typeof io]) >> 2] = pointer;
    }
  }

  /** SQLITE_FCNTL_PRAGMA: pArg is char*[3] = {error or result out, name, value or NULL}. */
  #pragma(file: DatabaseFile, pArg: Pointer): number {
    const wasm = this.wasm;
    const args = pArg >> 2;
    const namePointer = wasm.i32()[args + 1];
    // Only journal_mode, locking_mode and page_size are ours; SQLite also sends a write hint
    // (experimental_pragma_20251114) before every write: skip decoding what is not ours.
    const first = wasm.u8()[namePointer] | 0x20;
    if (first !== 0x6a && first !== 0x6c && first !== 0x70) return SQLITE_NOTFOUND;
    const name = wasm.cString(namePointer);
    const valuePointer = wasm.i32()[args + 2];
    const outcome = file.pragma(name, valuePointer === 0 ? null : wasm.cString(valuePointer));
    if (outcome.rc === SQLITE_OK && outcome.result !== null) {
      const result = wasm.allocCString(outcome.result);
      wasm.i32()[args] = result;
    } else if (outcome.rc === SQLITE_ERROR) {
      const message = wasm.allocCString(outcome.message);
      wasm.i32()[args] = message;
    }
    return outcome.rc;
  }

  register(vfs: Vfs, name: string): Pointer {
    const wasm = this.wasm;
    const pointer = wasm.malloc(VFS_STRUCT_BYTES);
    wasm.u8().fill(0, pointer, pointer + VFS_STRUCT_BYTES);
    const zName = wasm.allocCString(name);
    const i32 = wasm.i32();
    i32[(pointer + VFS_FIELDS.iVersion) >> 2] = 2;
    i32[(pointer + VFS_FIELDS.szOsFile) >> 2] = 4;
    i32[(pointer + VFS_FIELDS.mxPathname) >> 2] = MAX_PATHNAME_BYTES;
    i32[(pointer + VFS_FIELDS.zName) >> 2] = zName;
    for (const [field, method] of Object.entries(this.vfsMethods)) {
      i32[(pointer + VFS_FIELDS[field as keyof typeof this.vfsMethods]) >> 2] = method;
    }
    this.vfsByPointer.set(pointer, vfs);
    const rc = wasm.exports.sqlite3_vfs_register(pointer, 0);
    if (rc !== SQLITE_OK) {
      this.vfsByPointer.delete(pointer);
      throw new SqliteError(rc, `cannot register VFS ${name}`);
    }
    return pointer;
  }

  unregister(pointer: Pointer): void {
    this.wasm.exports.sqlite3_vfs_unregister(pointer);
    this.vfsByPointer.delete(pointer);
    this.wasm.free(this.wasm.i32()[(pointer + VFS_FIELDS.zName) >> 2]);
    this.wasm.free(pointer);
  }

  /** The file object behind a connection's main database. */
  mainFile(connection: Connection): DatabaseFile {
    const wasm = this.wasm;
    const zMain = wasm.allocCString("main");
    const out = wasm.malloc(4);
    try {
      wasm.i32()[out >> 2] = 0;
      const rc = wasm.exports.sqlite3_file_control(
        connection.pointer,
        zMain,
        SQLITE_FCNTL_FILE_POINTER,
        out,
      );
      const open = this.files.get(wasm.i32()[out >> 2]);
      if (rc !== SQLITE_OK || open === undefined || !(open.file instanceof DatabaseFile)) {
        throw new SqliteError(SQLITE_MISUSE, "connection is not on the replicating VFS");
      }
      return open.file;
    } finally {
      wasm.free(out);
      wasm.free(zMain);
    }
  }
}

/** The xAccess of SQLite's memdb VFS, which only says that no file exists; null if absent. */
function borrowedMemdbAccess(wasm: Wasm): Pointer | null {
  const name = wasm.allocCString("memdb");
  try {
    const memdb = wasm.exports.sqlite3_vfs_find(name);
    if (memdb === 0) return null;
    const access = wasm.i32()[(memdb + VFS_FIELDS.xAccess) >> 2];
    return access === 0 ? null : access;
  } finally {
    wasm.free(name);
  }
}

/**
 * A method of SQLite's memdb io_methods (found through a throw-away memdb connection);
 * null if absent.
 */
function borrowedMemdbIoMethod(wasm: Wasm, offset: number): Pointer | null {
  const ex = wasm.exports;
  const memory = wasm.allocCString("/dqlite-ts-probe");
  const memdbName = wasm.allocCString("memdb");
  const main = wasm.allocCString("main");
  const out = wasm.malloc(8);
  try {
    const i32 = wasm.i32();
    i32[out >> 2] = 0;
    const rc = ex.sqlite3_open_v2(memory, out, 0x2 | 0x4, memdbName);
    const db = wasm.i32()[out >> 2];
    if (rc !== SQLITE_OK) {
      if (db !== 0) ex.sqlite3_close_v2(db);
      return null;
    }
    try {
      if (ex.sqlite3_file_control(db, main, SQLITE_FCNTL_FILE_POINTER, out + 4) !== SQLITE_OK)
        return null;
      const file = wasm.i32()[(out + 4) >> 2];
      const methods = file === 0 ? 0 : wasm.i32()[file >> 2];
      const method = methods === 0 ? 0 : wasm.i32()[(methods + offset) >> 2];
      return method === 0 ? null : method;
    } finally {
      ex.sqlite3_close_v2(db);
    }
  } finally {
    wasm.free(out);
    wasm.free(main);
    wasm.free(memdbName);
    wasm.free(memory);
  }
}

const runtimes = new WeakMap<Wasm, Runtime>();
let vfsCounter = 0;

/** Options of a replicating VFS. */
export interface VfsOptions {
  /** Called inside `sqlite3_step` when a write transaction commits; it is pending until decided. */
  onCommit?: CommitListener;
  /** Called with exceptions a VFS method turned into an I/O error code. */
  onError?: (error: unknown) => void;
  /**
   * Disk mode: each database's applied pages live in a file in `directory` instead of memory,
   * with up to `cacheSizeBytes` (default 64 MiB) of hot pages cached for all of them. The
   * directory is emptied first: its files are only a cache of the raft state, rebuilt from
   * the snapshot and the log at every start.
   */
  disk?: { directory: string; cacheSizeBytes?: number };
}

/** Default size of disk mode's page cache. */
export const DEFAULT_CACHE_SIZE_BYTES = 64 * 1024 * 1024;

/**
 * A replicating VFS: a registry of databases by name, each with versioned in-memory pages, and
 * connections opened on them. One per node.
 */
export class Vfs {
  /** The name SQLite knows this VFS by. */
  readonly name: string;
  readonly #runtime: Runtime;
  readonly #pointer: Pointer;
  readonly #databases = new Map<string, ReplicatedDatabase>();
  readonly #files = new WeakMap<Connection, DatabaseFile>();
  readonly #onCommit: CommitListener;
  readonly #onError: (error: unknown) => void;
  readonly #disk: { directory: string; cache: PageCache } | null;
  #connecting: string | null = null;
  /** The last exception a VFS method turned into an error code (for diagnosis and tests). */
  lastError: unknown = undefined;

  constructor(wasm: Wasm, options: VfsOptions = {}) {
    let runtime = runtimes.get(wasm);
    if (runtime === undefined) {
      runtime = new Runtime(wasm);
      runtimes.set(wasm, runtime);
    }
    this.#runtime = runtime;
    this.#onCommit = options.onCommit ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    vfsCounter += 1;
    this.name = `dqlite-ts-${process.pid}-${vfsCounter}`;
    if (options.disk === undefined) {
      this.#disk = null;
    } else {
      const { directory } = options.disk;
      refuseRaftDirectory(directory);
      rmSync(directory, { recursive: true, force: true });
      mkdirSync(directory, { recursive: true });
      const cache = new PageCache(options.disk.cacheSizeBytes ?? DEFAULT_CACHE_SIZE_BYTES);
      this.#disk = { directory, cache };
    }
    this.#pointer = runtime.register(this, this.name);
  }

  /** Whether applied pages live in files (disk mode) rather than memory. */
  get diskMode(): boolean {
    return this.#disk !== null;
  }

  /** Disk mode's page cache (for metrics and tests); null in memory mode. */
  get pageCache(): PageCache | null {
    return this.#disk?.cache ?? null;
  }

  /** The database called `name`, created empty on first use. */
  database(name: string): ReplicatedDatabase {
    let database = this.#databases.get(name);
    if (database === undefined) {
      const disk = this.#disk;
      const store =
        disk === null
          ? new PageStore()
          : new FilePageStore(join(disk.directory, databaseFileName(name)), disk.cache);
      database = new ReplicatedDatabase(name, this.#onCommit, store);
      this.#databases.set(name, database);
    }
    return database;
  }

  /**
   * Disk mode: a new file for database `name`'s restored pages, beside its live file. Give it
   * to `installRestored` once everything restored checked out, or abandon it.
   */
  stageRestore(name: string, pageSizeBytes: number): PageFileBuilder {
    const disk = this.#disk;
    if (disk === null) throw new Error("staged restores are for disk mode");
    return new PageFileBuilder(
      join(disk.directory, `.restore-${databaseFileName(name)}`),
      pageSizeBytes,
    );
  }

  /** Disk mode: database `name` becomes the `pageCount` pages a staged restore wrote. */
  installRestored(name: string, staged: PageFileBuilder, pageCount: number): void {
    const disk = this.#disk;
    if (disk === null) throw new Error("staged restores are for disk mode");
    const database = this.database(name);
    const store = staged.finish(
      pageCount,
      join(disk.directory, databaseFileName(name)),
      disk.cache,
      database.store.version + 1,
    );
    database.replaceStore(store);
  }

  /** Whether a database called `name` exists (was used or applied to). */
  has(name: string): boolean {
    return this.#databases.has(name);
  }

  /** Every database, in creation order. */
  databases(): ReplicatedDatabase[] {
    return [...this.#databases.values()];
  }

  /** Opens a connection to database `name` with dqlite's settings. */
  connect(name: string): Connection {
    if (name === "" || name === ":memory:" || /^file:/i.test(name) || name.includes("\0")) {
      throw new SqliteError(SQLITE_CANTOPEN, `invalid database name ${JSON.stringify(name)}`);
    }
    this.#connecting = name;
    let connection: Connection;
    try {
      connection = Connection.open(this.#runtime.wasm, name, this.name);
    } finally {
      this.#connecting = null;
    }
    const file = this.#runtime.mainFile(connection);
    file.owner = connection;
    this.#files.set(connection, file);
    return connection;
  }

  /** @internal True while `connect` opens database `name`. */
  isConnecting(name: string): boolean {
    return this.#connecting === name;
  }

  /**
   * The transaction `connection` committed and that waits for raft, once: later calls return
   * null. Call it after each step (dqlite's VfsPoll).
   */
  takeCommitted(connection: Connection): PendingTransaction | null {
    const file = this.#files.get(connection);
    const committed = file?.committed ?? null;
    if (committed === null) return null;
    file!.committed = null;
    if (committed.state !== "pending" || committed.taken) return null;
    committed.taken = true;
    return committed;
  }

  /**
   * The newest transaction still waiting for raft that `connection`'s last read transaction saw
   * (through write intent), once; null if none or if it has been applied since. A transaction
   * that read it and committed nothing of its own must not report success before it commits:
   * its result (a row, a count, "no change needed") may rest on it.
   */
  takeReadPending(connection: Connection): PendingTransaction | null {
    const file = this.#files.get(connection);
    const seen = file?.readPending ?? null;
    if (seen === null) return null;
    file!.readPending = null;
    return seen.state === "applied" ? null : seen;
  }

  /**
   * Declares that `connection`'s next statement writes: its next read transaction then sees the
   * transactions still waiting for raft, so it can commit on top of them (pipelining). Readers
   * must not set it: they would see what raft has not committed yet.
   */
  setWriteIntent(connection: Connection, intent: boolean): void {
    const file = this.#files.get(connection);
    if (file !== undefined) file.writeIntent = intent;
  }

  /** @internal Records an exception a method turned into an error code. */
  reportError(error: unknown): void {
    this.lastError = error;
    this.#onError(error);
  }

  /** Unregisters the VFS and closes database files. Close its connections first. */
  close(): void {
    this.#runtime.unregister(this.#pointer);
    for (const database of this.#databases.values()) database.close();
    this.#disk?.cache.clear();
  }
}

/**
 * The file name of database `name` in disk mode: the name itself when it is a plain file name,
 * else a digest of it (names may hold slashes, dots only, or be too long for a file system).
 */
export function databaseFileName(name: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(name)) return name;
  // "~" never starts a plain name: no digest can collide with one.
  return `~${createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
}

/** The disk-mode directory is wiped at start: make sure it is not a raft data directory. */
function refuseRaftDirectory(directory: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return; // missing: nothing to wipe
  }
  if (names.some((name) => /^(metadata[12]|open-\d+|\d{16}-\d{16}|snapshot-)/.test(name))) {
    throw new Error(`${directory} holds raft files: disk mode needs a directory of its own`);
  }
}
