// Requests, client to server (client-protocol.md §5): body layouts for types 0-19.
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { RequestType } from "./constants.js";
import { WireDecodeError } from "./errors.js";
import type { Frame, Request, TupleSchema } from "./messages.js";
import { readParams, writeParams } from "./tuple.js";

export interface DecodeOptions {
  /** INTEGER and UNIXTIME values always as bigint (default: number when safe, else bigint). */
  bigints?: boolean;
}

/** Decodes a request frame; WireDecodeError for anything malformed. */
export function decodeRequest(frame: Frame, options: DecodeOptions = {}): Request {
  const bigints = options.bigints ?? false;
  const r = new ByteReader(frame.body);
  const request = readRequestBody(frame.type, checkSchema(frame), r, bigints);
  r.expectEnd(RequestType[frame.type]);
  return request;
}

function checkSchema(frame: Frame): number {
  const withTuple =
    frame.type === RequestType.Prepare ||
    frame.type === RequestType.Exec ||
    frame.type === RequestType.Query ||
    frame.type === RequestType.ExecSql ||
    frame.type === RequestType.QuerySql;
  if (frame.type > RequestType.Weight) {
    throw new WireDecodeError("unknown-type", `request type ${frame.type}`);
  }
  if (frame.schema > (withTuple ? 1 : 0)) {
    throw new WireDecodeError(
      "unknown-schema",
      `${RequestType[frame.type]} request with schema ${frame.schema}`,
    );
  }
  return frame.schema;
}

function readRequestBody(type: number, schema: number, r: ByteReader, bigints: boolean): Request {
  switch (type) {
    case RequestType.Leader:
      r.u64("unused word");
      return { type: "leader" };
    case RequestType.Client:
      return { type: "client", clientId: r.u64("client id") };
    case RequestType.Heartbeat:
      return { type: "heartbeat", timestamp: r.u64("timestamp") };
    case RequestType.Open:
      return {
        type: "open",
        name: r.text("database name"),
        flags: r.u64Number("open flags"),
        vfs: r.text("vfs name"),
      };
    case RequestType.Prepare:
      return {
        type: "prepare",
        schema: schema as 0 | 1,
        dbId: r.u64Number("db id"),
        sql: r.text("sql"),
      };
    case RequestType.Exec:
    case RequestType.Query: {
      const dbId = r.u32("db id");
      const stmtId = r.u32("stmt id");
      const params = readParams(r, schema as TupleSchema, bigints);
      return {
        type: type === RequestType.Exec ? "exec" : "query",
        schema: schema as TupleSchema,
        dbId,
        stmtId,
        params,
      };
    }
    case RequestType.Finalize:
      return { type: "finalize", dbId: r.u32("db id"), stmtId: r.u32("stmt id") };
    case RequestType.ExecSql:
    case RequestType.QuerySql: {
      const dbId = r.u64Number("db id");
      const sql = r.text("sql");
      const params = readParams(r, schema as TupleSchema, bigints);
      return {
        type: type === RequestType.ExecSql ? "execSql" : "querySql",
        schema: schema as TupleSchema,
        dbId,
        sql,
        params,
      };
    }
    case RequestType.Interrupt:
      return { type: "interrupt", dbId: r.u64Number("db id") };
    case RequestType.Connect:
      return { type: "connect", nodeId: r.u64("node id"), address: r.text("address") };
    case RequestType.Add:
      return { type: "add", nodeId: r.u64("node id"), address: r.text("address") };
    case RequestType.Assign: {
      const nodeId = r.u64("node id");
      // One word is the legacy Promote request; the role word came later.
      if (r.remaining === 0) return { type: "assign", nodeId };
      return { type: "assign", nodeId, role: r.u64Number("role") };
    }
    case RequestType.Remove:
      return { type: "remove", nodeId: r.u64("node id") };
    case RequestType.Dump:
      return { type: "dump", name: r.text("database name") };
    case RequestType.Cluster:
      return { type: "cluster", format: r.u64Number("cluster format") };
    case RequestType.Transfer:
      return { type: "transfer", nodeId: r.u64("node id") };
    case RequestType.Describe:
      return { type: "describe", format: r.u64Number("describe format") };
    case RequestType.Weight:
      return { type: "weight", weight: r.u64("weight") };
    default:
      throw new WireDecodeError("unknown-type", `request type ${type}`);
  }
}

/** Encodes a request as one message (header + body). */
export function encodeRequest(request: Request): Uint8Array {
  const w = ByteWriter.pooled(requestCapacityHint(request));
  w.beginMessage();
  let schema = 0;
  let code: RequestType;
  switch (request.type) {
    case "leader":
      code = RequestType.Leader;
      w.zeros(8);
      break;
    case "client":
      code = RequestType.Client;
      w.u64(request.clientId, "client id");
      break;
    case "heartbeat":
      code = RequestType.Heartbeat;
      w.u64(request.timestamp, "timestamp");
      break;
    case "open":
      code = RequestType.Open;
      w.text(request.name);
      w.u64Number(request.flags, "open flags");
      w.text(request.vfs);
      break;
    case "prepare":
      code = RequestType.Prepare;
      schema = request.schema;
      w.u64Number(request.dbId, "db id");
      w.text(request.sql);
      break;
    case "exec":
    case "query":
      code = request.type === "exec" ? RequestType.Exec : RequestType.Query;
      schema = request.schema;
      w.u32(request.dbId);
      w.u32(request.stmtId);
      writeParams(w, request.params, request.schema);
      break;
    case "finalize":
      code = RequestType.Finalize;
      w.u32(request.dbId);
      w.u32(request.stmtId);
      break;
    case "execSql":
    case "querySql":
      code = request.type === "execSql" ? RequestType.ExecSql : RequestType.QuerySql;
      schema = request.schema;
      w.u64Number(request.dbId, "db id");
      w.text(request.sql);
      writeParams(w, request.params, request.schema);
      break;
    case "interrupt":
      code = RequestType.Interrupt;
      w.u64Number(request.dbId, "db id");
      break;
    case "connect":
    case "add":
      code = request.type === "connect" ? RequestType.Connect : RequestType.Add;
      w.u64(request.nodeId, "node id");
      w.text(request.address);
      break;
    case "assign":
      code = RequestType.Assign;
      w.u64(request.nodeId, "node id");
      if (request.role !== undefined) w.u64Number(request.role, "role");
      break;
    case "remove":
      code = RequestType.Remove;
      w.u64(request.nodeId, "node id");
      break;
    case "dump":
      code = RequestType.Dump;
      w.text(request.name);
      break;
    case "cluster":
      code = RequestType.Cluster;
      w.u64Number(request.format, "cluster format");
      break;
    case "transfer":
      code = RequestType.Transfer;
      w.u64(request.nodeId, "node id");
      break;
    case "describe":
      code = RequestType.Describe;
      w.u64Number(request.format, "describe format");
      break;
    case "weight":
      code = RequestType.Weight;
      w.u64(request.weight, "weight");
      break;
    default:
      throw new Error(`assertion: unknown request ${(request as { type: string }).type}`);
  }
  return w.finishMessage(code, schema);
}

// An upper bound for most requests, so that they are written without growing the buffer.
function requestCapacityHint(request: Request): number {
  let size = 64;
  if ("sql" in request) size += request.sql.length * 3;
  if ("params" in request) {
    for (const param of request.params) {
      const value = param.value;
      if (typeof value === "string") size += value.length * 3 + 8;
      else if (value instanceof Uint8Array) size += value.length + 16;
      else size += 9;
    }
  }
  return size;
}
