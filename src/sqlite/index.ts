// Public API of the sqlite folder: the wasm binding and the replicating VFS.
import { Connection } from "./connection.js";
import { loadWasm, type Wasm } from "./wasm.js";

export { Connection, type PrepareResult } from "./connection.js";
export { PAGE_SIZE_BYTES } from "./database-file.js";
export { openDatabaseImage, serializeDatabase } from "./database-image.js";
export { FilePageStore } from "./file-page-store.js";
export { PageCache } from "./page-cache.js";
export type { PageFileBuilder } from "./page-file-builder.js";
export { headerPageCount, headerPageSize } from "./page-one.js";
export { PageStore } from "./page-store.js";
export {
  type CommitListener,
  InvalidTransactionError,
  type PendingState,
  PendingTransaction,
  ReplicatedDatabase,
  transactionPageCount,
} from "./replicated-database.js";
export * from "./result-codes.js";
export { type SqlValue, Statement } from "./statement.js";
export type { Pin, VersionedPages } from "./versioned-pages.js";
export { DEFAULT_CACHE_SIZE_BYTES, databaseFileName, Vfs, type VfsOptions } from "./vfs.js";

/** The loaded SQLite wasm module (one per process). */
export type Sqlite = Wasm;

/** Loads SQLite (async once, wasm compile); everything after is synchronous. */
export function loadSqlite(): Promise<Sqlite> {
  return loadWasm();
}

/** A plain private in-memory database with the same settings (no replication), e.g. as a baseline. */
export function openMemoryConnection(sqlite: Sqlite): Connection {
  return Connection.open(sqlite, ":memory:");
}
