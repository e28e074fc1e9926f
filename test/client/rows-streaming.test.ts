// Results over several Rows messages: pulled lazily, collected in full by query, and interrupted
// like go-dqlite does when the caller stops early (Interrupt, then discard until Empty).
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, type Database } from "../../src/client/database.js";
import { SqliteError } from "../../src/client/errors.js";
import type { Response } from "../../src/wire/index.js";
import {
  defaultSql,
  FakeCluster,
  type FakeConnection,
  gate,
  rowsMessage,
  type SqlHandler,
} from "./fake-server.js";

function batch(from: number, count: number, more: boolean): Response {
  const rows = Array.from({ length: count }, (_, i) => [from + i, `row ${from + i}`]);
  return rowsMessage(["n", "s"], rows, more);
}

async function withDb(sql: SqlHandler, fn: (cluster: FakeCluster, db: Database) => Promise<void>) {
  const cluster = await FakeCluster.start(1, { sql });
  const db = await connect({ cluster: cluster.addresses, database: "rows", maxConnections: 1 });
  try {
    await fn(cluster, db);
  } finally {
    await db.close();
    await cluster.close();
  }
}

test("iterate yields the rows of every PART message, in order", { timeout: 20_000 }, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "querySql"
      ? [batch(0, 3, true), batch(3, 3, true), batch(6, 2, false)]
      : defaultSql(request, connection);
  await withDb(sql, async (_cluster, db) => {
    const seen: number[] = [];
    for await (const row of db.iterate<{ n: number; s: string }>("SELECT n, s FROM t")) {
      assert.equal(row.s, `row ${row.n}`);
      seen.push(row.n);
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

test("iterate hands out rows before the rest of the result exists", {
  timeout: 20_000,
}, async () => {
  const second = gate();
  const sql: SqlHandler = async (request, connection) => {
    if (request.type !== "querySql") return defaultSql(request, connection);
    connection.send(batch(0, 2, true));
    await second.promise;
    return batch(2, 2, false);
  };
  await withDb(sql, async (_cluster, db) => {
    const rows = db.iterate<{ n: number }>("SELECT n, s FROM t");
    // The server holds the second message back until the first rows have reached us.
    assert.equal((await rows.next()).value?.n, 0);
    assert.equal((await rows.next()).value?.n, 1);
    second.open();
    assert.equal((await rows.next()).value?.n, 2);
    assert.equal((await rows.next()).value?.n, 3);
    assert.equal((await rows.next()).done, true);
  });
});

test("leaving the loop early sends Interrupt and waits for Empty", {
  timeout: 20_000,
}, async () => {
  const interrupted = gate<FakeConnection>();
  const sql: SqlHandler = async (request, connection) => {
    if (request.type === "querySql") {
      connection.send(batch(0, 2, true));
      // Like a real server: the rest of the result, then Empty after the Interrupt.
      const from = await interrupted.promise;
      from.send(batch(2, 2, true));
      from.send(batch(4, 2, false));
      return undefined;
    }
    if (request.type === "interrupt") {
      interrupted.open(connection);
      // Empty comes last, after the rest of the result the query handler sends.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { type: "empty" };
    }
    return defaultSql(request, connection);
  };
  await withDb(sql, async (cluster, db) => {
    const seen: number[] = [];
    for await (const row of db.iterate<{ n: number }>("SELECT n, s FROM t")) {
      seen.push(row.n);
      if (seen.length === 1) break;
    }
    assert.deepEqual(seen, [0]);
    const node = cluster.nodes[0];
    assert.deepEqual(node.requestsOf("interrupt"), [{ type: "interrupt", dbId: 0 }]);
    // The connection is back in step: the next query runs on it and sees only its own rows.
    const next = gate();
    node.handler = (request, connection) => {
      if (request.type === "querySql") {
        next.open();
        return rowsMessage(["n"], [[99]], false);
      }
      return cluster.answer(0, request, connection);
    };
    assert.deepEqual(await db.get("SELECT 99"), { n: 99 });
    assert.equal(node.connectionCount, 1);
  });
});

test("no Interrupt is sent when the last message received was DONE", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "querySql" ? batch(0, 5, false) : defaultSql(request, connection);
  await withDb(sql, async (cluster, db) => {
    for await (const row of db.iterate<{ n: number }>("SELECT n FROM t")) {
      if (row.n === 1) break;
    }
    assert.equal(cluster.nodes[0].requestsOf("interrupt").length, 0);
  });
});

test("get takes the first row and interrupts the rest", { timeout: 20_000 }, async () => {
  const sql: SqlHandler = (request, connection) => {
    if (request.type === "querySql") return [batch(10, 2, true)];
    if (request.type === "interrupt") return [batch(12, 2, false), { type: "empty" }];
    return defaultSql(request, connection);
  };
  await withDb(sql, async (cluster, db) => {
    assert.deepEqual(await db.get("SELECT n, s FROM t"), { n: 10, s: "row 10" });
    assert.equal(cluster.nodes[0].requestsOf("interrupt").length, 1);
    assert.deepEqual(await db.get("SELECT n, s FROM t"), { n: 10, s: "row 10" });
    assert.equal(cluster.nodes[0].connectionCount, 1);
  });
});

test("query collects every message; get on an empty result is undefined", {
  timeout: 20_000,
}, async () => {
  let empty = false;
  const sql: SqlHandler = (request, connection) => {
    if (request.type !== "querySql") return defaultSql(request, connection);
    return empty ? rowsMessage(["n"], [], false) : [batch(0, 4, true), batch(4, 1, false)];
  };
  await withDb(sql, async (_cluster, db) => {
    const result = await db.query("SELECT n, s FROM t");
    assert.deepEqual(result.columns, ["n", "s"]);
    assert.deepEqual(
      result.rows.map((row) => row.n),
      [0, 1, 2, 3, 4],
    );
    const arrays = await db.query("SELECT n, s FROM t", [], { rowMode: "array" });
    assert.deepEqual(arrays.rows[4], [4, "row 4"]);
    empty = true;
    assert.equal(await db.get("SELECT n FROM t"), undefined);
  });
});

test("a Failure in the middle of a result ends the iteration with SqliteError", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "querySql"
      ? [batch(0, 2, true), { type: "failure", code: 9, message: "interrupted" }]
      : defaultSql(request, connection);
  await withDb(sql, async (cluster, db) => {
    const seen: number[] = [];
    const error = await (async () => {
      for await (const row of db.iterate<{ n: number }>("SELECT n FROM t")) seen.push(row.n);
    })().catch((e) => e);
    assert.ok(error instanceof SqliteError, String(error));
    assert.equal(error.code, 9);
    assert.deepEqual(seen, [0, 1]);
    // The connection stayed in step and is reused.
    cluster.nodes[0].handler = (request, connection) =>
      request.type === "querySql"
        ? rowsMessage(["n"], [[1]], false)
        : cluster.answer(0, request, connection);
    assert.deepEqual(await db.get("SELECT 1"), { n: 1 });
    assert.equal(cluster.nodes[0].connectionCount, 1);
  });
});

test("a connection lost in the middle of a result fails the iteration", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) => {
    if (request.type !== "querySql") return defaultSql(request, connection);
    connection.send(batch(0, 2, true));
    setTimeout(() => connection.destroy(), 10);
    return undefined;
  };
  await withDb(sql, async (_cluster, db) => {
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const row of db.iterate<{ n: number }>("SELECT n FROM t")) seen.push(row.n);
      })(),
      (error: Error) => error.name === "ConnectionError",
    );
    assert.deepEqual(seen, [0, 1]);
  });
});

test("a read whose connection drops before the first rows is retried", {
  timeout: 20_000,
}, async () => {
  let drops = 1;
  const sql: SqlHandler = (request, connection) => {
    if (request.type !== "querySql") return defaultSql(request, connection);
    if (drops-- > 0) {
      connection.destroy();
      return undefined;
    }
    return batch(0, 1, false);
  };
  await withDb(sql, async (cluster, db) => {
    const rows = [];
    for await (const row of db.iterate("SELECT n FROM t")) rows.push(row);
    assert.equal(rows.length, 1);
    assert.equal(cluster.nodes[0].requestsOf("querySql").length, 2);
  });
});

test("a message bigger than the read-ahead bound still arrives whole", {
  timeout: 20_000,
}, async () => {
  const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
  const sql: SqlHandler = (request, connection) =>
    request.type === "querySql"
      ? rowsMessage(["b"], [[blob]], false)
      : defaultSql(request, connection);
  await withDb(sql, async (_cluster, db) => {
    const row = await db.get<{ b: Uint8Array }>("SELECT b FROM t");
    assert.equal(row?.b.length, blob.length);
    assert.deepEqual(row?.b.subarray(0, 300), blob.subarray(0, 300));
  });
});

test("a slow reader of a long result gets every row in order", { timeout: 30_000 }, async () => {
  // 8 MiB of Rows messages written at once: the client stops reading ahead and catches up.
  const messages = Array.from({ length: 512 }, (_, i) =>
    rowsMessage(
      ["n", "pad"],
      Array.from({ length: 4 }, (_, k) => [i * 4 + k, "x".repeat(4000)]),
      i < 511,
    ),
  );
  const sql: SqlHandler = (request, connection) =>
    request.type === "querySql" ? messages : defaultSql(request, connection);
  await withDb(sql, async (_cluster, db) => {
    let expected = 0;
    for await (const row of db.iterate<{ n: number }>("SELECT n, pad FROM t")) {
      assert.equal(row.n, expected++);
      if (expected % 256 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(expected, 2048);
  });
});
