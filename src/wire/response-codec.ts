// Responses, server to client (client-protocol.md §6): body layouts for types 0-10.
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { ResponseType } from "./constants.js";
import { WireDecodeError, WireEncodeError } from "./errors.js";
import type { DumpFile, Frame, NodeInfo, Response } from "./messages.js";
import type { DecodeOptions } from "./request-codec.js";
import { readRows, writeRows } from "./rows.js";

export interface ResponseDecodeOptions extends DecodeOptions {
  /** The connection spoke the legacy protocol: a Node response is the NodeLegacy shape. */
  legacy?: boolean;
  /** The format the Cluster request asked for (default 1, what go-dqlite always sends). */
  serversFormat?: number;
}

export interface ResponseEncodeOptions {
  /** Format the Cluster request asked for: 0 leaves the role out (default 1). */
  serversFormat?: number;
}

/**
 * Decodes a response frame. Some shapes depend on the request that caused them (Servers on the
 * Cluster format, Node on the protocol version): pass those in `options`.
 */
export function decodeResponse(frame: Frame, options: ResponseDecodeOptions = {}): Response {
  const r = new ByteReader(frame.body);
  const response = readResponseBody(frame, r, options);
  r.expectEnd(ResponseType[frame.type]);
  return response;
}

function readResponseBody(frame: Frame, r: ByteReader, options: ResponseDecodeOptions): Response {
  switch (frame.type) {
    case ResponseType.Failure:
      return { type: "failure", code: r.u64Number("failure code"), message: r.text("message") };
    case ResponseType.Node:
      if (options.legacy) return { type: "nodeLegacy", address: r.text("address") };
      return { type: "node", id: r.u64("node id"), address: r.text("address") };
    case ResponseType.Welcome:
      return { type: "welcome", heartbeatTimeoutMs: r.u64Number("heartbeat timeout") };
    case ResponseType.Servers: {
      const withRole = (options.serversFormat ?? 1) !== 0;
      const count = r.u64Number("server count");
      // Every entry takes at least two words (three with the role): bounds the count.
      r.need(count * (withRole ? 24 : 16), `${count} servers`);
      const servers: NodeInfo[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const id = r.u64("node id");
        const address = r.text("address");
        servers[i] = withRole ? { id, address, role: r.u64Number("role") } : { id, address };
      }
      return { type: "servers", servers };
    }
    case ResponseType.Db: {
      const dbId = r.u32("db id");
      r.u32("padding");
      return { type: "db", dbId };
    }
    case ResponseType.Stmt: {
      if (frame.schema > 1) {
        throw new WireDecodeError("unknown-schema", `Stmt response with schema ${frame.schema}`);
      }
      const dbId = r.u32("db id");
      const stmtId = r.u32("stmt id");
      const paramCount = r.u64Number("parameter count");
      if (frame.schema === 0) return { type: "stmt", dbId, stmtId, paramCount };
      return { type: "stmt", dbId, stmtId, paramCount, tailOffset: r.u64Number("tail offset") };
    }
    case ResponseType.Result: {
      const lastInsertId = r.int64("last insert id", true) as bigint;
      return { type: "result", lastInsertId, rowsAffected: r.u64Number("rows affected") };
    }
    case ResponseType.Rows:
      return readRows(r, options.bigints ?? false);
    case ResponseType.Empty:
      r.u64("unused word");
      return { type: "empty" };
    case ResponseType.Files: {
      const count = r.u64Number("file count");
      // Every file takes at least a name word and a size word: bounds the count.
      r.need(count * 16, `${count} files`);
      const files: DumpFile[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const name = r.text("file name");
        const size = r.u64Number("file size");
        files[i] = { name, data: r.raw(size, `file ${name}`) };
      }
      return { type: "files", files };
    }
    case ResponseType.Metadata:
      return {
        type: "metadata",
        failureDomain: r.u64("failure domain"),
        weight: r.u64("weight"),
      };
    default:
      throw new WireDecodeError("unknown-type", `response type ${frame.type}`);
  }
}

/** Encodes a response as one message (header + body). */
export function encodeResponse(
  response: Response,
  options: ResponseEncodeOptions = {},
): Uint8Array {
  const w = ByteWriter.pooled(responseCapacityHint(response));
  w.beginMessage();
  let schema = 0;
  let code: ResponseType;
  switch (response.type) {
    case "failure":
      code = ResponseType.Failure;
      w.u64Number(response.code, "failure code");
      w.text(response.message);
      break;
    case "node":
      code = ResponseType.Node;
      w.u64(response.id, "node id");
      w.text(response.address);
      break;
    case "nodeLegacy":
      code = ResponseType.Node;
      w.text(response.address);
      break;
    case "welcome":
      code = ResponseType.Welcome;
      w.u64Number(response.heartbeatTimeoutMs, "heartbeat timeout");
      break;
    case "servers": {
      code = ResponseType.Servers;
      const withRole = (options.serversFormat ?? 1) !== 0;
      w.u64Number(response.servers.length, "server count");
      for (const server of response.servers) {
        w.u64(server.id, "node id");
        w.text(server.address);
        if (withRole) w.u64Number(server.role ?? 0, "role");
      }
      break;
    }
    case "db":
      code = ResponseType.Db;
      w.u32(response.dbId);
      w.u32(0);
      break;
    case "stmt":
      code = ResponseType.Stmt;
      w.u32(response.dbId);
      w.u32(response.stmtId);
      w.u64Number(response.paramCount, "parameter count");
      if (response.tailOffset !== undefined) {
        schema = 1;
        w.u64Number(response.tailOffset, "tail offset");
      }
      break;
    case "result":
      code = ResponseType.Result;
      w.int64(response.lastInsertId, "last insert id");
      w.u64Number(response.rowsAffected, "rows affected");
      break;
    case "rows":
      code = ResponseType.Rows;
      writeRows(w, response);
      break;
    case "empty":
      code = ResponseType.Empty;
      w.zeros(8);
      break;
    case "files":
      code = ResponseType.Files;
      w.u64Number(response.files.length, "file count");
      for (const file of response.files) {
        // The data is not padded on the wire, so only whole words keep the message aligned.
        if (file.data.length % 8 !== 0) {
          throw new WireEncodeError(
            "misaligned-file",
            `file ${file.name} has ${file.data.length} bytes, not a multiple of 8`,
          );
        }
        w.text(file.name);
        w.u64Number(file.data.length, "file size");
        w.raw(file.data);
      }
      break;
    case "metadata":
      code = ResponseType.Metadata;
      w.u64(response.failureDomain, "failure domain");
      w.u64(response.weight, "weight");
      break;
    default:
      throw new Error(`assertion: unknown response ${(response as { type: string }).type}`);
  }
  return w.finishMessage(code, schema);
}

function responseCapacityHint(response: Response): number {
  switch (response.type) {
    case "files":
      return response.files.reduce((size, file) => size + file.data.length + 64, 64);
    case "rows":
      return 1024;
    case "servers":
      return 64 + response.servers.length * 64;
    default:
      return 64;
  }
}
