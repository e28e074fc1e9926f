// Parameters: SQLite's numbering of `?`, `?NNN` and named parameters, found by scanning the SQL
// around literals and comments; JavaScript values turned into typed wire values.
import assert from "node:assert/strict";
import { test } from "node:test";
import sqlite3InitModule from "@sqlite.org/sqlite-wasm";
import fc from "fast-check";
import { scanSql } from "../../src/client/sql-scanner.js";
import { bindParameters, toParam } from "../../src/client/values.js";
import { ValueType } from "../../src/wire/index.js";

function slots(sql: string): { count: number; names: Record<string, number> } {
  const [statement] = scanSql(sql).statements;
  return { count: statement.parameterCount, names: Object.fromEntries(statement.names) };
}

test("named parameters are numbered at first use, repeats share a slot", () => {
  assert.deepEqual(slots("SELECT :a, @b, $c, :a, @a"), {
    count: 4,
    names: { ":a": 1, "@b": 2, $c: 3, "@a": 4 },
  });
});

test("? takes the next slot after the largest so far; ?NNN sets its own", () => {
  assert.deepEqual(slots("SELECT ?, ?5, ?, :x"), { count: 7, names: { ":x": 7 } });
  assert.deepEqual(slots("SELECT ?2, ?"), { count: 3, names: {} });
  // ?NNN is recorded under its name: a later :x does not reuse its slot.
  assert.deepEqual(slots("SELECT :x, ?1, :y"), { count: 2, names: { ":x": 1, ":y": 2 } });
});

test("literals, quoted identifiers and comments hide parameter-like text", () => {
  const sql = `SELECT ':a', "?", \`@b\`, [$c], x'3F', -- :d ?
    /* :e ? */ :real, 'it''s :not' , "q""?"`;
  assert.deepEqual(slots(sql), { count: 1, names: { ":real": 1 } });
});

test("Tcl-style names, bare colons, and digits as names", () => {
  // As in SQLite, a digit is an identifier character: ":2" is a named parameter.
  assert.deepEqual(slots("SELECT $a::b(x), :c, a :: b, 1:2"), {
    count: 3,
    names: { "$a::b(x)": 1, ":c": 2, ":2": 3 },
  });
});

test("statements split at semicolons, but not inside a trigger body", () => {
  const { statements } = scanSql(`
    CREATE TABLE t (a);
    CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN
      UPDATE t SET a = 1; DELETE FROM t;
    END;
    INSERT INTO t VALUES (';'); -- trailing comment ;
  `);
  assert.deepEqual(
    statements.map((s) => s.keywords),
    [
      ["CREATE", "TABLE", "T"],
      ["CREATE", "TEMP", "TRIGGER"],
      ["INSERT", "INTO", "T"],
    ],
  );
  assert.equal(scanSql(" ;; -- nothing\n").statements.length, 0);
});

test("reads and writes are told apart conservatively", () => {
  const writes = (sql: string) => scanSql(sql).statements.map((s) => s.writes);
  assert.deepEqual(writes("SELECT 1"), [false]);
  assert.deepEqual(writes("with x as (select 1) select * from x"), [false]);
  assert.deepEqual(writes("VALUES (1)"), [false]);
  assert.deepEqual(writes("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"), [true]);
  assert.deepEqual(writes("INSERT INTO t VALUES (1) RETURNING a"), [true]);
  assert.deepEqual(writes("PRAGMA user_version = 3"), [true]);
  assert.deepEqual(writes("SELECT 'INSERT'"), [false]);
});

test("an object fills named slots by name with or without prefix; missing names are errors", () => {
  const params = bindParameters("SELECT :a, @b, :a, $c", { a: 1, "@b": "x", $c: null });
  assert.deepEqual(params, [
    { type: ValueType.Integer, value: 1 },
    { type: ValueType.Text, value: "x" },
    { type: ValueType.Null, value: null },
  ]);
  assert.throws(
    () => bindParameters("SELECT :a, :b", { a: 1 }),
    /missing value for named parameter :b/,
  );
  assert.throws(() => bindParameters("SELECT ?, :a", { a: 1 }), /positional/);
  assert.throws(() => bindParameters("SELECT :a; SELECT :b", { a: 1, b: 2 }), /single statement/);
});

test("an array is sent as it is", () => {
  assert.deepEqual(bindParameters("SELECT ?, ?", [1, "a"]), [
    { type: ValueType.Integer, value: 1 },
    { type: ValueType.Text, value: "a" },
  ]);
  assert.deepEqual(bindParameters("SELECT 1", undefined), []);
});

test("JavaScript values map to dqlite types", () => {
  const bytes = Uint8Array.from([1, 2, 3]);
  assert.deepEqual(toParam(3, "p"), { type: ValueType.Integer, value: 3 });
  assert.deepEqual(toParam(-0, "p"), { type: ValueType.Integer, value: -0 });
  assert.deepEqual(toParam(2.5, "p"), { type: ValueType.Float, value: 2.5 });
  assert.deepEqual(toParam(2 ** 63, "p"), { type: ValueType.Float, value: 2 ** 63 });
  assert.deepEqual(toParam(Number.NaN, "p"), { type: ValueType.Float, value: Number.NaN });
  assert.deepEqual(toParam(2n ** 63n - 1n, "p"), {
    type: ValueType.Integer,
    value: 2n ** 63n - 1n,
  });
  assert.throws(() => toParam(2n ** 63n, "p"), RangeError);
  assert.throws(() => toParam(-(2n ** 63n) - 1n, "p"), RangeError);
  assert.deepEqual(toParam("s", "p"), { type: ValueType.Text, value: "s" });
  assert.deepEqual(toParam(bytes, "p"), { type: ValueType.Blob, value: bytes });
  assert.deepEqual(toParam(Buffer.from([1]), "p").type, ValueType.Blob);
  assert.deepEqual(toParam(bytes.buffer, "p"), { type: ValueType.Blob, value: bytes });
  assert.deepEqual(toParam(true, "p"), { type: ValueType.Boolean, value: true });
  assert.deepEqual(toParam(null, "p"), { type: ValueType.Null, value: null });
  assert.deepEqual(toParam(undefined, "p"), { type: ValueType.Null, value: null });
  assert.deepEqual(toParam(new Date("2024-01-02T03:04:05Z"), "p"), {
    type: ValueType.Iso8601,
    value: "2024-01-02 03:04:05+00:00",
  });
  assert.throws(() => toParam({} as never, "p"), TypeError);
  assert.throws(() => toParam(Symbol("x") as never, "p"), TypeError);
});

test("the scanner numbers parameters exactly like SQLite does (random SQL)", async () => {
  const sqlite = await sqlite3InitModule();
  const db = new sqlite.oo1.DB(":memory:");
  const expression = fc.oneof(
    fc.constantFrom("?", ":a", "@a", "$a", ":b", "@b2", "$a::b", "$c(x)", ":1", "1", "'?'", "':a'"),
    fc.integer({ min: 1, max: 12 }).map((n) => `?${n}`),
    fc.constantFrom('"?"', "x'3F'", "'it''s :x'", "[?]", "`@k`"),
  );
  const filler = fc.constantFrom(" ", " -- :c ?\n", " /* @d ? */ ", "\n");
  const sqlText = fc
    .array(fc.tuple(expression, filler), { minLength: 1, maxLength: 12 })
    .map((parts) => `SELECT ${parts.map(([e, f]) => `${e}${f}`).join(", ")}`);
  try {
    fc.assert(
      fc.property(sqlText, (sql) => {
        let statement: ReturnType<typeof db.prepare>;
        try {
          statement = db.prepare(sql);
        } catch {
          return; // e.g. a column of "?" alone in brackets: not our concern here
        }
        try {
          const pointer = statement.pointer as number;
          const expected = new Map<string, number>();
          for (let i = 1; i <= statement.parameterCount; i++) {
            const name = sqlite.capi.sqlite3_bind_parameter_name(pointer, i);
            if (name !== null && !name.startsWith("?")) expected.set(name, i);
          }
          const [scanned] = scanSql(sql).statements;
          assert.equal(scanned.parameterCount, statement.parameterCount, sql);
          assert.deepEqual(scanned.names, expected, sql);
        } finally {
          statement.finalize();
        }
      }),
      { numRuns: 500, seed: 20240601 },
    );
  } finally {
    db.close();
  }
});
