// Shapes Rows messages into what the SQL API returns: objects keyed by column name, or arrays.
import type { ResultResponse, RowsResponse } from "../wire/index.js";
import { fromRowValue, type SqlValue } from "./values.js";

/** A row as an object keyed by column name (a later duplicate name wins). */
export type Row = Record<string, SqlValue>;

/** How query rows come back: objects keyed by column name (default) or arrays in column order. */
export type RowMode = "object" | "array";

/** The rows of a query and its column names. */
export interface QueryResult<T> {
  columns: string[];
  rows: T[];
}

/** What a write did: rows changed by the last statement, and the connection's last rowid. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

const TWO_POW_53 = 2n ** 53n;

/** A Result response as a RunResult (rowid as number when safe, unless bigints are asked for). */
export function toRunResult(result: ResultResponse, bigints: boolean): RunResult {
  const id = result.lastInsertId;
  const safe = id < TWO_POW_53 && id > -TWO_POW_53;
  return { changes: result.rowsAffected, lastInsertRowid: bigints || !safe ? id : Number(id) };
}

/** Appends the rows of one message to `out`. */
export function collectRows(batch: RowsResponse, mode: RowMode, out: unknown[]): void {
  const columns = batch.columns;
  const width = columns.length;
  const { types, values } = batch;
  let cell = 0;
  for (let r = 0; r < batch.rowCount; r++) {
    if (mode === "array") {
      const row: SqlValue[] = new Array(width);
      for (let c = 0; c < width; c++, cell++) row[c] = convert(types[cell], values[cell]);
      out.push(row);
    } else {
      const row: Row = {};
      for (let c = 0; c < width; c++, cell++) row[columns[c]] = convert(types[cell], values[cell]);
      out.push(row);
    }
  }
}

// The common types pass through as decoded; only blobs and dates need work.
function convert(type: number, value: RowsResponse["values"][number]): SqlValue {
  return type === 4 || type === 9 || type === 10 ? fromRowValue(type, value) : (value as SqlValue);
}
