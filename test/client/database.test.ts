// The SQL API against fake clusters: parameters on the wire, retries on leader changes only when
// safe, typed errors, deadlines, the pool, prepared statements and transactions.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, type Database } from "../../src/client/database.js";
import {
  ConnectionError,
  LeadershipLostError,
  NotLeaderError,
  SqliteError,
  TimeoutError,
  TransactionLostError,
} from "../../src/client/errors.js";
import { ErrorCode, type Request, ValueType } from "../../src/wire/index.js";
import {
  defaultSql,
  FakeCluster,
  gate,
  leadershipLost,
  notLeader,
  rowsMessage,
  type SqlHandler,
} from "./fake-server.js";

async function withCluster(
  count: number,
  sql: SqlHandler,
  fn: (cluster: FakeCluster, db: Database) => Promise<void>,
  options: { maxConnections?: number; timeoutMs?: number; busyTimeoutMs?: number } = {},
): Promise<void> {
  const cluster = await FakeCluster.start(count, { leader: 0, sql });
  const db = await connect({ cluster: cluster.addresses, database: "test", ...options });
  try {
    await fn(cluster, db);
  } finally {
    await db.close();
    await cluster.close();
  }
}

function sqlRequests(cluster: FakeCluster, index: number): Request[] {
  return cluster.nodes[index].requests
    .map((logged) => logged.request)
    .filter((r) => r.type === "execSql" || r.type === "querySql");
}

test("connect opens the database on the leader with go-dqlite's Open request", {
  timeout: 20_000,
}, async () => {
  await withCluster(3, defaultSql, async (cluster) => {
    const opens = cluster.nodes[0].requestsOf("open");
    assert.deepEqual(opens, [{ type: "open", name: "test", flags: 0, vfs: "volatile" }]);
  });
});

test("exec sends ExecSQL with the parameters and returns changes and the last rowid", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request) =>
    request.type === "execSql"
      ? { type: "result", lastInsertId: 42n, rowsAffected: 1 }
      : defaultSql(request, undefined as never);
  await withCluster(1, sql, async (cluster, db) => {
    const result = await db.exec("INSERT INTO t VALUES (?, ?, ?)", [1, "two", null]);
    assert.deepEqual(result, { changes: 1, lastInsertRowid: 42 });
    const [request] = cluster.nodes[0].requestsOf("execSql");
    assert.equal(request.sql, "INSERT INTO t VALUES (?, ?, ?)");
    assert.deepEqual(request.params, [
      { type: ValueType.Integer, value: 1 },
      { type: ValueType.Text, value: "two" },
      { type: ValueType.Null, value: null },
    ]);
  });
});

test("named parameters are sent in the positions SQLite numbers them", {
  timeout: 20_000,
}, async () => {
  await withCluster(1, defaultSql, async (cluster, db) => {
    await db.exec("INSERT INTO t VALUES (:a, @b, $c, :a, ':x')", { a: 1, "@b": "b", c: true });
    const [request] = cluster.nodes[0].requestsOf("execSql");
    assert.deepEqual(request.params, [
      { type: ValueType.Integer, value: 1 },
      { type: ValueType.Text, value: "b" },
      { type: ValueType.Boolean, value: true },
    ]);
    await assert.rejects(db.exec("INSERT INTO t VALUES (:a, :b)", { a: 1 }), RangeError);
  });
});

test("a statement refused with not-leader runs again on the new leader", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request) =>
    request.type === "execSql"
      ? { type: "result", lastInsertId: 7n, rowsAffected: 1 }
      : defaultSql(request, undefined as never);
  await withCluster(3, sql, async (cluster, db) => {
    cluster.leader = 2;
    const result = await db.exec("INSERT INTO t VALUES (1)");
    assert.deepEqual(result, { changes: 1, lastInsertRowid: 7 });
    assert.equal(sqlRequests(cluster, 0).length, 1, "the old leader refused it once");
    assert.equal(sqlRequests(cluster, 2).length, 1, "the new leader ran it");
    // The new leader is where the next statement goes straight away.
    await db.exec("INSERT INTO t VALUES (2)");
    assert.equal(sqlRequests(cluster, 0).length, 1);
    assert.equal(sqlRequests(cluster, 2).length, 2);
  });
});

test("a write that fails with leadership lost surfaces as LeadershipLostError, not retried", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request) =>
    request.type === "execSql" ? leadershipLost() : defaultSql(request, undefined as never);
  await withCluster(3, sql, async (cluster, db) => {
    const error = await db.exec("INSERT INTO t VALUES (1)").catch((e) => e);
    assert.ok(error instanceof LeadershipLostError, String(error));
    assert.equal(error.code, ErrorCode.LeadershipLost);
    assert.equal(error.codeName, "SQLITE_IOERR_LEADERSHIP_LOST");
    const total = [0, 1, 2].reduce((n, i) => n + sqlRequests(cluster, i).length, 0);
    assert.equal(total, 1, "sent exactly once");
  });
});

test("a read that fails with leadership lost is retried", { timeout: 20_000 }, async () => {
  let failures = 1;
  const sql: SqlHandler = (request) => {
    if (request.type === "querySql" && failures-- > 0) return leadershipLost();
    if (request.type === "querySql") return rowsMessage(["n"], [[5]], false);
    return defaultSql(request, undefined as never);
  };
  await withCluster(1, sql, async (cluster, db) => {
    const row = await db.get("SELECT n FROM t");
    assert.deepEqual(row, { n: 5 });
    assert.equal(sqlRequests(cluster, 0).length, 2);
  });
});

test("a multi-statement write refused with not-leader is not retried", {
  timeout: 20_000,
}, async () => {
  // Statement one may have committed before the second was refused.
  await withCluster(2, defaultSql, async (cluster, db) => {
    cluster.leader = 1;
    const error = await db
      .exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
      .catch((e) => e);
    assert.ok(error instanceof NotLeaderError, String(error));
    assert.equal(sqlRequests(cluster, 1).length, 0);
  });
});

test("losing the connection during a write surfaces ConnectionError; during a read it retries", {
  timeout: 20_000,
}, async () => {
  let drops = 2;
  const sql: SqlHandler = (request, connection) => {
    if ((request.type === "execSql" || request.type === "querySql") && drops-- > 0) {
      connection.destroy();
      return undefined;
    }
    if (request.type === "querySql") return rowsMessage(["n"], [[1]], false);
    return defaultSql(request, connection);
  };
  await withCluster(1, sql, async (cluster, db) => {
    const error = await db.exec("UPDATE t SET n = 1").catch((e) => e);
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.requestSent, true);
    assert.equal(cluster.nodes[0].requestsOf("execSql").length, 1);
    const result = await db.query("SELECT n FROM t");
    assert.deepEqual(result.rows, [{ n: 1 }]);
    assert.equal(cluster.nodes[0].requestsOf("querySql").length, 2);
  });
});

test("a request without an answer fails with TimeoutError and its connection is dropped", {
  timeout: 20_000,
}, async () => {
  let silent = true;
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql" && silent ? undefined : defaultSql(request, connection);
  await withCluster(1, sql, async (cluster, db) => {
    const error = await db.exec("INSERT INTO t VALUES (1)", [], { timeoutMs: 100 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    silent = false;
    const before = cluster.nodes[0].connectionCount;
    await db.exec("INSERT INTO t VALUES (1)");
    assert.equal(cluster.nodes[0].connectionCount, before + 1, "a new connection was opened");
  });
});

test("a caller's abort signal stops a request", { timeout: 20_000 }, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql" ? undefined : defaultSql(request, connection);
  await withCluster(1, sql, async (_cluster, db) => {
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 30);
    await assert.rejects(
      db.exec("INSERT INTO t VALUES (1)", [], { signal: controller.signal }),
      (error) => error === reason,
    );
  });
});

test("SQL errors carry the code and message and leave the connection in the pool", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql"
      ? { type: "failure", code: 2067, message: "UNIQUE constraint failed: t.a" }
      : defaultSql(request, connection);
  await withCluster(1, sql, async (cluster, db) => {
    const error = await db.exec("INSERT INTO t VALUES (1)").catch((e) => e);
    assert.ok(error instanceof SqliteError && !(error instanceof NotLeaderError));
    assert.equal(error.code, 2067);
    assert.equal(error.primaryCode, 19);
    assert.equal(error.codeName, "SQLITE_CONSTRAINT_UNIQUE");
    assert.equal(error.message, "UNIQUE constraint failed: t.a");
    await db.exec("INSERT INTO t VALUES (2)").catch(() => {});
    assert.equal(cluster.nodes[0].connectionCount, 1);
  });
});

test("the pool reuses idle connections and never opens more than maxConnections", {
  timeout: 20_000,
}, async () => {
  const release = gate();
  let waiting = 0;
  const sql: SqlHandler = async (request, connection) => {
    if (request.type === "execSql") {
      waiting++;
      await release.promise;
    }
    return defaultSql(request, connection);
  };
  await withCluster(
    1,
    sql,
    async (cluster, db) => {
      const pending = Array.from({ length: 6 }, (_, i) => db.exec(`INSERT INTO t VALUES (${i})`));
      while (waiting < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(cluster.nodes[0].openConnections, 2);
      release.open();
      await Promise.all(pending);
      assert.equal(cluster.nodes[0].connectionCount, 2);
      for (let i = 0; i < 5; i++) await db.exec("INSERT INTO t VALUES (0)");
      assert.equal(cluster.nodes[0].connectionCount, 2);
    },
    { maxConnections: 2 },
  );
});

test("prepared statements are prepared once per connection, padded, and finalized", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) => {
    if (request.type === "prepare") return { type: "stmt", dbId: 0, stmtId: 3, paramCount: 2 };
    if (request.type === "query") return rowsMessage(["a"], [[1]], false);
    return defaultSql(request, connection);
  };
  await withCluster(1, sql, async (cluster, db) => {
    const statement = db.prepare("INSERT INTO t VALUES (?, ?)");
    await statement.exec([1, 2]);
    await statement.exec([3]);
    const node = cluster.nodes[0];
    assert.equal(node.requestsOf("prepare").length, 1);
    const execs = node.requestsOf("exec");
    assert.deepEqual(
      execs.map((r) => [r.stmtId, r.params.map((p) => p.value)]),
      [
        [3, [1, 2]],
        [3, [3, null]],
      ],
    );
    const select = db.prepare("SELECT a FROM t");
    assert.deepEqual((await select.query()).rows, [{ a: 1 }]);
    await statement.close();
    assert.deepEqual(node.requestsOf("finalize"), [{ type: "finalize", dbId: 0, stmtId: 3 }]);
    await assert.rejects(statement.exec([1, 2]), /closed/);
    assert.throws(() => db.prepare("SELECT 1; SELECT 2"), TypeError);
  });
});

test("a transaction runs BEGIN, its statements and COMMIT on one connection", {
  timeout: 20_000,
}, async () => {
  await withCluster(1, defaultSql, async (cluster, db) => {
    const value = await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO t VALUES (1)");
      await tx.query("SELECT * FROM t");
      return "done";
    });
    assert.equal(value, "done");
    const requests = cluster.nodes[0].requests.filter(
      (r) => r.request.type === "execSql" || r.request.type === "querySql",
    );
    assert.deepEqual(
      requests.map((r) => (r.request as { sql: string }).sql),
      ["BEGIN", "INSERT INTO t VALUES (1)", "SELECT * FROM t", "COMMIT"],
    );
    assert.equal(new Set(requests.map((r) => r.connection)).size, 1);
  });
});

test("a transaction whose function throws is rolled back and the error rethrown", {
  timeout: 20_000,
}, async () => {
  await withCluster(1, defaultSql, async (cluster, db) => {
    const failure = new Error("changed my mind");
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec("INSERT INTO t VALUES (1)");
        throw failure;
      }),
      (error) => error === failure,
    );
    const sqls = cluster.nodes[0].requestsOf("execSql").map((r) => r.sql);
    assert.deepEqual(sqls, ["BEGIN", "INSERT INTO t VALUES (1)", "ROLLBACK"]);
  });
});

test("a transaction that loses its leader fails with TransactionLostError and is not retried", {
  timeout: 20_000,
}, async () => {
  await withCluster(2, defaultSql, async (cluster, db) => {
    let calls = 0;
    const error = await db
      .transaction(async (tx) => {
        calls++;
        await tx.exec("INSERT INTO t VALUES (1)");
        cluster.leader = 1;
        await tx.exec("INSERT INTO t VALUES (2)");
      })
      .catch((e) => e);
    assert.ok(error instanceof TransactionLostError, String(error));
    assert.equal(error.outcome, "rolled-back");
    assert.ok(error.cause instanceof NotLeaderError);
    assert.equal(calls, 1);
    assert.equal(sqlRequests(cluster, 1).length, 0, "nothing reached the new leader");
    // The handle still works, on the new leader.
    await db.exec("INSERT INTO t VALUES (3)");
    assert.equal(sqlRequests(cluster, 1).length, 1);
  });
});

test("leadership lost on COMMIT leaves the outcome unknown", { timeout: 20_000 }, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql" && request.sql === "COMMIT"
      ? leadershipLost()
      : defaultSql(request, connection);
  await withCluster(1, sql, async (cluster, db) => {
    const error = await db
      .transaction(async (tx) => {
        await tx.exec("INSERT INTO t VALUES (1)");
      })
      .catch((e) => e);
    assert.ok(error instanceof TransactionLostError, String(error));
    assert.equal(error.outcome, "unknown");
    assert.equal(
      cluster.nodes[0].requestsOf("execSql").filter((r) => r.sql === "COMMIT").length,
      1,
    );
  });
});

test("BEGIN refused with not-leader moves the transaction to the new leader", {
  timeout: 20_000,
}, async () => {
  await withCluster(2, defaultSql, async (cluster, db) => {
    cluster.leader = 1;
    await db.transaction(async (tx) => {
      await tx.exec("INSERT INTO t VALUES (1)");
    });
    assert.deepEqual(
      cluster.nodes[1].requestsOf("execSql").map((r) => r.sql),
      ["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"],
    );
  });
});

test("transaction control statements are refused where they would confuse the pool", {
  timeout: 20_000,
}, async () => {
  await withCluster(1, defaultSql, async (cluster, db) => {
    await assert.rejects(db.exec("BEGIN"), TypeError);
    await assert.rejects(db.exec("SAVEPOINT a"), TypeError);
    // A whole transaction in one script is fine.
    await db.exec("BEGIN; INSERT INTO t VALUES (1); COMMIT;");
    await db.transaction(async (tx) => {
      await assert.rejects(tx.exec("COMMIT"), TypeError);
      await assert.rejects(tx.exec("ROLLBACK"), TypeError);
      await tx.exec("SAVEPOINT a; ROLLBACK TO a; RELEASE a");
    });
    assert.equal(cluster.nodes[0].requestsOf("execSql").length, 4);
  });
});

test("a failed script that opened a transaction drops its connection", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql" && request.sql.includes("bad")
      ? { type: "failure", code: 1, message: "no such table: bad" }
      : defaultSql(request, connection);
  await withCluster(1, sql, async (cluster, db) => {
    await assert.rejects(db.exec("BEGIN; INSERT INTO bad VALUES (1); COMMIT"), SqliteError);
    await db.exec("INSERT INTO t VALUES (1)");
    assert.equal(
      cluster.nodes[0].connectionCount,
      2,
      "the connection left inside BEGIN was closed",
    );
  });
});

test("results: values by type, integers as number or bigint, dates parsed", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) => {
    if (request.type !== "querySql") return defaultSql(request, connection);
    return {
      type: "rows",
      columns: ["i", "big", "f", "s", "b", "n", "t", "d", "e", "bool"],
      rowCount: 1,
      types: Uint8Array.from([1, 1, 2, 3, 4, 5, 9, 10, 10, 11]),
      values: [
        7,
        2n ** 60n,
        1.5,
        "text",
        Uint8Array.from([1, 2]),
        null,
        1_700_000_000,
        "2024-01-02 03:04:05.5+01:00",
        "",
        true,
      ],
      more: false,
    };
  };
  await withCluster(1, sql, async (_cluster, db) => {
    const row = await db.get("SELECT * FROM t");
    assert.deepEqual(row, {
      i: 7,
      big: 2n ** 60n,
      f: 1.5,
      s: "text",
      b: Uint8Array.from([1, 2]),
      n: null,
      t: new Date(1_700_000_000_000),
      d: new Date("2024-01-02T02:04:05.500Z"),
      e: null,
      bool: true,
    });
    const array = await db.get("SELECT * FROM t", [], { rowMode: "array" });
    assert.equal(array?.length, 10);
    assert.equal(array?.[0], 7);
  });
});

test("integers: 'bigint' returns every INTEGER and rowid as bigint", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(1, {
    sql: (request, connection) => {
      if (request.type === "querySql") return rowsMessage(["i"], [[7]], false);
      if (request.type === "execSql") return { type: "result", lastInsertId: 3n, rowsAffected: 1 };
      return defaultSql(request, connection);
    },
  });
  const db = await connect({ cluster: cluster.addresses, database: "x", integers: "bigint" });
  try {
    assert.deepEqual(await db.get("SELECT i FROM t"), { i: 7n });
    assert.deepEqual(await db.exec("INSERT INTO t VALUES (1)"), {
      changes: 1,
      lastInsertRowid: 3n,
    });
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("close closes every connection and later calls fail", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(1);
  const db = await connect({ cluster: cluster.addresses, database: "x" });
  await db.exec("INSERT INTO t VALUES (1)");
  await db.close();
  await assert.rejects(db.exec("INSERT INTO t VALUES (1)"), /closed/);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(cluster.nodes[0].openConnections, 0);
  await cluster.close();
});

test("connect fails with NoLeaderError when no node leads before the deadline", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(2, { leader: undefined });
  try {
    await assert.rejects(
      connect({ cluster: cluster.addresses, database: "x", timeoutMs: 200 }),
      (error: Error) => error.name === "NoLeaderError",
    );
  } finally {
    await cluster.close();
  }
});

test("not-leader in the Open of a new connection is retried", { timeout: 20_000 }, async () => {
  // dqlite >= 1.12 refuses Open on followers: the connector's answer may be stale by then.
  const cluster = await FakeCluster.start(2, { leader: 0 });
  let refused = 1;
  cluster.nodes[0].handler = (request, connection) =>
    request.type === "open" && refused-- > 0 ? notLeader() : cluster.answer(0, request, connection);
  const db = await connect({ cluster: cluster.addresses, database: "x" });
  try {
    assert.equal(cluster.nodes[0].requestsOf("open").length, 2);
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("a statement refused with SQLITE_BUSY is tried again within busyTimeoutMs", {
  timeout: 20_000,
}, async () => {
  let busy = 3;
  const sql: SqlHandler = (request, connection) =>
    request.type === "execSql" &&
    request.sql !== "BEGIN; INSERT INTO t VALUES (1); COMMIT" &&
    busy-- > 0
      ? { type: "failure", code: 5, message: "database is locked" }
      : defaultSql(request, connection);
  await withCluster(1, sql, async (cluster, db) => {
    await db.exec("INSERT INTO t VALUES (1)");
    assert.equal(cluster.nodes[0].requestsOf("execSql").length, 4);
  });
  // A script may have committed its first statements: BUSY surfaces at once.
  const always: SqlHandler = (request, connection) =>
    request.type === "execSql"
      ? { type: "failure", code: 5, message: "database is locked" }
      : defaultSql(request, connection);
  await withCluster(
    1,
    always,
    async (cluster, db) => {
      const error = await db
        .exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        .catch((e) => e);
      assert.ok(error instanceof SqliteError && error.code === 5, String(error));
      assert.equal(cluster.nodes[0].requestsOf("execSql").length, 1);
      // A single statement gives up once the busy timeout has passed.
      const started = performance.now();
      await assert.rejects(db.exec("INSERT INTO t VALUES (1)"), SqliteError);
      assert.ok(performance.now() - started >= 50, "it kept trying for busyTimeoutMs");
      assert.ok(cluster.nodes[0].requestsOf("execSql").length > 3);
    },
    { busyTimeoutMs: 50 },
  );
  await withCluster(
    1,
    always,
    async (cluster, db) => {
      await assert.rejects(db.exec("INSERT INTO t VALUES (1)"), SqliteError);
      assert.equal(cluster.nodes[0].requestsOf("execSql").length, 1, "busyTimeoutMs 0 never waits");
    },
    { busyTimeoutMs: 0 },
  );
});

test("BEGIN IMMEDIATE refused with SQLITE_BUSY is tried again; statements inside are not", {
  timeout: 20_000,
}, async () => {
  let busy = 2;
  const sql: SqlHandler = (request, connection) => {
    if (request.type !== "execSql") return defaultSql(request, connection);
    if (request.sql === "BEGIN IMMEDIATE" && busy-- > 0)
      return { type: "failure", code: 5, message: "database is locked" };
    if (request.sql.startsWith("UPDATE"))
      return { type: "failure", code: 5, message: "database is locked" };
    return defaultSql(request, connection);
  };
  await withCluster(1, sql, async (cluster, db) => {
    await db.transaction(
      async (tx) => {
        await tx.exec("INSERT INTO t VALUES (1)");
        await assert.rejects(tx.exec("UPDATE t SET a = 2"), SqliteError);
      },
      { mode: "immediate" },
    );
    assert.deepEqual(
      cluster.nodes[0].requestsOf("execSql").map((r) => r.sql),
      [
        "BEGIN IMMEDIATE",
        "BEGIN IMMEDIATE",
        "BEGIN IMMEDIATE",
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 2",
        "COMMIT",
      ],
    );
  });
});

test("COMMIT first interrupts a result the transaction left unfinished", {
  timeout: 20_000,
}, async () => {
  const sql: SqlHandler = (request, connection) => {
    if (request.type === "querySql") return rowsMessage(["n"], [[1], [2]], true);
    if (request.type === "interrupt") return [rowsMessage(["n"], [[3]], false), { type: "empty" }];
    return defaultSql(request, connection);
  };
  await withCluster(1, sql, async (cluster, db) => {
    await db.transaction(async (tx) => {
      const rows = tx.iterate<{ n: number }>("SELECT n FROM t");
      assert.equal((await rows.next()).value?.n, 1);
      // The iterator is neither finished nor closed when the function returns.
    });
    const kinds = cluster.nodes[0].requests
      .map((r) => r.request)
      .filter((r) => r.type !== "open" && r.type !== "leader" && r.type !== "client")
      .map((r) => ("sql" in r ? r.sql : r.type));
    assert.deepEqual(kinds, ["BEGIN", "SELECT n FROM t", "interrupt", "COMMIT"]);
  });
});
