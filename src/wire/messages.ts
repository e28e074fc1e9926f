// The shapes of every request and response, as discriminated unions on `type`.
// Node ids and other opaque u64 labels are bigint; counts, sizes and codes are numbers.
import type { Role, ValueType } from "./constants.js";

/** One typed value of a parameter or row tuple. */
export type Value =
  | { type: ValueType.Integer; value: number | bigint }
  | { type: ValueType.Float; value: number }
  | { type: ValueType.Text; value: string }
  | { type: ValueType.Blob; value: Uint8Array }
  | { type: ValueType.Null; value: null }
  | { type: ValueType.UnixTime; value: number | bigint }
  | { type: ValueType.Iso8601; value: string }
  | { type: ValueType.Boolean; value: boolean };

/** A value a statement parameter can carry (servers refuse UNIXTIME as a parameter). */
export type Param = Exclude<Value, { type: ValueType.UnixTime }>;

/** A value of a decoded row: INTEGER/UNIXTIME as number or bigint, BLOB as a view into the message. */
export type RowValue = number | bigint | string | Uint8Array | null | boolean;

/**
 * Schema of a request carrying a parameter tuple: 0 = u8 count (≤ 255 values, every server),
 * 1 = u32 count (servers ≥ 1.12 only; go-dqlite uses it only beyond 255 values).
 */
export type TupleSchema = 0 | 1;

export interface LeaderRequest {
  type: "leader";
}
export interface ClientRequest {
  type: "client";
  clientId: bigint;
}
export interface HeartbeatRequest {
  type: "heartbeat";
  timestamp: bigint;
}
export interface OpenRequest {
  type: "open";
  name: string;
  flags: number;
  vfs: string;
}
export interface PrepareRequest {
  type: "prepare";
  /** 1 asks the server for the tail offset in the Stmt response (servers ≥ 1.15.1). */
  schema: 0 | 1;
  dbId: number;
  sql: string;
}
export interface ExecRequest {
  type: "exec";
  schema: TupleSchema;
  dbId: number;
  stmtId: number;
  params: Param[];
}
export interface QueryRequest {
  type: "query";
  schema: TupleSchema;
  dbId: number;
  stmtId: number;
  params: Param[];
}
export interface FinalizeRequest {
  type: "finalize";
  dbId: number;
  stmtId: number;
}
export interface ExecSqlRequest {
  type: "execSql";
  schema: TupleSchema;
  dbId: number;
  sql: string;
  params: Param[];
}
export interface QuerySqlRequest {
  type: "querySql";
  schema: TupleSchema;
  dbId: number;
  sql: string;
  params: Param[];
}
export interface InterruptRequest {
  type: "interrupt";
  dbId: number;
}
export interface ConnectRequest {
  type: "connect";
  nodeId: bigint;
  address: string;
}
export interface AddRequest {
  type: "add";
  nodeId: bigint;
  address: string;
}
export interface AssignRequest {
  type: "assign";
  nodeId: bigint;
  /** Absent = the legacy Promote request (one word), which means Voter. Any u64 may arrive. */
  role?: Role | number;
}
export interface RemoveRequest {
  type: "remove";
  nodeId: bigint;
}
export interface DumpRequest {
  type: "dump";
  name: string;
}
export interface ClusterRequest {
  type: "cluster";
  /** 0 = id + address, 1 = id + address + role. */
  format: number;
}
export interface TransferRequest {
  type: "transfer";
  /** 0n lets raft choose. */
  nodeId: bigint;
}
export interface DescribeRequest {
  type: "describe";
  format: number;
}
export interface WeightRequest {
  type: "weight";
  weight: bigint;
}

/** Every message a client sends (types 0-19). */
export type Request =
  | LeaderRequest
  | ClientRequest
  | HeartbeatRequest
  | OpenRequest
  | PrepareRequest
  | ExecRequest
  | QueryRequest
  | FinalizeRequest
  | ExecSqlRequest
  | QuerySqlRequest
  | InterruptRequest
  | ConnectRequest
  | AddRequest
  | AssignRequest
  | RemoveRequest
  | DumpRequest
  | ClusterRequest
  | TransferRequest
  | DescribeRequest
  | WeightRequest;

export interface FailureResponse {
  type: "failure";
  code: number;
  message: string;
}
export interface NodeResponse {
  type: "node";
  /** 0n and "" when no leader is known. */
  id: bigint;
  address: string;
}
/** The Leader response under the legacy protocol version: address only. */
export interface NodeLegacyResponse {
  type: "nodeLegacy";
  address: string;
}
export interface WelcomeResponse {
  type: "welcome";
  heartbeatTimeoutMs: number;
}
export interface NodeInfo {
  id: bigint;
  address: string;
  /** Present when the Cluster request asked for format 1. */
  role?: Role | number;
}
export interface ServersResponse {
  type: "servers";
  servers: NodeInfo[];
}
export interface DbResponse {
  type: "db";
  dbId: number;
}
export interface StmtResponse {
  type: "stmt";
  dbId: number;
  stmtId: number;
  paramCount: number;
  /** Only in answer to a schema 1 Prepare: byte offset of the SQL not compiled. */
  tailOffset?: number;
}
export interface ResultResponse {
  type: "result";
  /** sqlite3_last_insert_rowid() as the signed int64 it is. */
  lastInsertId: bigint;
  rowsAffected: number;
}
/**
 * One Rows message. Values are flat, row-major: row r, column c is `values[r * columns.length + c]`
 * with its wire type code in `types[r * columns.length + c]`.
 */
export interface RowsResponse {
  type: "rows";
  columns: string[];
  rowCount: number;
  types: Uint8Array;
  values: RowValue[];
  /** true = ends with PART (another Rows message follows), false = DONE. */
  more: boolean;
}
export interface EmptyResponse {
  type: "empty";
}
export interface DumpFile {
  name: string;
  data: Uint8Array;
}
export interface FilesResponse {
  type: "files";
  files: DumpFile[];
}
export interface MetadataResponse {
  type: "metadata";
  failureDomain: bigint;
  weight: bigint;
}

/** Every message a server sends (types 0-10). */
export type Response =
  | FailureResponse
  | NodeResponse
  | NodeLegacyResponse
  | WelcomeResponse
  | ServersResponse
  | DbResponse
  | StmtResponse
  | ResultResponse
  | RowsResponse
  | EmptyResponse
  | FilesResponse
  | MetadataResponse;

/** A framed message: header fields and a view of the body. */
export interface Frame {
  /** The request or response type code. */
  type: number;
  schema: number;
  extra: number;
  body: Uint8Array;
}
