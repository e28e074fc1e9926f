// Row cells as go-dqlite's driver hands them to database/sql (int64, float64, string, []byte,
// nil, bool, time.Time), and their `%v` text, which is what the shell prints.
import { type RowValue, ValueType } from "../../wire/index.js";
import { formatGoBytes, formatGoFloat } from "./go-format.js";
import { formatGoTime, GoTime, parseGoIso8601, unixTimeInLocalZone } from "./go-time.js";

/** int64 as bigint, float64 as number, then string, []byte, nil, bool and time.Time. */
export type GoValue = bigint | number | string | Uint8Array | null | boolean | GoTime;

/**
 * The driver value of one cell, from its wire type code. An ISO8601 text no layout parses throws
 * GoTimeParseError, which fails the query as it does in go-dqlite.
 */
export function goValueOfCell(type: number, value: RowValue): GoValue {
  switch (type) {
    case ValueType.Integer:
      return BigInt(value as number | bigint);
    case ValueType.Float:
      return value as number;
    case ValueType.Text:
      return value as string;
    case ValueType.Blob:
      return value as Uint8Array;
    case ValueType.Null:
      return null;
    case ValueType.UnixTime:
      return unixTimeInLocalZone(BigInt(value as number | bigint));
    case ValueType.Iso8601:
      return parseGoIso8601(value as string);
    case ValueType.Boolean:
      return value as boolean;
    default:
      throw new RangeError(`unknown value type ${type}`);
  }
}

/** `%v` of a driver value. */
export function formatGoValue(value: GoValue): string {
  if (value === null) return "<nil>";
  if (value instanceof GoTime) return formatGoTime(value);
  if (value instanceof Uint8Array) return formatGoBytes(value);
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return formatGoFloat(value);
    case "boolean":
      return value ? "true" : "false";
    default:
      return value;
  }
}
