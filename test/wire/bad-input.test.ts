// Each way bytes can be wrong gives a WireDecodeError naming what is wrong; each value that cannot
// be sent gives a WireEncodeError. Plus the edge cases of values and tuples that are valid.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Frame,
  type Param,
  type Request,
  RequestType,
  ResponseType,
  ValueType,
  WireDecodeError,
  type WireDecodeErrorKind,
  WireEncodeError,
  type WireEncodeErrorKind,
} from "../../src/wire/index.js";
import { hexToBytes } from "./captures.js";

function frame(type: number, hex: string, schema = 0): Frame {
  return { type, schema, extra: 0, body: hexToBytes(hex.replace(/[\s|]/g, "")) };
}

function text(value: string): string {
  const bytes = Buffer.from(`${value}\0`, "utf8");
  const padded = Buffer.alloc(Math.ceil(bytes.length / 8) * 8);
  bytes.copy(padded);
  return padded.toString("hex");
}

function word(value: bigint | number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
  return bytes.toString("hex");
}

function decodeFails(kind: WireDecodeErrorKind, decode: () => unknown): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(error instanceof WireDecodeError, `a WireDecodeError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return true;
  });
}

function encodeFails(kind: WireEncodeErrorKind, encode: () => unknown): void {
  assert.throws(encode, (error: unknown) => {
    assert.ok(error instanceof WireEncodeError, `a WireEncodeError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return true;
  });
}

const execSql = (tuple: string, schema = 0) =>
  frame(RequestType.ExecSql, word(0) + text("SELECT ?") + tuple, schema);

test("unknown request and response types", () => {
  for (const type of [20, 21, 100, 255]) {
    decodeFails("unknown-type", () => decodeRequest(frame(type, word(0))));
  }
  for (const type of [11, 12, 255]) {
    decodeFails("unknown-type", () => decodeResponse(frame(type, word(0))));
  }
});

test("schemas a type does not have", () => {
  decodeFails("unknown-schema", () => decodeRequest(frame(RequestType.Leader, word(0), 1)));
  decodeFails("unknown-schema", () => decodeRequest(frame(RequestType.Cluster, word(1), 1)));
  decodeFails("unknown-schema", () => decodeRequest(execSql("", 2)));
  decodeFails("unknown-schema", () =>
    decodeRequest(frame(RequestType.Prepare, word(0) + text("x"), 2)),
  );
  decodeFails("unknown-schema", () =>
    decodeResponse(frame(ResponseType.Stmt, word(0) + word(0) + word(0), 2)),
  );
});

test("fields that run past the end of the body", () => {
  decodeFails("truncated", () => decodeRequest(frame(RequestType.Leader, "")));
  decodeFails("truncated", () => decodeRequest(frame(RequestType.Open, text("demo"))));
  decodeFails("truncated", () => decodeRequest(frame(RequestType.Exec, "00000000")));
  decodeFails("truncated", () => decodeResponse(frame(ResponseType.Result, word(1))));
  // Text whose padding would run past the end: NUL found, but not a whole word left.
  decodeFails("truncated", () => decodeRequest(frame(RequestType.Dump, "61626300")));
});

test("counts that point past the end", () => {
  // Three parameters announced, one present.
  decodeFails("truncated", () => decodeRequest(execSql(`03010101 00000000${word(1)}`)));
  // Schema 1: 2^32 - 1 parameters announced.
  decodeFails("truncated", () => decodeRequest(execSql(`ffffffff 01000000${word(1)}`, 1)));
  // A blob longer than the body.
  decodeFails("truncated", () => decodeRequest(execSql(`0104000000000000 ${word(64)}${word(0)}`)));
  // 1000 columns announced in a short Rows body.
  decodeFails("truncated", () =>
    decodeResponse(frame(ResponseType.Rows, word(1000) + text("a") + "ff".repeat(8))),
  );
  decodeFails("truncated", () => decodeResponse(frame(ResponseType.Servers, word(5) + word(1))));
  decodeFails("truncated", () =>
    decodeResponse(frame(ResponseType.Files, word(1) + text("db") + word(4096))),
  );
});

test("u64 fields too large for what they count", () => {
  decodeFails("out-of-range", () =>
    decodeResponse(frame(ResponseType.Rows, word(2n ** 60n) + "ff".repeat(8))),
  );
  decodeFails("out-of-range", () =>
    decodeResponse(frame(ResponseType.Failure, word(2n ** 53n) + text("x"))),
  );
  decodeFails("out-of-range", () => decodeRequest(execSql(`0104000000000000 ${"ff".repeat(8)}`)));
});

test("text without its NUL", () => {
  decodeFails("missing-nul", () =>
    decodeRequest(frame(RequestType.ExecSql, `${word(0)}4142434445464748`)),
  );
  decodeFails("missing-nul", () =>
    decodeResponse(frame(ResponseType.Failure, word(1) + "41".repeat(8))),
  );
});

test("invalid UTF-8 is refused rather than altered", () => {
  for (const bad of ["ff", "c0af", "eda080", "e282", "f4908080"]) {
    const hex = `${bad}00`.padEnd(16, "0");
    decodeFails("invalid-utf8", () => decodeRequest(frame(RequestType.Dump, hex)));
  }
  // A BOM and 4-byte sequences survive unchanged.
  const ok = decodeRequest(frame(RequestType.Dump, text("\uFEFFdb-😀")));
  assert.deepEqual(ok, { type: "dump", name: "\uFEFFdb-😀" });
});

test("value type codes a tuple may not hold, UNIXTIME as a parameter among them", () => {
  for (const code of [0, 6, 7, 8, 9, 12, 0xff]) {
    decodeFails("bad-value-type", () =>
      decodeRequest(execSql(`01${code.toString(16).padStart(2, "0")}000000000000${word(0)}`)),
    );
  }
  // Row nibbles 6 and 0xe (after a valid first column) are not types.
  for (const nibble of ["61", "e1"]) {
    const body =
      word(2) +
      text("a") +
      text("b") +
      `${nibble}00000000000000` +
      word(1) +
      word(1) +
      "ff".repeat(8);
    decodeFails("bad-value-type", () => decodeResponse(frame(ResponseType.Rows, body)));
  }
});

test("Rows messages without a proper end marker", () => {
  const head = word(1) + text("a");
  // Too short to even hold the names and a marker.
  decodeFails("truncated", () => decodeResponse(frame(ResponseType.Rows, head)));
  // A row, then the body ends.
  decodeFails("bad-marker", () =>
    decodeResponse(frame(ResponseType.Rows, `${head}0100000000000000${word(5)}`)),
  );
  decodeFails("bad-marker", () =>
    decodeResponse(frame(ResponseType.Rows, `${head}eeeeeeeeffffffff`)),
  );
  decodeFails("bad-marker", () =>
    decodeResponse(frame(ResponseType.Rows, head + "ff".repeat(8) + word(0))),
  );
  decodeFails("bad-marker", () => decodeResponse(frame(ResponseType.Rows, word(0) + word(0))));
});

test("bytes left over after the last field", () => {
  decodeFails("trailing-bytes", () => decodeRequest(frame(RequestType.Leader, word(0) + word(0))));
  decodeFails("trailing-bytes", () =>
    decodeRequest(frame(RequestType.Assign, word(1) + word(0) + word(0))),
  );
  decodeFails("trailing-bytes", () => decodeResponse(frame(ResponseType.Empty, word(0) + word(0))));
  decodeFails("trailing-bytes", () =>
    decodeRequest(execSql(`0105000000000000${word(0)}${word(0)}`)),
  );
});

test("no tuple at all and an explicit zero-count tuple both mean no parameters", () => {
  const none = decodeRequest(execSql(""));
  assert.deepEqual(none, { type: "execSql", schema: 0, dbId: 0, sql: "SELECT ?", params: [] });
  assert.deepEqual(decodeRequest(execSql(word(0))), none);
  assert.deepEqual(decodeRequest(execSql(word(0), 1)), { ...none, schema: 1 });
  // And nothing is written for no parameters.
  assert.equal(encodeRequest(none).length, 8 + 8 + 16);
});

test("schema 1 tuples count in a u32 and pad count and types together", () => {
  const params: Param[] = [
    { type: ValueType.Integer, value: 1 },
    { type: ValueType.Text, value: "a" },
    { type: ValueType.Null, value: null },
  ];
  const request: Request = { type: "query", schema: 1, dbId: 0, stmtId: 2, params };
  const message = encodeRequest(request);
  assert.equal(message[5], 1);
  assert.equal(Buffer.from(message.subarray(16, 24)).toString("hex"), "0300000001030500");
  // Four values: 4 + 4 type bytes fill exactly one word.
  const four = encodeRequest({ ...request, params: [...params, params[0]] });
  assert.equal(Buffer.from(four.subarray(16, 24)).toString("hex"), "0400000001030501");
  assert.equal(four.length, 8 + 8 + 8 + 8 * 4);
});

test("more than 255 parameters need schema 1", () => {
  const params: Param[] = Array.from({ length: 256 }, () => ({
    type: ValueType.Null,
    value: null,
  }));
  encodeFails("too-many-params", () =>
    encodeRequest({ type: "execSql", schema: 0, dbId: 0, sql: "x", params }),
  );
  const message = encodeRequest({ type: "execSql", schema: 1, dbId: 0, sql: "x", params });
  const decoded = decodeRequest({
    type: message[4],
    schema: message[5],
    extra: 0,
    body: message.subarray(8),
  });
  assert.equal((decoded as { params: Param[] }).params.length, 256);
});

test("INTEGER is a number while it is a safe integer, a bigint beyond, or always with bigints", () => {
  const values: [bigint, number | bigint][] = [
    [2n ** 53n - 1n, 2 ** 53 - 1],
    [-(2n ** 53n) + 1n, -(2 ** 53) + 1],
    [2n ** 53n, 2n ** 53n],
    [-(2n ** 53n), -(2n ** 53n)],
    [2n ** 63n - 1n, 2n ** 63n - 1n],
    [-(2n ** 63n), -(2n ** 63n)],
    [-1n, -1],
    [2n ** 32n, 2 ** 32],
  ];
  for (const [wire, expected] of values) {
    const f = execSql(`0101000000000000${word(wire)}`);
    const decoded = decodeRequest(f) as { params: Param[] };
    assert.equal(decoded.params[0].value, expected);
    const big = decodeRequest(f, { bigints: true }) as { params: Param[] };
    assert.equal(big.params[0].value, wire);
  }
});

test("BOOLEAN is any non-zero word; a NULL word's content is ignored", () => {
  const decoded = decodeRequest(execSql(`020b050000000000${word(2n ** 40n)}${word(7)}`)) as {
    params: Param[];
  };
  assert.deepEqual(decoded.params, [
    { type: ValueType.Boolean, value: true },
    { type: ValueType.Null, value: null },
  ]);
});

test("Assign with one word is the legacy Promote; with two it carries the role", () => {
  assert.deepEqual(decodeRequest(frame(RequestType.Assign, word(5))), {
    type: "assign",
    nodeId: 5n,
  });
  assert.deepEqual(decodeRequest(frame(RequestType.Assign, word(5) + word(1))), {
    type: "assign",
    nodeId: 5n,
    role: 1,
  });
  assert.equal(encodeRequest({ type: "assign", nodeId: 5n }).length, 16);
});

test("values that cannot be encoded", () => {
  const withParam = (param: Param): Request => ({
    type: "execSql",
    schema: 0,
    dbId: 0,
    sql: "x",
    params: [param],
  });
  encodeFails("nul-in-text", () => encodeRequest({ type: "dump", name: "a\0b" }));
  encodeFails("nul-in-text", () => encodeRequest({ type: "dump", name: `${"é".repeat(40)}\0` }));
  encodeFails("bad-value", () => encodeRequest({ type: "dump", name: "\uD800" }));
  encodeFails("bad-value", () => encodeRequest(withParam({ type: ValueType.Integer, value: 1.5 })));
  encodeFails("bad-value", () =>
    encodeRequest(withParam({ type: ValueType.Integer, value: 2n ** 63n })),
  );
  encodeFails("bad-value", () =>
    encodeRequest(withParam({ type: ValueType.Integer, value: 2 ** 64 })),
  );
  encodeFails("bad-value", () =>
    encodeRequest(withParam({ type: ValueType.UnixTime, value: 0 } as unknown as Param)),
  );
  encodeFails("bad-value", () =>
    encodeRequest(withParam({ type: ValueType.Text, value: 1 } as unknown as Param)),
  );
  encodeFails("bad-value", () => encodeRequest({ type: "remove", nodeId: -1n }));
  encodeFails("bad-value", () => encodeRequest({ type: "cluster", format: -1 }));
  encodeFails("misaligned-file", () =>
    encodeResponse({ type: "files", files: [{ name: "db", data: new Uint8Array(5) }] }),
  );
  // Integers beyond 2^53 given as numbers are exact doubles: accepted.
  const big = encodeRequest(withParam({ type: ValueType.Integer, value: 2 ** 60 }));
  const back = decodeRequest({ type: big[4], schema: 0, extra: 0, body: big.subarray(8) }) as {
    params: Param[];
  };
  assert.equal(back.params[0].value, 2n ** 60n);
});

test("Dump data is not padded and is decoded exactly", () => {
  const body = `${word(2)}${text("db")}${word(8)}0102030405060708${text("db-wal")}${word(0)}`;
  const files = decodeResponse(frame(ResponseType.Files, body));
  assert.deepEqual(files, {
    type: "files",
    files: [
      { name: "db", data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
      { name: "db-wal", data: new Uint8Array(0) },
    ],
  });
});

test("Node under the legacy protocol is the address alone", () => {
  const legacy = frame(ResponseType.Node, text("127.0.0.1:9001"));
  assert.deepEqual(decodeResponse(legacy, { legacy: true }), {
    type: "nodeLegacy",
    address: "127.0.0.1:9001",
  });
  assert.deepEqual(
    encodeResponse({ type: "nodeLegacy", address: "127.0.0.1:9001" }).subarray(8),
    legacy.body,
  );
});

test("Servers in format 0 have no role word", () => {
  const body = word(1) + word(7) + text("a:1");
  assert.deepEqual(decodeResponse(frame(ResponseType.Servers, body), { serversFormat: 0 }), {
    type: "servers",
    servers: [{ id: 7n, address: "a:1" }],
  });
  decodeFails("truncated", () => decodeResponse(frame(ResponseType.Servers, body)));
});

test("Stmt with schema 1 carries the tail offset", () => {
  const message = encodeResponse({
    type: "stmt",
    dbId: 0,
    stmtId: 3,
    paramCount: 1,
    tailOffset: 9,
  });
  assert.equal(message[5], 1);
  assert.deepEqual(
    decodeResponse({ type: message[4], schema: message[5], extra: 0, body: message.subarray(8) }),
    { type: "stmt", dbId: 0, stmtId: 3, paramCount: 1, tailOffset: 9 },
  );
});
