// go-dqlite's SQLite node store: the addresses of the cluster in one table of a SQLite file
// (`servers (address TEXT, UNIQUE(address))` by default). Only addresses are kept: every row
// reads back as id 1, role voter. The file is read whole into a private in-memory SQLite
// connection (our wasm SQLite, sqlite3_deserialize) when it changed since the last read (so
// writes by other processes are seen), and `set` writes the whole file back atomically
// (temporary file and rename).
import { open, readFile, stat } from "node:fs/promises";
import type { Connection } from "../sqlite/index.js";
import { Role } from "../wire/index.js";
import { writeFileAtomically } from "./atomic-file.js";
import { DqliteError } from "./errors.js";
import type { NodeInfo, NodeStore } from "./node-store.js";

/** Where the addresses are in the file (defaults are go-dqlite's DefaultNodeStore names). */
export interface SqliteNodeStoreOptions {
  /** The table (default "servers"); created as `(<column> TEXT, UNIQUE(<column>))` if missing. */
  table?: string;
  /** The column holding addresses (default "address"). */
  column?: string;
  /** A condition `get` adds after WHERE (go-dqlite's WithNodeStoreWhereClause); `set` ignores it. */
  where?: string;
}

/** A node store file bigger than this is not a node list. */
const MAX_FILE_SIZE_BYTES = 64 * 1024 * 1024;
/** go-sqlite3 creates database files with these permission bits (less the umask). */
const NEW_FILE_MODE = 0o644;
/** Bytes 18 and 19 of a SQLite header: the file format versions, 2 meaning WAL mode. */
const FORMAT_VERSION_OFFSETS = [18, 19] as const;
const WAL_FORMAT = 2;
const LEGACY_FORMAT = 1;
/** The first 8 bytes of a rollback journal that still holds a transaction. */
const JOURNAL_MAGIC = Uint8Array.of(0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7);

/** What the store needs of the sqlite folder, loaded on first use only. */
interface SqliteApi {
  wasm: Awaited<ReturnType<typeof import("../sqlite/index.js").loadSqlite>>;
  openDatabaseImage: typeof import("../sqlite/index.js").openDatabaseImage;
  serializeDatabase: typeof import("../sqlite/index.js").serializeDatabase;
}

let sqliteApi: Promise<SqliteApi> | undefined;

function loadSqliteApi(): Promise<SqliteApi> {
  sqliteApi ??= import("../sqlite/index.js").then(async (module) => ({
    wasm: await module.loadSqlite(),
    openDatabaseImage: module.openDatabaseImage,
    serializeDatabase: module.serializeDatabase,
  }));
  return sqliteApi;
}

interface Image {
  bytes: Uint8Array;
  /** The file's permission bits, kept when it is rewritten. */
  mode: number;
  /** The file was in WAL mode (bytes 18-19 = 2), which an in-memory database cannot open. */
  wal: boolean;
}

/** A NodeStore in a SQLite file, readable and writable by go-dqlite. */
export class SqliteNodeStore implements NodeStore {
  /** The file's path. */
  readonly path: string;
  readonly #sqlite: SqliteApi;
  readonly #select: string;
  readonly #delete: string;
  readonly #insert: string;
  // Writes are chained so that the file always ends with the last `set`.
  #writing: Promise<void> = Promise.resolve();
  /** The last `get`'s answer and the version of the files it was read from. */
  #cache: { version: string; nodes: NodeInfo[] } | undefined;

  private constructor(path: string, sqlite: SqliteApi, names: Required<SqliteNodeStoreOptions>) {
    this.path = path;
    this.#sqlite = sqlite;
    const table = quoteIdentifier(names.table);
    const column = quoteIdentifier(names.column);
    this.#select = `SELECT ${column} FROM ${table}${names.where === "" ? "" : ` WHERE ${names.where}`}`;
    this.#delete = `DELETE FROM ${table}`;
    this.#insert = `INSERT INTO ${table}(${column}) VALUES (?)`;
  }

  /**
   * Opens the store in the SQLite file at `path`, creating the file and the table when missing
   * (as go-dqlite's DefaultNodeStore does). An empty file is an empty database.
   */
  static async open(path: string, options: SqliteNodeStoreOptions = {}): Promise<SqliteNodeStore> {
    const names = {
      table: options.table ?? "servers",
      column: options.column ?? "address",
      where: options.where ?? "",
    };
    for (const [what, name] of [
      ["table", names.table],
      ["column", names.column],
    ] as const) {
      if (typeof name !== "string" || name === "") {
        throw new TypeError(`the ${what} name must be a non-empty string`);
      }
    }
    if (typeof names.where !== "string") throw new TypeError("where must be a string");
    const store = new SqliteNodeStore(path, await loadSqliteApi(), names);
    await store.#update((connection) => {
      const exists = connection.query(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE",
        [names.table],
      );
      if (exists.length > 0) return false;
      connection.exec(createTableSql(names.table, names.column));
      return true;
    }, "failed to create servers table");
    return store;
  }

  /** Every address in the table (filtered by `where`), each as `{ id: 1n, address, role: Voter }`. */
  async get(): Promise<NodeInfo[]> {
    const version = await this.#version();
    let cached = this.#cache;
    if (cached === undefined || cached.version !== version) {
      const image = await this.#read();
      const connection = this.#load(image);
      try {
        const rows = run(() => connection.query(this.#select), "failed to query servers table");
        const nodes = rows.map(([value]) => ({
          id: 1n,
          address: addressOf(value),
          role: Role.Voter,
        }));
        cached = { version, nodes };
        this.#cache = cached;
      } finally {
        connection.close();
      }
    }
    return cached.nodes.map((node) => ({ ...node }));
  }

  /**
   * Replaces every row with the nodes' addresses in one transaction (ids and roles are not
   * kept); a duplicate address fails the whole call and leaves the file as it was.
   */
  async set(nodes: readonly NodeInfo[]): Promise<void> {
    const addresses = nodes.map((node) => {
      if (typeof node?.address !== "string") throw new TypeError("a node needs a string address");
      return node.address;
    });
    await this.#update((connection) => {
      run(() => connection.exec(this.#delete), "failed to delete existing servers rows");
      const insert = connection.prepare(this.#insert);
      try {
        for (const address of addresses) {
          run(() => {
            insert.bindAll([address]);
            while (insert.step()) {
              // an INSERT yields no rows
            }
            insert.reset();
          }, `failed to insert server ${address}`);
        }
      } finally {
        insert.finalize();
      }
      return true;
    }, "failed to update servers table");
  }

  /**
   * Reads the file, runs `change` in a transaction and writes the file back when it returns
   * true. Chained, so that concurrent updates of this store apply one after the other.
   */
  #update(change: (connection: Connection) => boolean, what: string): Promise<void> {
    const update = this.#writing.then(async () => {
      const image = await this.#read();
      const connection = this.#load(image);
      try {
        let changed = false;
        try {
          run(() => {
            connection.exec("BEGIN");
            changed = change(connection);
          }, what);
          run(() => connection.exec("COMMIT"), "failed to commit transaction");
        } catch (error) {
          if (!connection.isAutocommit()) connection.exec("ROLLBACK");
          throw error;
        }
        if (!changed) return;
        const bytes = this.#sqlite.serializeDatabase(this.#sqlite.wasm, connection);
        if (image.wal) setFormatVersion(bytes, WAL_FORMAT);
        this.#cache = undefined;
        await writeFileAtomically(this.path, bytes, image.mode, image.bytes.length > 0);
      } finally {
        connection.close();
      }
    });
    this.#writing = update.catch(() => {});
    return update;
  }

  #load(image: Image): Connection {
    try {
      return this.#sqlite.openDatabaseImage(this.#sqlite.wasm, image.bytes);
    } catch (error) {
      throw new DqliteError(`${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Identifies the content of the file and its `-wal` without reading them: a file replaced or
   * written changes inode, size or times (nanoseconds); a `-wal` that fills up changes its size.
   */
  async #version(): Promise<string> {
    const [main, wal] = await Promise.all([
      stat(this.path, { bigint: true }).catch(missingAsUndefined),
      stat(`${this.path}-wal`, { bigint: true }).catch(missingAsUndefined),
    ]);
    const file = main && `${main.ino}:${main.size}:${main.mtimeNs}:${main.ctimeNs}`;
    return `${file ?? "none"}|${wal?.size ?? "none"}`;
  }

  /** The file's bytes, ready for an in-memory database; a missing file is a new database. */
  async #read(): Promise<Image> {
    let bytes: Uint8Array;
    let mode = NEW_FILE_MODE;
    try {
      const info = await stat(this.path);
      if (info.size > MAX_FILE_SIZE_BYTES) {
        throw new DqliteError(
          `${this.path}: file of ${info.size} bytes is too big for a node list`,
        );
      }
      mode = info.mode & 0o7777;
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      bytes = new Uint8Array();
    }
    await this.#refuseUnfinishedWrites();
    const wal = bytes.length >= 100 && bytes[18] === WAL_FORMAT && bytes[19] === WAL_FORMAT;
    if (wal) setFormatVersion(bytes, LEGACY_FORMAT);
    return { bytes, mode, wal };
  }

  // A transaction still in a -wal file or a hot journal is not in the main file: reading the
  // main file alone could see half of it. SQLite itself (e.g. the sqlite3 shell) finishes it.
  async #refuseUnfinishedWrites(): Promise<void> {
    const wal = await fileSize(`${this.path}-wal`);
    if (wal !== undefined && wal > 0) {
      throw new DqliteError(
        `${this.path}: ${this.path}-wal holds changes not yet in the database file (checkpoint it with sqlite3 first)`,
      );
    }
    const journal = await readHead(`${this.path}-journal`, JOURNAL_MAGIC.length);
    if (journal !== undefined && Buffer.from(journal).equals(JOURNAL_MAGIC)) {
      throw new DqliteError(
        `${this.path}: ${this.path}-journal holds an unfinished transaction (open the file with sqlite3 to roll it back)`,
      );
    }
  }
}

/** An address column value as a string, converted as Go's Scan into a string does. */
function addressOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw new DqliteError("failed to fetch server address: the address is NULL");
}

/** Runs a SQLite call, turning its failure into a DqliteError with go-dqlite's prefix. */
function run<T>(call: () => T, what: string): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof DqliteError) throw error;
    throw new DqliteError(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * go-dqlite's CREATE TABLE, word for word with the default names (SQLite keeps the text in its
 * schema); names that are not plain identifiers are quoted.
 */
function createTableSql(table: string, column: string): string {
  const name = (text: string) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? text : quoteIdentifier(text);
  return `CREATE TABLE IF NOT EXISTS ${name(table)} (${name(column)} TEXT, UNIQUE(${name(column)}))`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function missingAsUndefined(error: NodeJS.ErrnoException): undefined {
  if (error.code === "ENOENT") return undefined;
  throw error;
}

function setFormatVersion(bytes: Uint8Array, version: number): void {
  for (const offset of FORMAT_VERSION_OFFSETS) bytes[offset] = version;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function readHead(path: string, sizeBytes: number): Promise<Uint8Array | undefined> {
  try {
    const file = await open(path, "r");
    try {
      const head = new Uint8Array(sizeBytes);
      const { bytesRead } = await file.read(head, 0, sizeBytes, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
