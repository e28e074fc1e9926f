// Where real peers may leave old memory instead of zeros: padding bytes that neither side reads.
// - go-dqlite 1.11 (internal/protocol/message.go) advances past the padding after a parameter
//   tuple's type codes without writing it.
// - libdqlite 1.11 (src/lib/serialize.h, blob__encode) copies a blob and advances past its
//   padding without writing it.
// Offsets are relative to the message body and computed from the decoded message's layout.
import { type Request, type Response, ValueType } from "../../src/wire/index.js";

function pad8(size: number): number {
  return Math.ceil(size / 8) * 8;
}

function utf8Size(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}

export function stalePaddingOffsets(message: Request | Response): number[] {
  switch (message.type) {
    case "exec":
    case "query":
    case "execSql":
    case "querySql": {
      if (message.params.length === 0) return [];
      const tupleAt = "sql" in message ? 8 + pad8(utf8Size(message.sql) + 1) : 8;
      const countSize = message.schema === 0 ? 1 : 4;
      const typesEnd = tupleAt + countSize + message.params.length;
      return range(typesEnd, tupleAt + pad8(countSize + message.params.length));
    }
    case "rows": {
      const n = message.columns.length;
      let offset = 8 + message.columns.reduce((size, name) => size + pad8(utf8Size(name) + 1), 0);
      const offsets: number[] = [];
      for (let i = 0; i < message.rowCount * n; i++) {
        if (i % n === 0) offset += pad8(Math.ceil(n / 2));
        const value = message.values[i];
        switch (message.types[i]) {
          case ValueType.Text:
          case ValueType.Iso8601:
            offset += pad8(utf8Size(value as string) + 1);
            break;
          case ValueType.Blob: {
            const length = (value as Uint8Array).length;
            offsets.push(...range(offset + 8 + length, offset + 8 + pad8(length)));
            offset += 8 + pad8(length);
            break;
          }
          default:
            offset += 8;
        }
      }
      return offsets;
    }
    default:
      return [];
  }
}
