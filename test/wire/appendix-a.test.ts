// The byte vectors of client-protocol.md Appendix A (captured from libdqlite 1.11.1), each decoded
// to the message it is and encoded back to the same bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BOOTSTRAP_ID,
  decodeHandshake,
  decodeHeader,
  decodeRequest,
  decodeResponse,
  encodeHandshake,
  encodeRequest,
  encodeResponse,
  type Frame,
  PROTOCOL_VERSION,
  type Request,
  type Response,
  RowsWriter,
  ValueType,
} from "../../src/wire/index.js";
import { bytesToHex, hexToBytes } from "./captures.js";

/** Hex with spaces and `|` for readability; "text"... pieces as ASCII. */
function bytes(...parts: string[]): Uint8Array {
  const hex = parts
    .map((part) =>
      part.startsWith('"') ? Buffer.from(JSON.parse(part), "latin1").toString("hex") : part,
    )
    .join("")
    .replace(/[\s|]/g, "");
  return hexToBytes(hex);
}

function zeros(count: number): string {
  return "00".repeat(count);
}

function frameOf(message: Uint8Array): Frame {
  const header = decodeHeader(message);
  assert.equal(message.length, 8 + header.words * 8);
  return {
    type: header.type,
    schema: header.schema,
    extra: header.extra,
    body: message.subarray(8),
  };
}

function checkRequest(message: Uint8Array, expected: Request): void {
  assert.deepEqual(decodeRequest(frameOf(message)), expected);
  assert.equal(bytesToHex(encodeRequest(expected)), bytesToHex(message));
}

function checkResponse(message: Uint8Array, expected: Response): void {
  assert.deepEqual(decodeResponse(frameOf(message)), expected);
  assert.equal(bytesToHex(encodeResponse(expected)), bytesToHex(message));
}

test("handshake: version 1 as a little-endian word", () => {
  const handshake = bytes("01 00 00 00 00 00 00 00");
  assert.equal(decodeHandshake(handshake), PROTOCOL_VERSION);
  assert.equal(bytesToHex(encodeHandshake()), bytesToHex(handshake));
});

test("Leader request and Node response", () => {
  checkRequest(bytes("01 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00"), { type: "leader" });
  checkResponse(
    bytes("03 00 00 00 01 00 00 00 | be 55 31 8c 85 71 c1 2d", '"127.0.0.1:29111"', "00"),
    {
      type: "node",
      id: BOOTSTRAP_ID,
      address: "127.0.0.1:29111",
    },
  );
});

test("Client request and Welcome response with the 15 s heartbeat timeout", () => {
  checkRequest(bytes("01 00 00 00 01 00 00 00 | 00 00 00 00 00 00 00 00"), {
    type: "client",
    clientId: 0n,
  });
  checkResponse(bytes("01 00 00 00 02 00 00 00 | 98 3a 00 00 00 00 00 00"), {
    type: "welcome",
    heartbeatTimeoutMs: 15000,
  });
});

test("Open request and Db response", () => {
  checkRequest(
    bytes(
      "04 00 00 00 03 00 00 00 | 76 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00",
      '"volatile"',
      zeros(8),
    ),
    { type: "open", name: "v", flags: 0, vfs: "volatile" },
  );
  checkResponse(bytes("01 00 00 00 04 00 00 00 | 00 00 00 00 00 00 00 00"), {
    type: "db",
    dbId: 0,
  });
});

test("Prepare request and Stmt response", () => {
  checkRequest(
    bytes("05 00 00 00 04 00 00 00 |", zeros(8), '"SELECT a FROM t WHERE a = ?"', zeros(5)),
    { type: "prepare", schema: 0, dbId: 0, sql: "SELECT a FROM t WHERE a = ?" },
  );
  checkResponse(
    bytes("02 00 00 00 05 00 00 00 | 00 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00"),
    { type: "stmt", dbId: 0, stmtId: 0, paramCount: 1 },
  );
});

test("Query request with one INTEGER parameter and its Rows response", () => {
  checkRequest(
    bytes(
      "03 00 00 00 06 00 00 00 | 00 00 00 00 00 00 00 00  01 01 00 00 00 00 00 00",
      "fe ff ff ff ff ff ff ff",
    ),
    {
      type: "query",
      schema: 0,
      dbId: 0,
      stmtId: 0,
      params: [{ type: ValueType.Integer, value: -2 }],
    },
  );
  checkResponse(
    bytes(
      "05 00 00 00 07 00 00 00 | 01 00 00 00 00 00 00 00  61 00 00 00 00 00 00 00",
      "01 00 00 00 00 00 00 00  fe ff ff ff ff ff ff ff",
      "ff ff ff ff ff ff ff ff",
    ),
    {
      type: "rows",
      columns: ["a"],
      rowCount: 1,
      types: Uint8Array.of(ValueType.Integer),
      values: [-2],
      more: false,
    },
  );
});

test("Finalize request and Empty response", () => {
  checkRequest(bytes("01 00 00 00 07 00 00 00 | 00 00 00 00 00 00 00 00"), {
    type: "finalize",
    dbId: 0,
    stmtId: 0,
  });
  checkResponse(bytes("01 00 00 00 08 00 00 00 | 00 00 00 00 00 00 00 00"), { type: "empty" });
});

test("ExecSQL request of bad SQL and its Failure response", () => {
  checkRequest(bytes("02 00 00 00 08 00 00 00 |", zeros(8), '"SELEC 1"', "00"), {
    type: "execSql",
    schema: 0,
    dbId: 0,
    sql: "SELEC 1",
    params: [],
  });
  checkResponse(
    bytes(
      "05 00 00 00 00 00 00 00 | 01 00 00 00 00 00 00 00",
      '"near \\"SELEC\\": syntax error"',
      zeros(6),
    ),
    { type: "failure", code: 1, message: 'near "SELEC": syntax error' },
  );
});

test("Cluster request (format 1) and Servers response with the role", () => {
  checkRequest(bytes("01 00 00 00 10 00 00 00 | 01 00 00 00 00 00 00 00"), {
    type: "cluster",
    format: 1,
  });
  checkResponse(
    bytes(
      "05 00 00 00 03 00 00 00 | 01 00 00 00 00 00 00 00  be 55 31 8c 85 71 c1 2d",
      '"127.0.0.1:29111"',
      "00  00 00 00 00 00 00 00 00",
    ),
    { type: "servers", servers: [{ id: BOOTSTRAP_ID, address: "127.0.0.1:29111", role: 0 }] },
  );
});

test("Describe request and Metadata response", () => {
  checkRequest(bytes("01 00 00 00 12 00 00 00 | 00 00 00 00 00 00 00 00"), {
    type: "describe",
    format: 0,
  });
  checkResponse(bytes("02 00 00 00 0a 00 00 00 |", zeros(16)), {
    type: "metadata",
    failureDomain: 0n,
    weight: 0n,
  });
});

test("ExecSQL with seven parameters of every kind: the tuple part", () => {
  const sql = "INSERT INTO t VALUES (?,?,?,?,?,?,?)";
  const request: Request = {
    type: "execSql",
    schema: 0,
    dbId: 0,
    sql,
    params: [
      { type: ValueType.Integer, value: -2 },
      { type: ValueType.Text, value: "hi" },
      { type: ValueType.Blob, value: Uint8Array.of(0xde, 0xad, 0xbe) },
      { type: ValueType.Float, value: 0.5 },
      { type: ValueType.Boolean, value: true },
      { type: ValueType.Iso8601, value: "2024-01-02 03:04:05+00:00" },
      { type: ValueType.Null, value: null },
    ],
  };
  const tuple = bytes(
    "07 01 03 04 02 0b 0a 05",
    "fe ff ff ff ff ff ff ff",
    "68 69 00 00 00 00 00 00",
    "03 00 00 00 00 00 00 00 de ad be 00 00 00 00 00",
    "00 00 00 00 00 00 e0 3f",
    "01 00 00 00 00 00 00 00",
    '"2024-01-02 03:04:05+00:00"',
    zeros(7),
    "00 00 00 00 00 00 00 00",
  );
  const message = encodeRequest(request);
  const sqlSize = Math.ceil((sql.length + 1) / 8) * 8;
  assert.equal(bytesToHex(message.subarray(8 + 8 + sqlSize)), bytesToHex(tuple));
  assert.deepEqual(decodeRequest(frameOf(message)), request);
});

test("the row header of columns typed 1,3,4,2,11,10,5 is 31 24 ab 05 padded to a word", () => {
  const writer = new RowsWriter(["i", "t", "b", "f", "ok", "ts", "n"]);
  writer.beginRow();
  writer.integer(-2);
  writer.text("hi");
  writer.blob(Uint8Array.of(0xde, 0xad, 0xbe));
  writer.float(0.5);
  writer.boolean(true);
  writer.iso8601("2024-01-02 03:04:05+00:00");
  writer.null();
  writer.endRow();
  const message = writer.finish(false);
  const namesSize = 8 + 7 * 8;
  const headerAt = 8 + namesSize;
  assert.equal(bytesToHex(message.subarray(headerAt, headerAt + 8)), "3124ab0500000000");
});
