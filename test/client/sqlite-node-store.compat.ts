// The SQLite node store and real go-dqlite (Debian's `dqlite` shell, go-dqlite 1.11.5 over
// go-sqlite3 and Debian's SQLite 3.40): the shell finds the leader through a store file we wrote,
// and a table go-dqlite created in an empty file is one we read and write.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { SqliteNodeStore } from "../../src/client/index.js";
import { BOOTSTRAP_ID, Node } from "../../src/server/index.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/processes.js";
import { requireRealDqlite } from "../harness/real-dqlite.js";

const run = promisify(execFile);
let work: string;
let node: Node;

before(async () => {
  requireRealDqlite();
  work = await mkdtemp(join(tmpdir(), "sqlite-store-compat-"));
  node = new Node({
    id: BOOTSTRAP_ID,
    address: `127.0.0.1:${await freePort()}`,
    dataDir: join(work, "node"),
    networkLatencyMs: 20,
  });
  await node.start();
  await waitFor("the node to lead", () => (node.state === "leader" ? true : undefined));
});

after(async () => {
  await node?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Debian's shell with the store file as its servers; an empty store would search forever. */
async function debianShell(store: string, command: string): Promise<string> {
  const { stdout } = await run("/usr/bin/dqlite", ["-s", `file://${store}`, "compat", command], {
    timeout: 20_000,
    killSignal: "SIGKILL",
  });
  return stdout;
}

test("Debian's dqlite shell finds the leader through a SQLite store we wrote", async () => {
  const path = join(work, "ours.db");
  const store = await SqliteNodeStore.open(path);
  await store.set([
    { id: 5n, address: "127.0.0.1:1", role: 2 },
    { id: BOOTSTRAP_ID, address: node.address, role: 0 },
  ]);
  assert.equal(await debianShell(path, ".leader"), `${node.address}\n`);
  assert.equal(
    await debianShell(path, ".cluster"),
    `${BOOTSTRAP_ID.toString(16)}|${node.address}|voter\n`,
  );
});

test("a table go-dqlite created in an empty file is read and written by our store", async () => {
  const path = join(work, "theirs.db");
  await writeFile(path, "");
  // go-dqlite's DefaultNodeStore creates the table on open; the store being empty, the shell
  // then looks for a leader until it is killed.
  await run("/usr/bin/dqlite", ["-s", `file://${path}`, "compat", ".leader"], {
    timeout: 3000,
    killSignal: "SIGKILL",
  }).catch(() => undefined);
  const store = await SqliteNodeStore.open(path);
  assert.deepEqual(await store.get(), []);
  await store.set([{ id: BOOTSTRAP_ID, address: node.address, role: 0 }]);
  assert.equal(await debianShell(path, ".leader"), `${node.address}\n`);
  const db = new Database(path, { readonly: true });
  try {
    const sql = db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'servers'").pluck().get();
    assert.equal(sql, "CREATE TABLE servers (address TEXT, UNIQUE(address))");
  } finally {
    db.close();
  }
});
