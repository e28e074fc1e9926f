// Values and parameter tuples (client-protocol.md §4). Row tuples live in rows.ts; both share the
// per-value codecs here.
import type { ByteReader } from "./byte-reader.js";
import { pad8 } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { ValueType } from "./constants.js";
import { WireDecodeError, WireEncodeError } from "./errors.js";
import type { Param, RowValue, TupleSchema } from "./messages.js";

const SCHEMA0_MAX_PARAMS = 255;
const SCHEMA1_MAX_PARAMS = 0xffff_ffff;

/** True for the type codes a row may carry. */
export function isRowValueType(code: number): boolean {
  return (code >= ValueType.Integer && code <= ValueType.Null) || (code >= 9 && code <= 11);
}

/** True for the type codes a parameter may carry (everything a row may, except UNIXTIME). */
export function isParamValueType(code: number): boolean {
  return isRowValueType(code) && code !== ValueType.UnixTime;
}

/** Reads one value of a known valid type code. */
export function readValue(reader: ByteReader, type: number, bigints: boolean): RowValue {
  switch (type) {
    case ValueType.Integer:
    case ValueType.UnixTime:
      return reader.int64("integer value", bigints);
    case ValueType.Float:
      return reader.float("float value");
    case ValueType.Text:
    case ValueType.Iso8601:
      return reader.text("text value");
    case ValueType.Blob:
      return reader.blob("blob value");
    case ValueType.Null:
      // The word's content is ignored, as dqlite does.
      reader.need(8, "null value");
      reader.pos += 8;
      return null;
    case ValueType.Boolean:
      reader.need(8, "boolean value");
      reader.pos += 8;
      return (
        reader.view.getUint32(reader.pos - 8, true) !== 0 ||
        reader.view.getUint32(reader.pos - 4, true) !== 0
      );
    default:
      throw new Error(`assertion: readValue called with type code ${type}`);
  }
}

/** Writes one value, checking that the JS value suits the type code. */
export function writeValue(writer: ByteWriter, type: number, value: RowValue): void {
  switch (type) {
    case ValueType.Integer:
    case ValueType.UnixTime:
      if (typeof value !== "number" && typeof value !== "bigint") throw mismatch(type, value);
      writer.int64(value, "integer value");
      return;
    case ValueType.Float:
      if (typeof value !== "number") throw mismatch(type, value);
      writer.float(value);
      return;
    case ValueType.Text:
    case ValueType.Iso8601:
      if (typeof value !== "string") throw mismatch(type, value);
      writer.text(value);
      return;
    case ValueType.Blob:
      if (!(value instanceof Uint8Array)) throw mismatch(type, value);
      writer.blob(value);
      return;
    case ValueType.Null:
      if (value !== null) throw mismatch(type, value);
      writer.zeros(8);
      return;
    case ValueType.Boolean:
      if (typeof value !== "boolean") throw mismatch(type, value);
      writer.u64Number(value ? 1 : 0, "boolean value");
      return;
    default:
      throw new WireEncodeError("bad-value", `${type} is not a value type code`);
  }
}

function mismatch(type: number, value: RowValue): WireEncodeError {
  const shown = value instanceof Uint8Array ? "Uint8Array" : typeof value;
  return new WireEncodeError("bad-value", `a ${shown} cannot be sent as ${ValueType[type]}`);
}

/**
 * Reads the parameter tuple that ends a request body. No bytes left = no parameters (what
 * go-dqlite sends); an explicit zero count is accepted too.
 */
export function readParams(reader: ByteReader, schema: TupleSchema, bigints: boolean): Param[] {
  if (reader.remaining === 0) return [];
  const start = reader.pos;
  const count = schema === 0 ? reader.u8("parameter count") : reader.u32("parameter count");
  const countSize = schema === 0 ? 1 : 4;
  const headerSize = pad8(countSize + count);
  // Every value takes at least one word, which bounds the count before anything is allocated.
  reader.need(headerSize - countSize + count * 8, `tuple of ${count} parameters`);
  const typesAt = reader.pos;
  reader.pos = start + headerSize;
  const params: Param[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const type = reader.bytes[typesAt + i];
    if (!isParamValueType(type)) {
      throw new WireDecodeError("bad-value-type", `parameter ${i} has type code ${type}`);
    }
    params[i] = { type, value: readValue(reader, type, bigints) } as Param;
  }
  return params;
}

/** Writes a parameter tuple; nothing at all when there are no parameters. */
export function writeParams(
  writer: ByteWriter,
  params: readonly Param[],
  schema: TupleSchema,
): void {
  const count = params.length;
  if (count === 0) return;
  const max = schema === 0 ? SCHEMA0_MAX_PARAMS : SCHEMA1_MAX_PARAMS;
  if (count > max) {
    throw new WireEncodeError(
      "too-many-params",
      `${count} parameters do not fit a schema ${schema} tuple (at most ${max})`,
    );
  }
  const countSize = schema === 0 ? 1 : 4;
  const headerSize = pad8(countSize + count);
  writer.ensure(headerSize);
  const start = writer.pos;
  writer.bytes.fill(0, start, start + headerSize);
  if (schema === 0) writer.bytes[start] = count;
  else {
    writer.bytes[start] = count;
    writer.bytes[start + 1] = count >>> 8;
    writer.bytes[start + 2] = count >>> 16;
    writer.bytes[start + 3] = count >>> 24;
  }
  for (let i = 0; i < count; i++) {
    const type = params[i].type;
    if (!isParamValueType(type)) {
      throw new WireEncodeError("bad-value", `parameter ${i} has type code ${type}`);
    }
    writer.bytes[start + countSize + i] = type;
  }
  writer.pos = start + headerSize;
  for (let i = 0; i < count; i++) writeValue(writer, params[i].type, params[i].value);
}
