import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ReplicationError } from "../../src/server/replication.js";
import {
  encodeHeader,
  type Param,
  type Response,
  type RowsResponse,
  ValueType,
} from "../../src/wire/index.js";
import { type LocalServer, startLocalServer } from "./local-server.js";
import { RawClient } from "./raw-client.js";

let server: LocalServer;
before(async () => {
  server = await startLocalServer(300);
});
after(async () => {
  await server.close();
});

const int = (value: number): Param => ({ type: ValueType.Integer, value });

async function opened(database: string): Promise<RawClient> {
  const client = await RawClient.connect(server.address);
  assert.deepEqual(await client.request({ type: "open", name: database, flags: 0, vfs: "v" }), {
    type: "db",
    dbId: 0,
  });
  return client;
}

async function execSql(client: RawClient, sql: string, params: Param[] = []): Promise<Response> {
  return client.request({ type: "execSql", schema: 0, dbId: 0, sql, params });
}

/** Runs a query and collects every Rows message until DONE. */
async function querySql(client: RawClient, sql: string, params: Param[] = []) {
  client.send({ type: "querySql", schema: 0, dbId: 0, sql, params });
  const parts: RowsResponse[] = [];
  for (;;) {
    const response = await client.next();
    if (response.type !== "rows") return { failure: response, parts };
    parts.push(response);
    if (!response.more) return { failure: null, parts };
  }
}

function rowsOf(parts: RowsResponse[]): unknown[][] {
  const rows: unknown[][] = [];
  for (const part of parts) {
    const n = part.columns.length;
    for (let r = 0; r < part.rowCount; r++) rows.push(part.values.slice(r * n, r * n + n));
  }
  return rows;
}

test("leader, client and describe requests work on a bare connection", async () => {
  const client = await RawClient.connect(server.address);
  assert.deepEqual(await client.request({ type: "leader" }), {
    type: "node",
    id: 1n,
    address: server.address,
  });
  assert.deepEqual(await client.request({ type: "client", clientId: 0n }), {
    type: "welcome",
    heartbeatTimeoutMs: 15000,
  });
  assert.deepEqual(await client.request({ type: "weight", weight: 7n }), { type: "empty" });
  assert.deepEqual(await client.request({ type: "describe", format: 0 }), {
    type: "metadata",
    failureDomain: 0n,
    weight: 7n,
  });
  const bad = await client.request({ type: "describe", format: 1 });
  assert.deepEqual(bad, { type: "failure", code: 15, message: "bad format version" });
  client.close();
});

test("statements run, commit through replication, and return typed rows", async () => {
  const client = await opened("typed");
  const again = await client.request({ type: "open", name: "other", flags: 0, vfs: "" });
  assert.deepEqual(again, {
    type: "failure",
    code: 5,
    message: "a database for this connection is already open",
  });
  const created = await execSql(
    client,
    "CREATE TABLE t (i INTEGER, s TEXT, d DATETIME, b BOOLEAN, n); INSERT INTO t VALUES (1, 'a', 1700000000, 1, NULL); INSERT INTO t VALUES (2, 'b', '2024-01-02 03:04:05', NULL, 2.5)",
  );
  assert.deepEqual(created, { type: "result", lastInsertId: 2n, rowsAffected: 1 });
  const before = server.replication.index;
  const { failure, parts } = await querySql(client, "SELECT * FROM t ORDER BY i");
  assert.equal(failure, null);
  assert.equal(server.replication.index, before, "a read replicates nothing");
  assert.deepEqual(parts[0].columns, ["i", "s", "d", "b", "n"]);
  assert.deepEqual(
    [...parts[0].types],
    [
      ValueType.Integer,
      ValueType.Text,
      ValueType.UnixTime,
      ValueType.Boolean,
      ValueType.Null,
      ValueType.Integer,
      ValueType.Text,
      ValueType.Iso8601,
      ValueType.Boolean,
      ValueType.Float,
    ],
  );
  assert.deepEqual(rowsOf(parts), [
    [1, "a", 1700000000, true, null],
    [2, "b", "2024-01-02 03:04:05", false, 2.5],
  ]);
  client.close();
});

test("a large result is split into parts of about 4 KiB, each with rows", async () => {
  const client = await opened("large");
  await execSql(
    client,
    "CREATE TABLE big (n INTEGER, s TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000) INSERT INTO big SELECT x, printf('%020d', x) FROM c",
  );
  const { failure, parts } = await querySql(client, "SELECT n, s FROM big ORDER BY n");
  assert.equal(failure, null);
  assert.ok(parts.length > 10, `${parts.length} parts`);
  for (const part of parts.slice(0, -1)) assert.ok(part.more && part.rowCount > 0);
  const rows = rowsOf(parts);
  assert.equal(rows.length, 2000);
  assert.deepEqual(rows[1999], [2000, "00000000000000002000"]);
  client.close();
});

test("an Interrupt after the first part stops the query with Empty", async () => {
  const client = await opened("large");
  client.send({ type: "querySql", schema: 0, dbId: 0, sql: "SELECT * FROM big", params: [] });
  const first = await client.next();
  assert.equal(first.type, "rows");
  assert.ok(first.type === "rows" && first.more);
  client.send({ type: "interrupt", dbId: 0 });
  // Parts already on their way may arrive before the Empty; nothing may follow it.
  let response = await client.next();
  while (response.type === "rows") response = await client.next();
  assert.deepEqual(response, { type: "empty" });
  const { failure, parts } = await querySql(client, "SELECT count(*) FROM big");
  assert.equal(failure, null);
  assert.deepEqual(rowsOf(parts), [[2000]]);
  client.close();
});

test("prepared statements get the lowest free id and can be re-run", async () => {
  const client = await opened("prepared");
  await execSql(client, "CREATE TABLE p (a INTEGER)");
  const prepare = (sql: string) => client.request({ type: "prepare", schema: 0, dbId: 0, sql });
  assert.deepEqual(await prepare("INSERT INTO p VALUES (?)"), {
    type: "stmt",
    dbId: 0,
    stmtId: 0,
    paramCount: 1,
  });
  assert.deepEqual(await prepare("SELECT sum(a) FROM p"), {
    type: "stmt",
    dbId: 0,
    stmtId: 1,
    paramCount: 0,
  });
  for (const value of [1, 2, 3]) {
    const result = await client.request({
      type: "exec",
      schema: 0,
      dbId: 0,
      stmtId: 0,
      params: [int(value)],
    });
    assert.deepEqual(result, { type: "result", lastInsertId: BigInt(value), rowsAffected: 1 });
  }
  client.send({ type: "query", schema: 0, dbId: 0, stmtId: 1, params: [] });
  const rows = await client.next();
  assert.ok(rows.type === "rows");
  assert.deepEqual(rows.values, [6]);
  assert.deepEqual(await client.request({ type: "finalize", dbId: 0, stmtId: 0 }), {
    type: "empty",
  });
  assert.deepEqual(await prepare("SELECT 1"), { type: "stmt", dbId: 0, stmtId: 0, paramCount: 0 });
  const stale = await client.request({ type: "exec", schema: 0, dbId: 0, stmtId: 5, params: [] });
  assert.deepEqual(stale, {
    type: "failure",
    code: 12,
    message: "no statement with the given id",
  });
  const withTail = await client.request({
    type: "prepare",
    schema: 1,
    dbId: 0,
    sql: "SELECT 1; SELECT 2",
  });
  assert.deepEqual(withTail, { type: "stmt", dbId: 0, stmtId: 2, paramCount: 0, tailOffset: 9 });
  client.close();
});

test("errors come back as Failures with SQLite's codes and messages", async () => {
  const client = await opened("errors");
  assert.deepEqual(await execSql(client, "SELEC 1"), {
    type: "failure",
    code: 1,
    message: 'near "SELEC": syntax error',
  });
  await execSql(client, "CREATE TABLE u (a UNIQUE)");
  await execSql(client, "INSERT INTO u VALUES (1)");
  assert.deepEqual(await execSql(client, "INSERT INTO u VALUES (1)"), {
    type: "failure",
    code: 2067,
    message: "UNIQUE constraint failed: u.a",
  });
  assert.deepEqual((await querySql(client, "   ")).failure, {
    type: "failure",
    code: 0,
    message: "empty statement",
  });
  assert.deepEqual((await querySql(client, "SELECT 1; SELECT 2")).failure, {
    type: "failure",
    code: 1,
    message: "nonempty statement tail",
  });
  assert.deepEqual(await execSql(client, "SELECT 1"), {
    type: "failure",
    code: 1,
    message: "rows yielded when none expected for EXEC request",
  });
  assert.deepEqual(await execSql(client, " -- nothing\n "), {
    type: "result",
    lastInsertId: 0n,
    rowsAffected: 0,
  });
  client.close();
});

test("a write whose replication fails with leadership lost is not visible", async () => {
  const client = await opened("lost");
  await execSql(client, "CREATE TABLE l (a)");
  server.replication.failNext = new ReplicationError("leadership-lost", "leadership lost");
  assert.deepEqual(await execSql(client, "INSERT INTO l VALUES (1)"), {
    type: "failure",
    code: 10506,
    message: "leadership lost",
  });
  const { parts } = await querySql(client, "SELECT count(*) FROM l");
  assert.deepEqual(rowsOf(parts), [[0]]);
  assert.deepEqual(await execSql(client, "INSERT INTO l VALUES (2)"), {
    type: "result",
    lastInsertId: 1n,
    rowsAffected: 1,
  });
  client.close();
});

test("followers refuse SQL with not-leader and report no leader", async () => {
  const client = await opened("follower");
  server.replication.setLeader(false);
  try {
    assert.deepEqual(await execSql(client, "CREATE TABLE f (a)"), {
      type: "failure",
      code: 10250,
      message: "not leader",
    });
    assert.deepEqual(await client.request({ type: "leader" }), {
      type: "node",
      id: 0n,
      address: "",
    });
  } finally {
    server.replication.setLeader(true);
  }
  // The session was closed when leadership was lost: the client must open again.
  assert.deepEqual(await execSql(client, "CREATE TABLE f (a)"), {
    type: "failure",
    code: 12,
    message: "no database opened",
  });
  client.close();
});

test("a second writer waits for the first transaction, then gets its turn", async () => {
  const a = await opened("queue");
  const b = await opened("queue");
  await execSql(a, "CREATE TABLE q (a)");
  await execSql(a, "BEGIN");
  await execSql(a, "INSERT INTO q VALUES ('a')");
  b.send({ type: "execSql", schema: 0, dbId: 0, sql: "INSERT INTO q VALUES ('b')", params: [] });
  await new Promise((r) => setTimeout(r, 50));
  await execSql(a, "COMMIT");
  assert.deepEqual(await b.next(), { type: "result", lastInsertId: 2n, rowsAffected: 1 });
  const { parts } = await querySql(a, "SELECT a FROM q ORDER BY rowid");
  assert.deepEqual(rowsOf(parts), [["a"], ["b"]]);
  a.close();
  b.close();
});

test("a writer that waits longer than the busy timeout gets SQLITE_BUSY", async () => {
  const a = await opened("busy");
  const b = await opened("busy");
  await execSql(a, "CREATE TABLE q (a)");
  await execSql(a, "BEGIN");
  await execSql(a, "INSERT INTO q VALUES (1)");
  assert.deepEqual(await execSql(b, "INSERT INTO q VALUES (2)"), {
    type: "failure",
    code: 5,
    message: "database is locked",
  });
  a.close();
  // Closing a's connection rolled its transaction back and freed the lock.
  assert.deepEqual(await execSql(b, "INSERT INTO q VALUES (3)"), {
    type: "result",
    lastInsertId: 1n,
    rowsAffected: 1,
  });
  b.close();
});

test("unknown request types get a Failure; malformed bytes close the connection", async () => {
  const client = await RawClient.connect(server.address);
  client.socket.write(encodeHeader({ words: 1, type: 42, schema: 0, extra: 0 }));
  client.socket.write(new Uint8Array(8));
  assert.deepEqual(await client.next(), {
    type: "failure",
    code: 1005,
    message: "unrecognized request type",
  });
  // An Open whose text has no NUL inside the body.
  client.socket.write(encodeHeader({ words: 1, type: 3, schema: 0, extra: 0 }));
  client.socket.write(Buffer.from("abcdefgh"));
  assert.ok(await client.closedWithin(2000));

  const badVersion = await RawClient.connect(server.address, false);
  badVersion.socket.write(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]));
  assert.ok(await badVersion.closedWithin(2000));
});

test("dump returns the database file and an empty WAL", async () => {
  const client = await opened("dumped");
  await execSql(client, "CREATE TABLE d (a); INSERT INTO d VALUES (42)");
  const response = await client.request({ type: "dump", name: "dumped" });
  assert.ok(response.type === "files");
  assert.deepEqual(
    response.files.map((f) => f.name),
    ["dumped", "dumped-wal"],
  );
  assert.equal(response.files[0].data.length % 4096, 0);
  assert.equal(Buffer.from(response.files[0].data.subarray(0, 15)).toString(), "SQLite format 3");
  assert.equal(response.files[1].data.length, 0);
  const missing = await client.request({ type: "dump", name: "missing" });
  assert.deepEqual(missing, { type: "failure", code: 1002, message: "database does not exists" });
  client.close();
});

test("writers pipeline: each builds on the transactions still waiting for raft", async () => {
  const setup = await opened("pipelined");
  await execSql(setup, "CREATE TABLE p (n INTEGER)");
  const writers = await Promise.all([1, 2, 3, 4].map(() => opened("pipelined")));
  let release!: () => void;
  server.replication.gate = new Promise((resolve) => (release = resolve));
  server.replication.maxInFlight = 0;
  writers.forEach((client, i) => {
    client.send({
      type: "execSql",
      schema: 0,
      dbId: 0,
      sql: "INSERT INTO p VALUES ((SELECT count(*) FROM p) + ?)",
      params: [int(10 * (i + 1))],
    });
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(server.replication.maxInFlight, 4, "all four were proposed before any applied");
  // Readers see none of them until raft has them.
  const before = await querySql(setup, "SELECT count(*) FROM p");
  assert.deepEqual(rowsOf(before.parts), [[0]]);
  server.replication.gate = null;
  release();
  const results = await Promise.all(writers.map((client) => client.next()));
  assert.ok(results.every((r) => r.type === "result"));
  // Each insert saw the ones before it: the counts are 0, 1, 2, 3 in commit order.
  const { parts } = await querySql(setup, "SELECT n FROM p ORDER BY rowid");
  assert.deepEqual(rowsOf(parts), [[10], [21], [32], [43]]);
  for (const client of [setup, ...writers]) client.close();
});

test("a multi-statement exec waits for raft after each write; a later failure is reported and the earlier writes stay", async () => {
  const client = await opened("multi");
  await execSql(client, "CREATE TABLE m (n UNIQUE)");
  let release!: () => void;
  server.replication.gate = new Promise((resolve) => (release = resolve));
  server.replication.maxInFlight = 0;
  const proposedBefore = server.replication.index;
  client.send({
    type: "execSql",
    schema: 0,
    dbId: 0,
    sql: "INSERT INTO m VALUES (1); INSERT INTO m VALUES (2); INSERT INTO m VALUES (1)",
    params: [],
  });
  await new Promise((r) => setTimeout(r, 100));
  // The first write is proposed and held by raft; the second statement has not run.
  assert.equal(server.replication.inFlight, 1);
  assert.equal(server.replication.index, proposedBefore + 1);
  server.replication.gate = null;
  release();
  assert.deepEqual(await client.next(), {
    type: "failure",
    code: 2067,
    message: "UNIQUE constraint failed: m.n",
  });
  // Each write went through raft alone, one after the other; both stay committed.
  assert.equal(server.replication.maxInFlight, 1);
  assert.equal(server.replication.index, proposedBefore + 2);
  assert.deepEqual(rowsOf((await querySql(client, "SELECT n FROM m ORDER BY n")).parts), [
    [1],
    [2],
  ]);
  // A statement that fails to prepare stops the rest the same way.
  assert.deepEqual(await execSql(client, "INSERT INTO m VALUES (3); INSERT INTO nope VALUES (1)"), {
    type: "failure",
    code: 1,
    message: "no such table: nope",
  });
  assert.equal(server.replication.index, proposedBefore + 3);
  assert.deepEqual(rowsOf((await querySql(client, "SELECT n FROM m ORDER BY n")).parts), [
    [1],
    [2],
    [3],
  ]);
  client.close();
});

test("when a pipelined transaction fails, the ones built on it fail too and nothing shows", async () => {
  const setup = await opened("cascade");
  await execSql(setup, "CREATE TABLE c (n INTEGER)");
  const writers = await Promise.all([1, 2, 3].map(() => opened("cascade")));
  let release!: () => void;
  server.replication.gate = new Promise((resolve) => (release = resolve));
  server.replication.failNext = new ReplicationError("leadership-lost", "leadership lost");
  for (const [i, client] of writers.entries()) {
    client.send({
      type: "execSql",
      schema: 0,
      dbId: 0,
      sql: "INSERT INTO c VALUES (?)",
      params: [int(i)],
    });
    await new Promise((r) => setTimeout(r, 20));
  }
  server.replication.gate = null;
  release();
  for (const client of writers) {
    assert.deepEqual(await client.next(), {
      type: "failure",
      code: 10506,
      message: "leadership lost",
    });
  }
  const { parts } = await querySql(setup, "SELECT count(*) FROM c");
  assert.deepEqual(rowsOf(parts), [[0]]);
  assert.deepEqual(await execSql(writers[0], "INSERT INTO c VALUES (9)"), {
    type: "result",
    lastInsertId: 1n,
    rowsAffected: 1,
  });
  for (const client of [setup, ...writers]) client.close();
});

/** `answer` itself if it comes within 150 ms, else "nothing yet". */
function soon(answer: Promise<Response>): Promise<Response | string> {
  return Promise.race([
    answer,
    new Promise<string>((r) => setTimeout(() => r("nothing yet"), 150)),
  ]);
}

/**
 * `client` sets row 1 of `table` to `value`, a write that raft holds (and then commits or fails,
 * as `outcome` says) until `release` is called; `answer` is the client's reply.
 */
async function writeHeldByRaft(
  client: RawClient,
  table: string,
  value: number,
  outcome: "commits" | "fails",
): Promise<{ answer: Promise<Response>; release: () => void }> {
  let open!: () => void;
  server.replication.gate = new Promise((resolve) => (open = resolve));
  if (outcome === "fails") {
    server.replication.failNext = new ReplicationError("leadership-lost", "leadership lost");
  }
  client.send({
    type: "execSql",
    schema: 0,
    dbId: 0,
    sql: `UPDATE ${table} SET v = ? WHERE k = 1`,
    params: [int(value)],
  });
  await new Promise((r) => setTimeout(r, 50));
  const release = () => {
    server.replication.gate = null;
    open();
  };
  return { answer: client.next(), release };
}

test("a write that changes nothing but read a transaction still waiting for raft answers only once it commits, and fails with it", async () => {
  const setup = await opened("unchanged");
  await execSql(setup, "CREATE TABLE r (k INTEGER PRIMARY KEY, v INTEGER)");
  await execSql(setup, "INSERT INTO r VALUES (1, 2)");
  const [first, second] = await Promise.all([opened("unchanged"), opened("unchanged")]);
  for (const outcome of ["commits", "fails"] as const) {
    const value = outcome === "commits" ? 3 : 4;
    const { answer: answerA, release } = await writeHeldByRaft(first, "r", value, outcome);
    // A compare-and-set on top of it: the value is already there, so SQLite writes nothing.
    second.send({
      type: "execSql",
      schema: 0,
      dbId: 0,
      sql: "UPDATE r SET v = ? WHERE k = 1 AND v = ?",
      params: [int(value), int(value)],
    });
    const answerB = second.next();
    assert.equal(await soon(answerB), "nothing yet", "no answer while what it read is in flight");
    release();
    const [a, b] = [await answerA, await answerB];
    if (outcome === "commits") {
      assert.equal(a.type, "result");
      assert.equal(b.type === "result" && b.rowsAffected, 1);
    } else {
      assert.equal(a.type, "failure");
      assert.equal(b.type, "failure", "it read a write that never happened");
    }
  }
  assert.deepEqual(rowsOf((await querySql(setup, "SELECT v FROM r")).parts), [[3]]);
  for (const client of [setup, first, second]) client.close();
});

test("inside BEGIN IMMEDIATE a SELECT never answers rows of a transaction still waiting for raft", async () => {
  const setup = await opened("dirty");
  await execSql(setup, "CREATE TABLE d (k INTEGER PRIMARY KEY, v INTEGER)");
  await execSql(setup, "INSERT INTO d VALUES (1, 1)");
  const [first, second] = await Promise.all([opened("dirty"), opened("dirty")]);
  for (const outcome of ["commits", "fails"] as const) {
    const value = outcome === "commits" ? 2 : 3;
    const { answer: answerA, release } = await writeHeldByRaft(first, "d", value, outcome);
    // The second client's transaction builds on the first's (pipelining)...
    second.send({ type: "execSql", schema: 0, dbId: 0, sql: "BEGIN IMMEDIATE", params: [] });
    const begun = second.next();
    // ...but answers nothing that rests on it before raft has committed it.
    assert.equal(await soon(begun), "nothing yet", "no answer while what it sees is in flight");
    release();
    const [a, b] = [await answerA, await begun];
    if (outcome === "commits") {
      assert.equal(a.type, "result");
      assert.equal(b.type, "result");
      const rows = await querySql(second, "SELECT v FROM d");
      assert.deepEqual(rowsOf(rows.parts), [[2]]);
      await execSql(second, "COMMIT");
    } else {
      assert.equal(a.type, "failure");
      assert.equal(b.type, "failure", "its transaction rests on a write that never happened");
      // Whatever the client does next, it never reads the lost value.
      const rows = await querySql(second, "SELECT v FROM d");
      assert.notDeepEqual(rowsOf(rows.parts), [[3]]);
      await execSql(second, "ROLLBACK");
    }
  }
  assert.deepEqual(rowsOf((await querySql(setup, "SELECT v FROM d")).parts), [[2]]);
  for (const client of [setup, first, second]) client.close();
});
