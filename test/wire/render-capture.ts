// Renders decoded messages the way the fixtures' .txt files describe them, so every capture can
// be checked field by field against an independent decoding. The .txt files were written by a
// Python tool: strings appear as Python reprs, floats as Python prints them.
import {
  type Frame,
  type Param,
  type Request,
  RequestType,
  type Response,
  ResponseType,
  ValueType,
} from "../../src/wire/index.js";
import { bytesToHex } from "./captures.js";

const REQUEST_NAMES = [
  "LEADER",
  "CLIENT",
  "HEARTBEAT",
  "OPEN",
  "PREPARE",
  "EXEC",
  "QUERY",
  "FINALIZE",
  "EXEC_SQL",
  "QUERY_SQL",
  "INTERRUPT",
  "CONNECT",
  "ADD",
  "ASSIGN",
  "REMOVE",
  "DUMP",
  "CLUSTER",
  "TRANSFER",
  "DESCRIBE",
  "WEIGHT",
];
const RESPONSE_NAMES = [
  "FAILURE",
  "SERVER",
  "WELCOME",
  "SERVERS",
  "DB",
  "STMT",
  "RESULT",
  "ROWS",
  "EMPTY",
  "FILES",
  "METADATA",
];
const TYPE_NAMES: Record<number, string> = {
  [ValueType.Integer]: "INTEGER",
  [ValueType.Float]: "FLOAT",
  [ValueType.Text]: "TEXT",
  [ValueType.Blob]: "BLOB",
  [ValueType.Null]: "NULL",
  [ValueType.UnixTime]: "UNIXTIME",
  [ValueType.Iso8601]: "ISO8601",
  [ValueType.Boolean]: "BOOLEAN",
};
const ROLE_NAMES: Record<number, string> = { 0: "voter", 1: "standby", 2: "spare" };

/** Python's repr() of a str. */
export function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === "\\" || char === quote) out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else out += char;
  }
  return out + quote;
}

/** Python's repr() of a float. */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Object.is(value, -0)) return "-0.0";
  const abs = Math.abs(value);
  if (abs >= 1e16 || (abs !== 0 && abs < 1e-4)) {
    const [mantissa, exponent] = value.toExponential().split("e");
    const sign = exponent[0] === "-" ? "-" : "+";
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  const text = String(value);
  return text.includes(".") ? text : `${text}.0`;
}

function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

function renderValue(type: number, value: unknown): string {
  let shown: string;
  if (type === ValueType.Blob) shown = pyStr(`x'${bytesToHex(value as Uint8Array)}'`);
  else if (type === ValueType.Null) shown = "'NULL'";
  else if (type === ValueType.Float) shown = pyFloat(value as number);
  else if (type === ValueType.Boolean) shown = value ? "True" : "False";
  else if (typeof value === "string") shown = pyStr(value);
  else shown = String(value);
  return `${TYPE_NAMES[type]}:${shown}`;
}

function renderParams(params: Param[]): string {
  return `[${params.map((p) => pyStr(renderValue(p.type, p.value))).join(", ")}]`;
}

function renderRequestBody(request: Request): string {
  switch (request.type) {
    case "leader":
      return "unused=0";
    case "client":
      return `id=${hex(request.clientId)}`;
    case "heartbeat":
      return `timestamp=${request.timestamp}`;
    case "open":
      return `name=${pyStr(request.name)} flags=${hex(request.flags)} vfs=${pyStr(request.vfs)}`;
    case "prepare":
      return `db_id=${request.dbId} sql=${pyStr(request.sql)}`;
    case "exec":
    case "query":
      return `db_id=${request.dbId} stmt_id=${request.stmtId} params=${renderParams(request.params)}`;
    case "finalize":
      return `db_id=${request.dbId} stmt_id=${request.stmtId}`;
    case "execSql":
    case "querySql":
      return `db_id=${request.dbId} sql=${pyStr(request.sql)} params=${renderParams(request.params)}`;
    case "interrupt":
      return `db_id=${request.dbId}`;
    case "connect":
    case "add":
      return `id=${hex(request.nodeId)} address=${pyStr(request.address)}`;
    case "assign":
      return `id=${hex(request.nodeId)} role=${ROLE_NAMES[request.role ?? 0] ?? request.role}`;
    case "remove":
    case "transfer":
      return `id=${hex(request.nodeId)}`;
    case "dump":
      return `name=${pyStr(request.name)}`;
    case "cluster":
    case "describe":
      return `format=${request.format}`;
    case "weight":
      return `weight=${request.weight}`;
  }
}

function renderResponseBody(response: Response): string {
  switch (response.type) {
    case "failure":
      return `code=${response.code} message=${pyStr(response.message)}`;
    case "node":
      return `id=${hex(response.id)} address=${pyStr(response.address)}`;
    case "nodeLegacy":
      return `address=${pyStr(response.address)}`;
    case "welcome":
      return `heartbeat_timeout=${response.heartbeatTimeoutMs}`;
    case "servers":
      return `n=${response.servers.length} ${response.servers
        .map(
          (s) =>
            `{id=${hex(s.id)} address=${pyStr(s.address)} role=${ROLE_NAMES[s.role ?? -1] ?? "?"}}`,
        )
        .join(", ")}`;
    case "db":
      return `db_id=${response.dbId}`;
    case "stmt": {
      const base = `db_id=${response.dbId} stmt_id=${response.stmtId} n_params=${response.paramCount}`;
      return response.tailOffset === undefined
        ? base
        : `${base} tail_offset=${response.tailOffset}`;
    }
    case "result":
      return `last_insert_id=${BigInt.asUintN(64, response.lastInsertId)} rows_affected=${response.rowsAffected}`;
    case "rows": {
      const n = response.columns.length;
      const rows: string[] = [];
      for (let r = 0; r < response.rowCount; r++) {
        const cells: string[] = [];
        for (let c = 0; c < n; c++) {
          cells.push(renderValue(response.types[r * n + c], response.values[r * n + c]));
        }
        rows.push(`(${cells.join(", ")})`);
      }
      rows.push(response.more ? "<PART: more rows follow in next ROWS message>" : "<DONE>");
      const shown =
        rows.length <= 12
          ? rows
          : [...rows.slice(0, 5), `... ${rows.length - 7} more rows ...`, ...rows.slice(-2)];
      const columns = `[${response.columns.map(pyStr).join(", ")}]`;
      return `columns=${columns} rows=${response.rowCount}\n      ${shown.join("\n      ")}`;
    }
    case "empty":
      return "unused=0";
    case "files": {
      const files = response.files.map((f) => pyStr(`${f.name} (${f.data.length} bytes)`));
      return `n=${response.files.length} files=[${files.join(", ")}]`;
    }
    case "metadata":
      return `failure_domain=${response.failureDomain} weight=${response.weight}`;
  }
}

/** The .txt description of a request frame and its decoding. */
export function renderRequest(frame: Frame, request: Request): string {
  const name = `${REQUEST_NAMES[frame.type]}(${frame.type})`;
  return `REQUEST ${name} schema=${frame.schema} words=${frame.body.length / 8} ${renderRequestBody(request)}`;
}

/** The .txt description of a response frame and its decoding. */
export function renderResponse(frame: Frame, response: Response): string {
  const name = `${RESPONSE_NAMES[frame.type]}(${frame.type})`;
  return `RESPONSE ${name} schema=${frame.schema} words=${frame.body.length / 8} ${renderResponseBody(response)}`;
}

export { RequestType, ResponseType };
