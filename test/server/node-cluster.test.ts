import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Client, connect } from "../../src/client/index.js";
import { BOOTSTRAP_ID, generateId, Node } from "../../src/server/node.js";
import { waitFor } from "../harness/processes.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function startNode(id: bigint, dataDir: string, address = "127.0.0.1:0"): Promise<Node> {
  const node = new Node({ id, address, dataDir, networkLatencyMs: 20 });
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
