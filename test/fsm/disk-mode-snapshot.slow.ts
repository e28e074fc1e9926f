// A 300 MB disk-mode database sent to a new node by InstallSnapshot: the leader streams it from
// its snapshot file, the new node receives it into a spool file and streams it into its
// database file; neither process holds it in memory. The new node's file ends up identical.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { Client, connect } from "../../src/client/index.js";
import { BOOTSTRAP_ID, generateId } from "../../src/server/node.js";
import { freePorts } from "../harness/ports.js";
import { startProcess, type TestProcess, waitFor } from "../harness/processes.js";
import { buildKvDatabase, writeSnapshotDataDir } from "./large-database.js";

const NODE = join(import.meta.dirname, "disk-mode-node.ts");
const SNAPSHOT_BYTES = 300 * 1024 * 1024;
const processes: TestProcess[] = [];
let base = "";
after(async () => {
  for (const child of processes) await child.stop();
  if (base !== "") await rm(base, { recursive: true, force: true });
});

/** Starts a disk-mode node process; tracks its peak RSS from the lines it prints. */
function startNode(id: bigint, address: string, dataDir: string) {
  const child = startProcess(
    `node-${address}`,
    process.execPath,
    ["--import", "tsx", NODE, String(id), address, dataDir],
    `${dataDir}.log`,
  );
  processes.push(child);
  const state = { ready: false, peakRssBytes: 0 };
  createInterface({ input: child.child.stdout! }).on("line", (line) => {
    if (line === "ready") state.ready = true;
    else if (line.startsWith("rss "))
      state.peakRssBytes = Math.max(state.peakRssBytes, Number(line.slice(4)));
  });
  return { child, state };
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

test("a 300 MB snapshot reaches a new disk-mode node without either holding it in memory", async (t) => {
  base = await mkdtemp(join(tmpdir(), "disk-mode-snapshot-"));
  const [leaderPort, joinerPort] = await freePorts(2);
  const leaderAddress = `127.0.0.1:${leaderPort}`;
  const joinerAddress = `127.0.0.1:${joinerPort}`;
  const databasePath = join(base, "source.db");
  const rows = buildKvDatabase(databasePath, SNAPSHOT_BYTES);
  const leaderDir = join(base, "leader");
  const sizeBytes = await writeSnapshotDataDir(leaderDir, databasePath, "big", {
    id: BOOTSTRAP_ID,
    address: leaderAddress,
  });
  await rm(databasePath);
  assert.ok(sizeBytes >= SNAPSHOT_BYTES);

  const leader = startNode(BOOTSTRAP_ID, leaderAddress, leaderDir);
  await waitFor("the leader", () => (leader.state.ready ? true : undefined), 120_000);
  const db = await connect({ cluster: [leaderAddress], database: "big", timeoutMs: 60_000 });
  await db.exec("INSERT INTO model VALUES ('after the snapshot', 'x')");

  const joinerDir = join(base, "joiner");
  const joinerId = generateId(joinerAddress);
  const joiner = startNode(joinerId, joinerAddress, joinerDir);
  await waitFor("the joiner", () => (joiner.state.ready ? true : undefined), 60_000);
  const admin = await Client.findLeader([leaderAddress], { timeoutMs: 30_000 });
  // A voter is caught up first: its log is empty, the leader's starts after its snapshot.
  await admin.add({ id: joinerId, address: joinerAddress, role: "voter" }, { timeoutMs: 300_000 });
  admin.close();
  await db.exec("INSERT INTO model VALUES ('after the join', 'y')");
  const { rows: counted } = await db.query("SELECT count(*) AS n FROM model");
  assert.equal(counted[0].n, rows + 2);
  await db.close();

  const leaderFile = join(leaderDir, "database", "big");
  const joinerFile = join(joinerDir, "database", "big");
  await waitFor(
    "the joiner's database file to equal the leader's",
    async () =>
      (await sha256(joinerFile).catch(() => "")) === (await sha256(leaderFile)) ? true : undefined,
    120_000,
  );
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  t.diagnostic(
    `${mb(sizeBytes)} MB snapshot; peak RSS: leader ${mb(leader.state.peakRssBytes)} MB, joiner ${mb(joiner.state.peakRssBytes)} MB`,
  );
  // Well below the snapshot's size: the bytes went through files, not memory.
  assert.ok(
    mb(joiner.state.peakRssBytes) < 250,
    `joiner's peak RSS ${mb(joiner.state.peakRssBytes)} MB`,
  );
  assert.ok(
    mb(leader.state.peakRssBytes) < 250,
    `leader's peak RSS ${mb(leader.state.peakRssBytes)} MB`,
  );
});
