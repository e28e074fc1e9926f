// Whole SQLite files in and out of a private in-memory connection (sqlite3_deserialize and
// sqlite3_serialize). For small files that are read and rewritten as a whole, such as
// go-dqlite's node store: the caller does the file I/O, so no VFS of ours is involved.
import { Connection } from "./connection.js";
import { SQLITE_NOMEM, SQLITE_OK, SqliteError } from "./result-codes.js";
import type { Pointer, Wasm } from "./wasm.js";

const SQLITE_DESERIALIZE_FREEONCLOSE = 1;
const SQLITE_DESERIALIZE_RESIZEABLE = 2;

/** The two exports this module needs beyond the binding's usual subset. */
interface ImageExports {
  sqlite3_deserialize(
    db: Pointer,
    schema: Pointer,
    data: Pointer,
    sizeBytes: bigint,
    bufferSizeBytes: bigint,
    flags: number,
  ): number;
  sqlite3_serialize(db: Pointer, schema: Pointer, sizeOut: Pointer, flags: number): Pointer;
}

function imageExports(wasm: Wasm): ImageExports {
  return wasm.exports as unknown as ImageExports;
}

/**
 * Opens a private in-memory connection whose main database is a copy of `image` (the bytes of
 * a SQLite file; empty for a new database). SQLite checks the bytes at the first read.
 */
export function openDatabaseImage(wasm: Wasm, image: Uint8Array): Connection {
  const connection = Connection.open(wasm, ":memory:");
  if (image.length === 0) return connection;
  try {
    // SQLite owns the buffer from here on (FREEONCLOSE), also when deserialize fails.
    const data = wasm.malloc(image.length);
    wasm.u8().set(image, data);
    const schema = wasm.allocCString("main");
    try {
      const rc = imageExports(wasm).sqlite3_deserialize(
        connection.pointer,
        schema,
        data,
        BigInt(image.length),
        BigInt(image.length),
        SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE,
      );
      if (rc !== SQLITE_OK) throw new SqliteError(rc, `cannot load the database image (${rc})`);
    } finally {
      wasm.free(schema);
    }
    return connection;
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** The bytes of the connection's main database, as a SQLite file holds them. */
export function serializeDatabase(wasm: Wasm, connection: Connection): Uint8Array {
  const schema = wasm.allocCString("main");
  const sizeOut = wasm.malloc(8);
  try {
    const data = imageExports(wasm).sqlite3_serialize(connection.pointer, schema, sizeOut, 0);
    if (data === 0) throw new SqliteError(SQLITE_NOMEM, "cannot serialize the database");
    try {
      const view = new DataView(wasm.u8().buffer, sizeOut, 8);
      const sizeBytes = Number(view.getBigInt64(0, true));
      return wasm.u8().slice(data, data + sizeBytes);
    } finally {
      wasm.free(data);
    }
  } finally {
    wasm.free(sizeOut);
    wasm.free(schema);
  }
}
