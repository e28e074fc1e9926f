// How a result row goes on the wire: the value type of each column comes from SQLite's storage
// class, refined by the column's declared type the way dqlite does it (client-protocol.md §4.7):
// DATETIME/DATE/TIMESTAMP columns carry UNIXTIME or ISO8601, BOOLEAN columns carry BOOLEAN.
import {
  SQLITE_BLOB,
  SQLITE_FLOAT,
  SQLITE_INTEGER,
  SQLITE_NULL,
  SQLITE_TEXT,
  type Statement,
} from "../sqlite/index.js";
import type { RowsWriter } from "../wire/index.js";

enum Declared {
  Plain = 0,
  Time = 1,
  Boolean = 2,
}

/** Declared-type classes of a statement's result columns, computed once per statement. */
export type ColumnPlan = readonly Declared[];

export function planColumns(statement: Statement): ColumnPlan {
  const plan: Declared[] = [];
  const count = statement.columnCount();
  for (let i = 0; i < count; i++) {
    // dqlite compares the declared type exactly, ignoring case: "DATETIME(6)" is plain.
    switch (statement.columnDecltype(i).toUpperCase()) {
      case "DATETIME":
      case "DATE":
      case "TIMESTAMP":
        plan.push(Declared.Time);
        break;
      case "BOOLEAN":
        plan.push(Declared.Boolean);
        break;
      default:
        plan.push(Declared.Plain);
    }
  }
  return plan;
}

/** Appends the statement's current row. */
export function writeRow(writer: RowsWriter, statement: Statement, plan: ColumnPlan): void {
  writer.beginRow();
  try {
    for (let i = 0; i < plan.length; i++) writeColumn(writer, statement, i, plan[i]);
  } catch (error) {
    writer.cancelRow();
    throw error;
  }
  writer.endRow();
}

function writeColumn(writer: RowsWriter, statement: Statement, i: number, declared: Declared) {
  const storage = statement.columnType(i);
  if (declared === Declared.Time) {
    // A NULL time is sent as an empty ISO8601 text, which clients read back as NULL.
    if (storage === SQLITE_INTEGER) return writer.unixTime(statement.columnInt(i));
    if (storage === SQLITE_TEXT) return writer.iso8601(statement.columnText(i));
    if (storage === SQLITE_NULL) return writer.iso8601("");
    // REAL or BLOB in a time column: the C server asserts here; send the plain value instead.
  } else if (declared === Declared.Boolean) {
    // A NULL boolean is sent as false, as dqlite does.
    if (storage === SQLITE_INTEGER) return writer.boolean(statement.columnInt(i) !== 0);
    if (storage === SQLITE_NULL) return writer.boolean(false);
  }
  switch (storage) {
    case SQLITE_INTEGER:
      return writer.integer(statement.columnInt(i));
    case SQLITE_FLOAT:
      return writer.float(statement.columnDouble(i));
    case SQLITE_TEXT:
      return writer.text(statement.columnText(i));
    case SQLITE_BLOB:
      return writer.blob(statement.columnBlob(i));
    default:
      return writer.null();
  }
}
