// JavaScript values to dqlite parameters, and dqlite row values to JavaScript values.
import { type Param, type RowValue, ValueType } from "../wire/index.js";
import { formatIso8601, parseIso8601 } from "./iso8601.js";
import { type ScannedSql, scanSqlCached } from "./sql-scanner.js";

/** A value a statement parameter accepts. */
export type BindValue =
  | number
  | bigint
  | string
  | Uint8Array
  | ArrayBuffer
  | boolean
  | Date
  | null
  | undefined;

/**
 * Statement parameters: an array fills `?`/`?NNN` slots by position; an object fills named
 * parameters (`:name`, `@name`, `$name`), keyed with or without the prefix.
 */
export type BindParameters = readonly BindValue[] | Readonly<Record<string, BindValue>>;

/** A value read from a row. */
export type SqlValue = number | bigint | string | Uint8Array | boolean | Date | null;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_POW_63 = 2 ** 63;

/** One JavaScript value as a typed dqlite parameter. */
export function toParam(value: BindValue, what: string): Param {
  switch (typeof value) {
    case "number":
      // Integers that int64 can hold go as INTEGER; everything else (fractions, ±Infinity, NaN,
      // huge values) as FLOAT.
      if (Number.isInteger(value) && value >= -TWO_POW_63 && value < TWO_POW_63) {
        return { type: ValueType.Integer, value };
      }
      return { type: ValueType.Float, value };
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX) {
        throw new RangeError(`${what}: ${value} does not fit a 64-bit signed integer`);
      }
      return { type: ValueType.Integer, value };
    case "string":
      return { type: ValueType.Text, value };
    case "boolean":
      return { type: ValueType.Boolean, value };
    case "undefined":
      return { type: ValueType.Null, value: null };
    case "object":
      if (value === null) return { type: ValueType.Null, value: null };
      if (value instanceof Uint8Array) return { type: ValueType.Blob, value };
      if (value instanceof ArrayBuffer)
        return { type: ValueType.Blob, value: new Uint8Array(value) };
      if (value instanceof Date) return { type: ValueType.Iso8601, value: formatIso8601(value) };
      break;
  }
  throw new TypeError(
    `${what}: cannot bind a ${describe(value)} (use number, bigint, string, Uint8Array, boolean, Date or null)`,
  );
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return value.constructor?.name ?? "object";
}

/**
 * The positional parameter list for an SQL text. Arrays are taken as they are; objects are mapped
 * to the slots SQLite numbers for each name (unfilled slots are NULL, as SQLite leaves them).
 */
export function bindParameters(
  sql: string,
  params: BindParameters | undefined,
  scanned?: ScannedSql,
): Param[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) {
    const values = params as readonly BindValue[];
    const result: Param[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) result[i] = toParam(values[i], `parameter ${i + 1}`);
    return result;
  }
  if (typeof params !== "object" || params === null) {
    throw new TypeError("parameters must be an array or an object of named values");
  }
  const named = params as Readonly<Record<string, BindValue>>;
  const statements = (scanned ?? scanSqlCached(sql)).statements;
  if (statements.length === 0) return [];
  if (statements.length > 1) {
    throw new TypeError("named parameters need an SQL text with a single statement");
  }
  const statement = statements[0];
  if (statement.positional) {
    throw new TypeError("the SQL has positional parameters (? or ?NNN): pass an array");
  }
  const result: Param[] = new Array(statement.parameterCount);
  for (let i = 0; i < result.length; i++) result[i] = { type: ValueType.Null, value: null };
  for (const [name, index] of statement.names) {
    let value: BindValue;
    if (Object.hasOwn(named, name)) value = named[name];
    else if (Object.hasOwn(named, name.slice(1))) value = named[name.slice(1)];
    else throw new RangeError(`missing value for named parameter ${name}`);
    result[index - 1] = toParam(value, `parameter ${name}`);
  }
  return result;
}

/** A row value as JavaScript: dates parsed, blobs copied out of the message. */
export function fromRowValue(type: number, value: RowValue): SqlValue {
  switch (type) {
    case ValueType.Blob:
      // Decoded blobs are views into the received message: copy so that rows own their bytes.
      return new Uint8Array(value as Uint8Array);
    case ValueType.UnixTime:
      return new Date(Number(value) * 1000);
    case ValueType.Iso8601: {
      const text = value as string;
      // The server sends "" for a NULL in a date-typed column.
      if (text === "") return null;
      // go-dqlite fails the whole query on a text it cannot parse; we hand the text over instead.
      return parseIso8601(text) ?? text;
    }
    default:
      return value;
  }
}
