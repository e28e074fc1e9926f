// Against Debian's real dqlite (libdqlite 1.11.1 + libraft 0.15.0, via go-dqlite's dqlite-demo):
// 1. a data directory written by our DiskStorage is loaded and served by a real node, and ours
//    loads what the real node left behind;
// 2. a real node answers raft messages our transport sends, over its own CONNECT to us.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type Entry, EntryType, type Message, RaftRole } from "../../../src/raft/core/types.js";
import { listenForPeers } from "../../../src/raft/io/connect-listener.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import { RaftTransport } from "../../../src/raft/io/raft-transport.js";
import { freePorts } from "../../harness/ports.js";
import { startProcess, type TestProcess, waitFor } from "../../harness/processes.js";
import { requireRealDqlite } from "../../harness/real-dqlite.js";

const BOOTSTRAP_ID = 0x2dc171858c3155ben;
const FIXTURE = new URL("../../fixtures/raft-datadir/leader/", import.meta.url).pathname;

async function startDemo(dir: string, api: string, db: string): Promise<TestProcess> {
  const demo = startProcess(
    "dqlite-demo",
    "/usr/bin/dqlite-demo",
    ["--api", api, "--db", db, "--dir", dir],
    join(dir, "demo.log"),
  );
  await waitFor(`${api} to answer`, async () => {
    if (!demo.alive())
      throw new Error(`dqlite-demo exited: ${readFileSync(join(dir, "demo.log"), "utf8")}`);
    const response = await fetch(`http://${api}/`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return true;
  });
  return demo;
}

async function get(api: string, key: string): Promise<string> {
  const response = await fetch(`http://${api}/${key}`, { signal: AbortSignal.timeout(5000) });
  return (await response.text()).trim();
}

test("real dqlite serves a data directory written by us (segments, metadata, LZ4 snapshot)", async () => {
  requireRealDqlite();
  const root = await mkdtemp(join(tmpdir(), "raft-io-compat-"));
  const [apiPort, dbPort] = await freePorts(2);
  const api = `127.0.0.1:${apiPort}`;
  const db = `127.0.0.1:${dbPort}`;
  const dataDir = join(root, db);
  let demo: TestProcess | undefined;
  try {
    // The real node's log, with its commands re-indexed after a one-node bootstrap entry
    // (the real CHANGE entries named peers that do not exist here).
    const source = new DiskStorage(join(root, "source"));
    cpSync(FIXTURE, join(root, "source"), { recursive: true });
    const loaded = await source.load();
    await source.close();
    const commands = loaded.entries.filter((e) => e.type === EntryType.Command);
    const snapshotAt =
      1 + loaded.entries.filter((e) => e.type === EntryType.Command && e.index <= 1024).length;
    const configuration = [{ id: BOOTSTRAP_ID, address: db, role: RaftRole.Voter }];
    mkdirSync(dataDir, { recursive: true });
    const ours = new DiskStorage(dataDir, {
      segmentSizeBytes: 1024 * 1024,
      compressSnapshots: true,
    });
    await ours.load();
    await ours.bootstrap(configuration);
    const entries: Entry[] = commands.map((e, i) => ({ ...e, index: i + 2, term: 1 }));
    for (let i = 0; i < entries.length; i += 37) await ours.append(entries.slice(i, i + 37));
    await ours.putSnapshot(
      {
        meta: { index: snapshotAt, term: 1, configuration, configurationIndex: 1 },
        data: loaded.snapshot!.data,
      },
      8192,
    );
    await ours.close();
    writeFileSync(join(dataDir, "info.yaml"), `Address: ${db}\nID: ${BOOTSTRAP_ID}\nRole: 0\n`);
    writeFileSync(
      join(dataDir, "cluster.yaml"),
      `- Address: ${db}\n  ID: ${BOOTSTRAP_ID}\n  Role: 0\n`,
    );
    assert.ok(readdirSync(dataDir).some((n) => n.startsWith("snapshot-")));

    demo = await startDemo(root, api, db);
    const value = await waitFor("key-1100 to be served", async () => {
      const text = await get(api, "key-1100");
      return text === "value-1100" ? text : undefined;
    });
    assert.equal(value, "value-1100");
    assert.equal(await get(api, "key-7"), "value-7");
    const put = await fetch(`http://${api}/written-by-real`, { method: "PUT", body: "yes" });
    assert.equal((await put.text()).trim(), "done");
    await demo.stop();
    demo = undefined;

    // And back: our storage loads what the real node did to the directory.
    const back = new DiskStorage(dataDir);
    const state = await back.load();
    await back.close();
    assert.equal(state.snapshot?.meta.index, snapshotAt);
    const last = state.entries.at(-1)!;
    assert.ok(last.index > entries.length + 1, `the real node appended (last ${last.index})`);
    const written = state.entries.filter((e) => Buffer.from(e.data).includes("written-by-real"));
    assert.equal(written.length, 1);
  } finally {
    await demo?.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test("a real node answers our RequestVote and AppendEntries through its own CONNECT to us", async () => {
  requireRealDqlite();
  const root = await mkdtemp(join(tmpdir(), "raft-io-compat-"));
  const [apiPort, dbPort] = await freePorts(2);
  const api = `127.0.0.1:${apiPort}`;
  const db = `127.0.0.1:${dbPort}`;
  const received: Message[] = [];
  let us: RaftTransport | null = null;
  const server = await listenForPeers("127.0.0.1:0", {
    accept: (socket, ...rest) => us?.accept(socket, ...rest),
  });
  const ourAddress = `127.0.0.1:${(server.address() as { port: number }).port}`;
  us = new RaftTransport({ id: 99n, address: ourAddress, onMessage: (m) => received.push(m) });
  let demo: TestProcess | undefined;
  try {
    demo = await startDemo(root, api, db);
    us.send(
      {
        type: "requestVote",
        from: 99n,
        to: BOOTSTRAP_ID,
        term: 50,
        candidateId: 99n,
        lastLogIndex: 1,
        lastLogTerm: 1,
        disruptLeader: false,
        preVote: true,
      },
      db,
    );
    const vote = await waitFor(
      "a RequestVoteResult",
      () => received.find((m) => m.type === "requestVoteResult"),
      10_000,
    );
    assert.equal(vote.from, BOOTSTRAP_ID);
    assert.equal(vote.type === "requestVoteResult" && vote.preVote, true);
    assert.equal(
      vote.type === "requestVoteResult" && vote.voteGranted,
      false,
      "a leader refuses (stickiness)",
    );
    us.send(
      {
        type: "appendEntries",
        from: 99n,
        to: BOOTSTRAP_ID,
        term: 0,
        prevLogIndex: 7,
        prevLogTerm: 1,
        leaderCommit: 0,
        entries: [],
      },
      db,
    );
    const result = await waitFor(
      "an AppendEntriesResult",
      () => received.find((m) => m.type === "appendEntriesResult"),
      10_000,
    );
    assert.equal(result.type === "appendEntriesResult" && result.rejected, 7);
    assert.ok(result.term >= 1);
    assert.equal(us.stats.inboundConnections, 1);
  } finally {
    us.close();
    server.close();
    await demo?.stop();
    await rm(root, { recursive: true, force: true });
  }
});
