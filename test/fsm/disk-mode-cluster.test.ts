// A three-node cluster in this process with one disk-mode node: it catches up by snapshot,
// follows, leads, restarts from its data directory, and its pages equal the memory-mode
// nodes' byte for byte (Dump).
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, connect, type Database } from "../../src/client/index.js";
import { BOOTSTRAP_ID, generateId, Node, type NodeOptions } from "../../src/server/node.js";

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function startNode(options: Partial<NodeOptions> & { id: bigint; dataDir: string }) {
  const node = new Node({
    address: "127.0.0.1:0",
    networkLatencyMs: 20,
    snapshotThreshold: 16,
    snapshotTrailing: 16,
    ...options,
  });
  await node.start();
  return node;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function dumpOf(address: string, name: string): Promise<Buffer> {
  const client = await Client.connect(address);
  try {
    const [main] = await client.dump(name);
    return Buffer.from(main.data);
  } finally {
    client.close();
  }
}

/** Waits until every node's dump of `name` equals the first's and returns it. */
async function sameEverywhere(nodes: Node[], name: string): Promise<Buffer> {
  return until(`equal dumps of ${name}`, async () => {
    const dumps = await Promise.all(nodes.map((n) => dumpOf(n.address, name).catch(() => null)));
    const [first] = dumps;
    if (first === null || first.length === 0) return undefined;
    return dumps.every((d) => d?.equals(first)) ? first : undefined;
  });
}

async function insertRows(db: Database, from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    await db.exec("INSERT INTO t (k, v) VALUES (?, randomblob(?))", [`k${i}`, 100 + (i % 7) * 300]);
  }
}

test("a disk-mode node in a cluster of memory-mode nodes holds the same pages", async () => {
  const base = await mkdtemp(join(tmpdir(), "disk-mode-cluster-"));
  directories.push(base);
  const nodes: Node[] = [];
  try {
    const first = await startNode({ id: BOOTSTRAP_ID, dataDir: join(base, "1") });
    nodes.push(first);
    await until("a leader", () => (first.state === "leader" ? true : undefined));
    const db = await connect({ cluster: [first.address], database: "app", timeoutMs: 20_000 });
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)");
    await insertRows(db, 0, 60);

    // The log behind the snapshot is gone: the disk-mode node catches up by InstallSnapshot.
    const diskDir = join(base, "2");
    const diskOptions = {
      id: generateId("disk"),
      dataDir: diskDir,
      diskMode: true,
      diskCacheSizeBytes: 64 * 4096,
    };
    let disk = await startNode(diskOptions);
    nodes.push(disk);
    const third = await startNode({ id: generateId("third"), dataDir: join(base, "3") });
    nodes.push(third);
    const admin = await Client.findLeader([first.address]);
    await admin.add({ id: disk.id, address: disk.address, role: "voter" });
    await admin.add({ id: third.id, address: third.address, role: "voter" });
    admin.close();
    await insertRows(db, 60, 40);
    await sameEverywhere(nodes, "app");
    assert.ok(existsSync(join(diskDir, "database", "app")), "the database is a file");

    // The disk-mode node leads; the others follow its frames.
    const toDisk = await Client.findLeader([first.address]);
    await toDisk.transfer(disk.id);
    toDisk.close();
    await until("the disk-mode node to lead", () => (disk.state === "leader" ? true : undefined));
    const viaDisk = await connect({
      cluster: nodes.map((n) => n.address),
      database: "app",
      timeoutMs: 20_000,
    });
    await insertRows(viaDisk, 100, 40);
    await viaDisk.exec("UPDATE t SET v = randomblob(50) WHERE id % 3 = 0");
    await viaDisk.exec("DELETE FROM t WHERE id % 5 = 0");
    await viaDisk.exec("VACUUM");
    const { rows } = await viaDisk.query("SELECT count(*) AS n FROM t");
    assert.equal(rows[0].n, 112);
    await viaDisk.close();
    await db.close();
    const image = await sameEverywhere(nodes, "app");
    assert.equal(image.readUInt32BE(28) * 4096, image.length, "page 1's size is the file's");

    // Restarted, the disk-mode node rebuilds its file from its snapshot and log.
    await disk.close();
    nodes.splice(nodes.indexOf(disk), 1);
    disk = await startNode({ ...diskOptions, address: disk.address });
    nodes.push(disk);
    assert.ok((await sameEverywhere(nodes, "app")).equals(image));
    assert.deepEqual(readdirSync(join(diskDir, "database")), ["app"]);
  } finally {
    for (const node of nodes) await node.close();
  }
});
