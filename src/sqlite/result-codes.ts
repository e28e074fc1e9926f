// SQLite result codes used by this folder, and the error type that carries them.

export const SQLITE_OK = 0;
export const SQLITE_ERROR = 1;
export const SQLITE_INTERNAL = 2;
export const SQLITE_BUSY = 5;
export const SQLITE_NOMEM = 7;
export const SQLITE_READONLY = 8;
export const SQLITE_INTERRUPT = 9;
export const SQLITE_IOERR = 10;
export const SQLITE_CORRUPT = 11;
export const SQLITE_NOTFOUND = 12;
export const SQLITE_CANTOPEN = 14;
export const SQLITE_SCHEMA = 17;
export const SQLITE_CONSTRAINT = 19;
export const SQLITE_MISUSE = 21;
export const SQLITE_RANGE = 25;
export const SQLITE_ROW = 100;
export const SQLITE_DONE = 101;

export const SQLITE_IOERR_READ = SQLITE_IOERR | (1 << 8);
export const SQLITE_IOERR_SHORT_READ = SQLITE_IOERR | (2 << 8);
export const SQLITE_IOERR_WRITE = SQLITE_IOERR | (3 << 8);
export const SQLITE_IOERR_FSTAT = SQLITE_IOERR | (7 << 8);
export const SQLITE_IOERR_TRUNCATE = SQLITE_IOERR | (6 << 8);
export const SQLITE_IOERR_DELETE = SQLITE_IOERR | (10 << 8);
export const SQLITE_IOERR_LOCK = SQLITE_IOERR | (15 << 8);
export const SQLITE_IOERR_CLOSE = SQLITE_IOERR | (16 << 8);
export const SQLITE_BUSY_SNAPSHOT = SQLITE_BUSY | (2 << 8);

/** Column and value type codes returned by `Statement.columnType`. */
export const SQLITE_INTEGER = 1;
export const SQLITE_FLOAT = 2;
export const SQLITE_TEXT = 3;
export const SQLITE_BLOB = 4;
export const SQLITE_NULL = 5;

/** An error reported by SQLite: `code` is the primary result code, `extendedCode` the full one. */
export class SqliteError extends Error {
  readonly code: number;
  readonly extendedCode: number;

  constructor(extendedCode: number, message: string) {
    super(message);
    this.name = "SqliteError";
    this.code = extendedCode & 0xff;
    this.extendedCode = extendedCode;
  }
}
