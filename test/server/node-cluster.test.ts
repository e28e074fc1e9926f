import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Client, connect } from "../../src/client/index.js";
import { BOOTSTRAP_ID, generateId, Node, type NodeOptions } from "../../src/server/node.js";
import { waitFor } from "../harness/processes.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function startNode(
  id: bigint,
  dataDir: string,
  address = "127.0.0.1:0",
  settings: RaftSettings = {},
): Promise<Node> {
  const node = new Node({ id, address, dataDir, networkLatencyMs: 20, ...settings });
  await node.start();
  return node;
}

async function leaderOf(nodes: Node[]): Promise<Node> {
  return waitFor("a leader", () => nodes.find((n) => n.state === "leader"), 10_000);
}

test("three nodes replicate writes and survive the leader's death", async () => {
  const base = await mkdtemp(join(tmpdir(), "node-cluster-"));
  dirs.push(base);
  const first = await startNode(BOOTSTRAP_ID, join(base, "1"));
  await leaderOf([first]);
  const nodes = [first];
  for (const i of [2, 3]) {
    const node = await startNode(generateId(`node${i}`), join(base, String(i)));
    const admin = await Client.findLeader(nodes.map((n) => n.address));
    await admin.add({ id: node.id, address: node.address, role: "voter" });
    await admin.close();
    nodes.push(node);
  }
  const admin = await Client.findLeader(nodes.map((n) => n.address));
  const members = await admin.cluster();
  await admin.close();
  assert.deepEqual(
    members.map((m) => [m.address, m.role]),
    nodes.map((n) => [n.address, 0]),
  );

  const cluster = () => nodes.filter((n) => n.state !== undefined).map((n) => n.address);
  const db = await connect({ cluster: cluster(), database: "app", timeoutMs: 20_000 });
  await db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)");
  for (let i = 0; i < 50; i++) await db.exec("INSERT INTO kv VALUES (?, ?)", [`k${i}`, i]);

  const oldLeader = await leaderOf(nodes);
  await oldLeader.close();
  const survivors = nodes.filter((n) => n !== oldLeader);
  await leaderOf(survivors);
  const db2 = await connect({
    cluster: survivors.map((n) => n.address),
    database: "app",
    timeoutMs: 20_000,
  });
  const { rows } = await db2.query("SELECT count(*) AS n, sum(v) AS s FROM kv");
  assert.deepEqual(rows, [{ n: 50, s: 1225 }]);
  await db2.exec("INSERT INTO kv VALUES ('after', 1)");
  await db.close();
  await db2.close();
  for (const node of survivors) await node.close();
});

type RaftSettings = Pick<
  NodeOptions,
  "snapshotThreshold" | "snapshotTrailing" | "logDataInMemoryBytes"
>;

/**
 * Three nodes; one is stopped while 100 rows are written, then restarted and waited for until
 * it applied the leader's index; its database must be the leader's (their Dumps). `check` looks
 * at how it caught up.
 */
async function catchUpAfterLag(
  settings: RaftSettings,
  check: (leader: Node, restarted: Node) => void,
): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), "node-cluster-"));
  dirs.push(base);
  const nodes = [await startNode(BOOTSTRAP_ID, join(base, "1"), undefined, settings)];
  await leaderOf(nodes);
  for (const i of [2, 3]) {
    const node = await startNode(
      generateId(`node${i}`),
      join(base, String(i)),
      undefined,
      settings,
    );
    const admin = await Client.findLeader(nodes.map((n) => n.address));
    await admin.add({ id: node.id, address: node.address, role: "voter" });
    admin.close();
    nodes.push(node);
  }
  const db = await connect({
    cluster: nodes.map((n) => n.address),
    database: "app",
    timeoutMs: 20_000,
  });
  try {
    await db.exec("CREATE TABLE t (n INTEGER)");
    for (let i = 0; i < 10; i++) await db.exec("INSERT INTO t VALUES (?)", [i]);
    const leader = await leaderOf(nodes);
    const lagging = nodes.find((n) => n !== leader)!;
    const [id, address] = [lagging.id, lagging.address];
    await lagging.close();
    for (let i = 10; i < 110; i++) await db.exec("INSERT INTO t VALUES (?)", [i]);
    const restarted = await startNode(
      id,
      join(base, String(nodes.indexOf(lagging) + 1)),
      address,
      settings,
    );
    nodes[nodes.indexOf(lagging)] = restarted;
    assert.equal(restarted.raftStats.snapshotsInstalled, 0, "its own snapshot is not counted");
    await waitFor("the restarted node to apply the leader's index", () =>
      restarted.raftStats.appliedIndex >= leader.raftStats.appliedIndex ? true : undefined,
    );
    check(leader, restarted);
    // What it holds is the leader's data: its own Dump.
    const admin = await Client.connect(restarted.address);
    const [local] = await admin.dump("app");
    admin.close();
    const leaderAdmin = await Client.connect(leader.address);
    const [expected] = await leaderAdmin.dump("app");
    leaderAdmin.close();
    assert.ok(Buffer.from(local.data).equals(Buffer.from(expected.data)));
  } finally {
    await db.close();
    for (const node of nodes) await node.close();
  }
}

test("a follower restarted after the leader compacted past its log installs a snapshot and catches up", async () => {
  // 16 entries of trailing log behind a snapshot every 16: after 100 more the leader's log
  // starts well past the lagging node's last entry.
  await catchUpAfterLag({ snapshotThreshold: 16, snapshotTrailing: 16 }, (leader, restarted) => {
    assert.ok(restarted.raftStats.snapshotsInstalled >= 1, "it caught up through InstallSnapshot");
    assert.equal(leader.raftStats.snapshotsInstalled, 0);
  });
});

test("a follower restarted behind the leader's in-memory log is sent entries read back from disk", async () => {
  // No snapshot, and no entry data kept in memory once applied.
  await catchUpAfterLag(
    { snapshotThreshold: 100_000, snapshotTrailing: 100_000, logDataInMemoryBytes: 0 },
    (leader, restarted) => {
      assert.equal(restarted.raftStats.snapshotsInstalled, 0, "no snapshot was needed");
      assert.ok(leader.raftStats.entriesReadBack > 0, "the leader read entries back");
    },
  );
});
