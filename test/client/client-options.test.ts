// The driver options of go-dqlite as `connect` options: logger, SQL tracing, connection timeout,
// dial function and dial timeout, retry limit (backoff and attempt limits: connector.test.ts).
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { test } from "node:test";
import { connect, dialTcp, NoLeaderError, SqliteError } from "../../src/client/index.js";
import type { Logger, LogLevel } from "../../src/log/logger.js";
import { FakeCluster, FakeNode, rowsMessage } from "./fake-server.js";

interface Line {
  level: LogLevel;
  fields: Record<string, unknown>;
  message: string;
}

function memoryLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: LogLevel) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function sqlAnswers(): FakeCluster["sql"] {
  return (request) => {
    switch (request.type) {
      case "execSql":
        if (request.sql.includes("boom")) {
          return { type: "failure", code: 1, message: 'near "boom": syntax error' };
        }
        return { type: "result", lastInsertId: 1n, rowsAffected: 1 };
      case "querySql":
      case "query":
        return rowsMessage(["n"], [[1]], false);
      case "prepare":
        return { type: "stmt", dbId: 0, stmtId: 3, paramCount: 1 };
      case "exec":
        return { type: "result", lastInsertId: 2n, rowsAffected: 1 };
      default:
        return { type: "empty" };
    }
  };
}

test("tracing logs every SQL request with its duration at the chosen level", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(1, { sql: sqlAnswers() });
  const logger = memoryLogger();
  const db = await connect({
    cluster: cluster.addresses,
    database: "traced",
    logger,
    tracing: "info",
  });
  try {
    await db.exec("INSERT INTO t VALUES (1)");
    await db.query("SELECT n FROM t");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    await insert.exec([5]);
    await assert.rejects(db.exec("boom"), SqliteError);
    const traced = logger.lines.filter((line) => line.fields.sql !== undefined);
    assert.deepEqual(
      traced.map((line) => [line.level, line.fields.request, line.fields.sql]),
      [
        ["info", "exec", "INSERT INTO t VALUES (1)"],
        ["info", "query", "SELECT n FROM t"],
        ["info", "prepared", "INSERT INTO t VALUES (?)"],
        ["info", "exec", "INSERT INTO t VALUES (?)"],
        ["info", "exec", "boom"],
      ],
    );
    // go-dqlite's message: seconds with three decimals, then the quoted SQL.
    assert.match(traced[0].message, /^\d+\.\d{3}s request exec: "INSERT INTO t VALUES \(1\)"$/);
    for (const line of traced) assert.equal(typeof line.fields.durationMs, "number");
    assert.equal(traced[4].fields.error, 'near "boom": syntax error');
    assert.equal(traced[0].fields.error, undefined);
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("without tracing no SQL is logged; a bad level is refused", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(1, { sql: sqlAnswers() });
  const logger = memoryLogger();
  const db = await connect({ cluster: cluster.addresses, database: "quiet", logger });
  try {
    await db.exec("INSERT INTO t VALUES (1)");
    assert.deepEqual(
      logger.lines.filter((line) => line.fields.sql !== undefined),
      [],
    );
    await assert.rejects(
      connect({
        cluster: cluster.addresses,
        database: "x",
        tracing: "loud" as LogLevel,
      }),
      RangeError,
    );
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("the leader search logs dead ends at warn and the redirect and the leader at debug", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(2, { leader: 1 });
  const unreachable = await FakeNode.start();
  const gone = unreachable.address;
  await unreachable.close();
  const logger = memoryLogger();
  // The first node redirects to the second, which is not in the list.
  const db = await connect({
    cluster: [gone, cluster.nodes[0].address],
    database: "logged",
    logger,
  });
  try {
    const warn = logger.lines.filter((line) => line.level === "warn");
    assert.ok(
      warn.some(
        (line) => line.fields.address === gone && /leader search: .*dial/.test(line.message),
      ),
      JSON.stringify(warn),
    );
    const debug = logger.lines.filter((line) => line.level === "debug");
    assert.ok(
      debug.some(
        (line) =>
          line.fields.address === cluster.nodes[0].address &&
          line.fields.leader === cluster.nodes[1].address,
      ),
    );
    assert.ok(
      debug.some(
        (line) =>
          line.message === "connected to the leader" &&
          line.fields.address === cluster.nodes[1].address,
      ),
    );
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("connectionTimeoutMs bounds opening a connection within a longer operation limit", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(1, { leader: undefined });
  try {
    const started = performance.now();
    await assert.rejects(
      connect({
        cluster: cluster.addresses,
        database: "x",
        timeoutMs: 15_000,
        connectionTimeoutMs: 300,
      }),
      NoLeaderError,
    );
    // The operation's own limit (15 s) was not what ended the search.
    assert.ok(performance.now() - started < 10_000);
    await assert.rejects(
      connect({ cluster: cluster.addresses, database: "x", connectionTimeoutMs: 0 }),
      RangeError,
    );
  } finally {
    await cluster.close();
  }
});

test("the dial function opens every connection; a dial that hangs is cut at dialTimeoutMs", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(1);
  const dialled: string[] = [];
  const hanging = "10.255.255.1:9";
  const dial = (address: string, signal: AbortSignal): Promise<Duplex> => {
    dialled.push(address);
    if (address === hanging) {
      // Never connects: only the signal ends it.
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    }
    return dialTcp(address, signal);
  };
  const db = await connect({
    cluster: [hanging, cluster.nodes[0].address],
    database: "dialled",
    dial,
    dialTimeoutMs: 100,
    concurrentLeaderConns: 1,
  });
  try {
    assert.deepEqual(dialled, [hanging, cluster.nodes[0].address]);
  } finally {
    await db.close();
    await cluster.close();
  }
});

test("retryLimit ends the search after that many more rounds", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(1, { leader: undefined });
  try {
    await assert.rejects(
      connect({
        cluster: cluster.addresses,
        database: "x",
        retryLimit: 2,
        backoffFactorMs: 1,
        backoffCapMs: 5,
      }),
      NoLeaderError,
    );
    assert.equal(cluster.nodes[0].requestsOf("leader").length, 3);
  } finally {
    await cluster.close();
  }
});
