// The client against Debian's real dqlite (libdqlite 1.11.1 under dqlite-demo 1.11.5): a 3-node
// cluster, every SQL API call, all value types, the admin requests, a leadership transfer in the
// middle of use, and the YAML node store that go-dqlite keeps next to each node.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Client } from "../../src/client/client.js";
import { connect, type Database } from "../../src/client/database.js";
import { SqliteError } from "../../src/client/errors.js";
import { roleName } from "../../src/client/node-store.js";
import { YamlNodeStore } from "../../src/client/yaml-node-store.js";
import { Role } from "../../src/wire/index.js";
import { type DemoCluster, shell, startDemoCluster } from "../harness/real-dqlite.js";

let cluster: DemoCluster;
let addresses: string[];
let db: Database;

before(async () => {
  cluster = await startDemoCluster(3);
  addresses = cluster.nodes.map((node) => node.db);
  db = await connect({ cluster: addresses, database: "client-compat" });
});

after(async () => {
  await db?.close();
  await cluster?.stop();
});

test("exec, query and get on a real cluster", async () => {
  await db.exec("CREATE TABLE basics (id INTEGER PRIMARY KEY, name TEXT)");
  const first = await db.exec("INSERT INTO basics (name) VALUES (?)", ["one"]);
  assert.deepEqual(first, { changes: 1, lastInsertRowid: 1 });
  // Multi-statement text through ExecSQL: the result is the last statement's.
  const many = await db.exec(
    "INSERT INTO basics (name) VALUES ('two'); INSERT INTO basics (name) VALUES ('three')",
  );
  assert.deepEqual(many, { changes: 1, lastInsertRowid: 3 });
  const result = await db.query("SELECT id, name FROM basics ORDER BY id");
  assert.deepEqual(result.columns, ["id", "name"]);
  assert.deepEqual(result.rows, [
    { id: 1, name: "one" },
    { id: 2, name: "two" },
    { id: 3, name: "three" },
  ]);
  assert.deepEqual(await db.get("SELECT count(*) AS n FROM basics"), { n: 3 });
  assert.equal(await db.get("SELECT * FROM basics WHERE id = 99"), undefined);
  assert.deepEqual(await db.get("SELECT name FROM basics WHERE id = :id", { id: 2 }), {
    name: "two",
  });
  const arrays = await db.query(
    "SELECT id, name FROM basics WHERE id < $max",
    { max: 3 },
    {
      rowMode: "array",
    },
  );
  assert.deepEqual(arrays.rows, [
    [1, "one"],
    [2, "two"],
  ]);
});

test("iterate streams a 10,000-row result and an early break interrupts it", async () => {
  await db.exec("CREATE TABLE big (n INTEGER, s TEXT)");
  const insert = db.prepare("INSERT INTO big VALUES (?, ?)");
  await db.transaction(async (tx) => {
    const statement = tx.prepare("INSERT INTO big VALUES (?, ?)");
    for (let n = 0; n < 10_000; n++) await statement.exec([n, `value number ${n}`]);
  });
  await insert.close();
  let count = 0;
  let sum = 0;
  for await (const row of db.iterate<{ n: number; s: string }>("SELECT n, s FROM big ORDER BY n")) {
    assert.equal(row.s, `value number ${row.n}`);
    count++;
    sum += row.n;
  }
  assert.equal(count, 10_000);
  assert.equal(sum, (9_999 * 10_000) / 2);
  // Breaking early interrupts; the same handle (one connection) keeps working afterwards.
  const single = await connect({
    cluster: addresses,
    database: "client-compat",
    maxConnections: 1,
  });
  try {
    let seen = 0;
    for await (const _row of single.iterate("SELECT n FROM big")) {
      if (++seen === 150) break;
    }
    assert.equal(seen, 150);
    assert.deepEqual(await single.get("SELECT count(*) AS n FROM big"), { n: 10_000 });
    assert.deepEqual(await single.get("SELECT n FROM big ORDER BY n DESC"), { n: 9_999 });
  } finally {
    await single.close();
  }
});

test("transactions commit on success and roll back on throw", async () => {
  await db.exec("CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER)");
  await db.exec("INSERT INTO accounts VALUES ('a', 100), ('b', 0)");
  const moved = await db.transaction(async (tx) => {
    await tx.exec("UPDATE accounts SET balance = balance - 30 WHERE name = 'a'");
    await tx.exec("UPDATE accounts SET balance = balance + 30 WHERE name = 'b'");
    return (await tx.get<{ balance: number }>("SELECT balance FROM accounts WHERE name = 'b'"))
      ?.balance;
  });
  assert.equal(moved, 30);
  const failure = new Error("abort transfer");
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.exec("UPDATE accounts SET balance = 0");
      throw failure;
    }),
    (error) => error === failure,
  );
  const rows = await db.query("SELECT name, balance FROM accounts ORDER BY name");
  assert.deepEqual(rows.rows, [
    { name: "a", balance: 70 },
    { name: "b", balance: 30 },
  ]);
  // An SQL error inside is the caller's to handle; the transaction goes on.
  await db.transaction(async (tx) => {
    const error = await tx.exec("INSERT INTO accounts VALUES ('a', 1)").catch((e) => e);
    assert.ok(error instanceof SqliteError);
    assert.equal(error.code, 1555, "SQLITE_CONSTRAINT_PRIMARYKEY");
    await tx.exec("INSERT INTO accounts VALUES ('c', 5)");
  });
  assert.deepEqual(await db.get("SELECT balance FROM accounts WHERE name = 'c'"), { balance: 5 });
});

test("prepared statements are reused with new parameters", async () => {
  await db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)");
  const put = db.prepare("INSERT OR REPLACE INTO kv VALUES (:k, :v)");
  const read = db.prepare("SELECT v FROM kv WHERE k = ?");
  for (let i = 0; i < 20; i++) await put.exec({ k: `key${i % 5}`, v: i });
  assert.deepEqual(await read.get(["key0"]), { v: 15 });
  assert.deepEqual(await read.get(["key4"]), { v: 19 });
  assert.equal(await read.get(["missing"]), undefined);
  assert.deepEqual((await read.query(["key1"])).rows, [{ v: 16 }]);
  const rows = [];
  for await (const row of read.iterate(["key2"])) rows.push(row);
  assert.deepEqual(rows, [{ v: 17 }]);
  await put.close();
  await read.close();
});

test("every value type comes back as the JavaScript value it stands for", async () => {
  await db.exec(`CREATE TABLE typed (
    i INTEGER, big INTEGER, f REAL, t TEXT, b BLOB, flag BOOLEAN, nflag BOOLEAN,
    dt DATETIME, d DATE, ts TIMESTAMP, unix DATETIME, none DATETIME, anything)`);
  const when = new Date("2024-01-02T03:04:05.678Z");
  await db.exec("INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
    -2,
    2n ** 62n + 1n,
    0.5,
    "héllo",
    Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
    true,
    null,
    when,
    "2024-02-29",
    "2024-01-02T03:04:05Z",
    1_700_000_000,
    null,
    null,
  ]);
  const row = await db.get("SELECT * FROM typed");
  assert.deepEqual(row, {
    i: -2,
    big: 2n ** 62n + 1n,
    f: 0.5,
    t: "héllo",
    b: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
    flag: true,
    // dqlite 1.11 sends a NULL in a BOOLEAN column as false.
    nflag: false,
    dt: when,
    d: new Date("2024-02-29T00:00:00Z"),
    ts: new Date("2024-01-02T03:04:05Z"),
    // An INTEGER in a DATETIME column comes as UNIXTIME.
    unix: new Date(1_700_000_000_000),
    // A NULL in a DATETIME column comes as an empty ISO8601 text.
    none: null,
    anything: null,
  });
  // The Date parameter went over the wire in go-dqlite's layout.
  assert.deepEqual(await db.get("SELECT dt FROM typed", [], { rowMode: "array" }), [when]);
  assert.deepEqual(await db.get("SELECT typeof(dt) AS type, dt || '' AS text FROM typed"), {
    type: "text",
    text: "2024-01-02 03:04:05.678+00:00",
  });
  const bigints = await connect({
    cluster: addresses,
    database: "client-compat",
    integers: "bigint",
  });
  try {
    assert.deepEqual(await bigints.get("SELECT i, f FROM typed"), { i: -2n, f: 0.5 });
  } finally {
    await bigints.close();
  }
});

test("concurrent writers on several connections all succeed (busy retries)", async () => {
  await db.exec("CREATE TABLE concurrent (n INTEGER)");
  // dqlite 1.11 refuses a second writer with SQLITE_BUSY instead of queueing it.
  await Promise.all(
    Array.from({ length: 60 }, (_, n) => db.exec("INSERT INTO concurrent VALUES (?)", [n])),
  );
  assert.deepEqual(await db.get("SELECT count(*) AS n, sum(n) AS total FROM concurrent"), {
    n: 60,
    total: (59 * 60) / 2,
  });
  await Promise.all(
    Array.from({ length: 8 }, (_, k) =>
      db.transaction(
        async (tx) => {
          await tx.exec("INSERT INTO concurrent VALUES (?)", [100 + k]);
          await tx.exec("INSERT INTO concurrent VALUES (?)", [200 + k]);
        },
        { mode: "immediate" },
      ),
    ),
  );
  assert.deepEqual(await db.get("SELECT count(*) AS n FROM concurrent"), { n: 76 });
});

test("SQL errors come back as SqliteError with the extended code", async () => {
  const syntax = await db.exec("SELEC 1").catch((e) => e);
  assert.ok(syntax instanceof SqliteError);
  assert.equal(syntax.code, 1);
  assert.equal(syntax.message, 'near "SELEC": syntax error');
  await db.exec("CREATE TABLE uniq (a UNIQUE)");
  await db.exec("INSERT INTO uniq VALUES (1)");
  const unique = await db.exec("INSERT INTO uniq VALUES (1)").catch((e) => e);
  assert.ok(unique instanceof SqliteError);
  assert.equal(unique.code, 2067);
  assert.equal(unique.codeName, "SQLITE_CONSTRAINT_UNIQUE");
});

test("admin calls: leader, cluster, describe, weight, dump", async () => {
  const leader = await Client.findLeader(addresses);
  try {
    const info = await leader.leader();
    assert.equal(info?.address, leader.address);
    const members = await leader.cluster();
    assert.deepEqual(members.map((m) => m.address).sort(), [...addresses].sort());
    assert.deepEqual(
      members.map((m) => roleName(m.role)),
      ["voter", "voter", "voter"],
    );
    const follower = await Client.connect(addresses.find((a) => a !== leader.address)!);
    try {
      assert.deepEqual(await follower.describe(), { failureDomain: 0n, weight: 0n });
      await follower.weight(7n);
      assert.deepEqual(await follower.describe(), { failureDomain: 0n, weight: 7n });
      await follower.weight(0n);
      // Any node answers Leader with the same leader.
      assert.deepEqual(await follower.leader(), info);
      const files = await follower.dump("client-compat");
      assert.deepEqual(
        files.map((f) => f.name),
        ["client-compat", "client-compat-wal"],
      );
      assert.equal(
        Buffer.from(files[0].data.subarray(0, 16)).toString("latin1"),
        "SQLite format 3\0",
      );
    } finally {
      follower.close();
    }
  } finally {
    leader.close();
  }
});

test("admin calls: add a spare, see it in the cluster, remove it", async () => {
  const leader = await Client.findLeader(addresses);
  try {
    // A spare neither votes nor replicates, so an address where nothing listens is fine.
    await leader.add({ id: 4242n, address: "127.0.0.1:1", role: "spare" });
    const spare = (await leader.cluster()).find((m) => m.id === 4242n);
    assert.deepEqual(spare, { id: 4242n, address: "127.0.0.1:1", role: Role.Spare });
    const duplicate = await leader
      .add({ id: 4242n, address: "127.0.0.1:2", role: "spare" })
      .catch((e) => e);
    assert.ok(duplicate instanceof SqliteError);
    assert.equal(duplicate.message, "server ID already in use");
    await leader.remove(4242n);
    assert.equal((await leader.cluster()).length, 3);
  } finally {
    leader.close();
  }
});

test("the YAML store a real node keeps is read, and go-dqlite 1.11 reads ours", async () => {
  const leader = await Client.findLeader(addresses);
  let members: Awaited<ReturnType<Client["cluster"]>>;
  try {
    members = await leader.cluster();
  } finally {
    leader.close();
  }
  const identity = (n: { id: bigint; address: string }) => `${n.id}@${n.address}`;
  const live = new Set(members.map(identity));
  // Each node's app rewrites its cluster.yaml now and then, so a file may lag behind: every entry
  // must be a real member, and together the files know every member.
  const known = new Set<string>();
  let lastStore: YamlNodeStore | undefined;
  for (const node of cluster.nodes) {
    const store = await YamlNodeStore.open(join(cluster.dir, node.db, "cluster.yaml"));
    const entries = await store.get();
    assert.ok(entries.length > 0, `${node.db} has a cluster.yaml`);
    for (const entry of entries) {
      assert.ok(live.has(identity(entry)), `${identity(entry)} is a member`);
      known.add(identity(entry));
    }
    lastStore = store;
  }
  assert.equal(known.size, 3);
  // A file written by go-dqlite is a store to find the leader with.
  const viaFile = await connect({ cluster: lastStore!, database: "client-compat" });
  try {
    assert.deepEqual(await viaFile.get("SELECT 1 AS one"), { one: 1 });
  } finally {
    await viaFile.close();
  }
  // Our file, given to Debian's dqlite shell (which loads it with go-dqlite 1.11's YAML store).
  const dir = await mkdtemp(join(tmpdir(), "client-yaml-"));
  try {
    const ours = await YamlNodeStore.open(join(dir, "servers.yaml"));
    await ours.set(members);
    assert.match(await readFile(ours.path, "utf8"), /^- ID: \d+\n {2}Address: /);
    const out = await shell(`file://${ours.path}`, "demo", ".cluster");
    assert.equal(out.code, 0, out.stderr);
    const listed = out.stdout.trim().split("\n").sort();
    const expected = members
      .map((n) => `${n.id.toString(16)}|${n.address}|${roleName(n.role)}`)
      .sort();
    assert.deepEqual(listed, expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("after a leadership transfer the same handle carries on with the new leader", async () => {
  await db.exec("CREATE TABLE moves (n INTEGER)");
  await db.exec("INSERT INTO moves VALUES (1)");
  const leader = await Client.findLeader(addresses);
  const target = (await leader.cluster()).find(
    (m) => m.address !== leader.address && m.role === Role.Voter,
  );
  assert.ok(target);
  try {
    await leader.transfer(target.id);
  } finally {
    leader.close();
  }
  const now = await Client.findLeader(addresses);
  try {
    assert.equal(now.address, target.address);
  } finally {
    now.close();
  }
  // The pooled connections still point at the old leader: the statements are refused with
  // not-leader and run again on the new one.
  await db.exec("INSERT INTO moves VALUES (2)");
  assert.deepEqual(await db.get("SELECT count(*) AS n FROM moves"), { n: 2 });
  await db.transaction(async (tx) => {
    await tx.exec("INSERT INTO moves VALUES (3)");
  });
  assert.deepEqual((await db.query("SELECT n FROM moves ORDER BY n")).rows, [
    { n: 1 },
    { n: 2 },
    { n: 3 },
  ]);
});
