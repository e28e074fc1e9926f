// Raft throughput against this disk's own limit, measured in the same run:
//   reference: durable 4 KiB writes/s of a bare loop (O_DSYNC writes into a zero-filled file,
//              what a segment append costs at best), and write + fdatasync for comparison.
//   storage:   DiskStorage appends of 4 KiB entries with 1 and 64 appends in flight: appends/s,
//              ratio to the reference, and syncs per entry (group commit shows as < 1).
//   cluster:   3 RaftNodes in this process over loopback TCP, DiskStorage with real syncs,
//              4144-byte commands (a one-page dqlite FRAMES command) from 1 and 64 concurrent
//              proposers: entries committed and applied per second, syncs per entry.
// Standalone: node --import tsx bench/raft.ts [--short]
import { constants } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Entry, EntryType, RaftRole } from "../src/raft/core/types.js";
import { listenForPeers } from "../src/raft/io/connect-listener.js";
import { DiskStorage } from "../src/raft/io/disk-storage.js";
import { type Fsm, RaftNode } from "../src/raft/raft-node.js";

const ENTRY_BYTES = 4096;

function perSecond(count: number, ms: number): number {
  return (count / ms) * 1000;
}

function format(rate: number): string {
  return `${Math.round(rate).toLocaleString("en-US")}/s`;
}

/** Durable 4 KiB writes per second of a bare loop: the disk's own limit for our pattern. */
async function diskSyncRate(
  dir: string,
  durationMs: number,
  mode: "dsync" | "fdatasync",
): Promise<number> {
  const path = join(dir, `reference-${mode}`);
  const sizeBytes = 16 * 1024 * 1024;
  const filler = await open(path, "w");
  const zeros = new Uint8Array(1024 * 1024);
  for (let offset = 0; offset < sizeBytes; offset += zeros.length)
    await filler.write(zeros, 0, zeros.length, offset);
  await filler.sync();
  await filler.close();
  const flags = constants.O_RDWR | (mode === "dsync" ? constants.O_DSYNC : 0);
  const handle = await open(path, flags);
  const block = new Uint8Array(ENTRY_BYTES).fill(7);
  const started = performance.now();
  let writes = 0;
  while (performance.now() - started < durationMs) {
    await handle.write(block, 0, block.length, (writes * ENTRY_BYTES) % sizeBytes);
    if (mode === "fdatasync") await handle.datasync();
    writes++;
  }
  const rate = perSecond(writes, performance.now() - started);
  await handle.close();
  await rm(path);
  return rate;
}

async function storageRate(dir: string, durationMs: number, inFlight: number) {
  const path = join(dir, `storage-${inFlight}`);
  const storage = new DiskStorage(path);
  await storage.load();
  const data = new Uint8Array(ENTRY_BYTES).fill(3);
  let next = 1;
  const makeEntry = (): Entry => ({ term: 1, index: next++, type: EntryType.Command, data });
  // Warm up: the first segment is prepared in the background.
  await storage.append([makeEntry()]);
  const before = { ...storage.stats };
  const started = performance.now();
  let done = 0;
  const worker = async () => {
    while (performance.now() - started < durationMs) {
      await storage.append([makeEntry()]);
      done++;
    }
  };
  // Appends must be issued in index order: each worker takes the next index synchronously.
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - started;
  const syncs = storage.stats.syncs - before.syncs;
  const writes = storage.stats.appendWrites - before.appendWrites;
  await storage.close();
  await rm(path, { recursive: true, force: true });
  return {
    rate: perSecond(done, elapsedMs),
    syncsPerEntry: syncs / done,
    entriesPerWrite: done / writes,
  };
}

const COMMAND_BYTES = 4144;

class CountingFsm implements Fsm {
  applied = 0;
  apply(): void {
    this.applied++;
  }
  snapshot(): Uint8Array {
    return new Uint8Array(8);
  }
  restore(): void {}
}

interface BenchCluster {
  nodes: RaftNode[];
  storages: DiskStorage[];
  servers: Server[];
}

async function startCluster(dir: string): Promise<BenchCluster> {
  const servers: Server[] = [];
  const nodes: (RaftNode | undefined)[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < 3; i++) {
    const server = await listenForPeers("127.0.0.1:0", {
      accept: (socket, ...rest) => {
        const node = nodes[i];
        if (node === undefined) socket.destroy();
        else node.accept(socket, ...rest);
      },
    });
    servers.push(server);
    addresses.push(`127.0.0.1:${(server.address() as { port: number }).port}`);
  }
  const configuration = addresses.map((address, i) => ({
    id: BigInt(i + 1),
    address,
    role: RaftRole.Voter,
  }));
  const storages = addresses.map((_, i) => new DiskStorage(join(dir, `node${i + 1}`)));
  for (let i = 0; i < 3; i++) {
    nodes[i] = new RaftNode({
      id: BigInt(i + 1),
      address: addresses[i],
      storage: storages[i],
      fsm: new CountingFsm(),
      bootstrap: configuration,
      heartbeatTimeoutMs: 100,
      electionTimeoutMs: 1000,
    });
  }
  await Promise.all(nodes.map((node) => node!.start()));
  return { nodes: nodes as RaftNode[], storages, servers };
}

async function stopCluster(cluster: BenchCluster): Promise<void> {
  for (const node of cluster.nodes) await node.close();
  for (const server of cluster.servers) server.close();
}

async function clusterRate(cluster: BenchCluster, durationMs: number, proposers: number) {
  let leader: RaftNode | undefined;
  const deadline = performance.now() + 20_000;
  while (leader === undefined) {
    leader = cluster.nodes.find((node) => node.state === "leader");
    if (performance.now() > deadline) throw new Error("no leader");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await leader.barrier();
  const syncsBefore = cluster.storages.map((s) => s.stats.syncs);
  const data = new Uint8Array(COMMAND_BYTES).fill(5);
  const started = performance.now();
  let done = 0;
  const proposer = async () => {
    while (performance.now() - started < durationMs) {
      await leader.apply(data);
      done++;
    }
  };
  await Promise.all(Array.from({ length: proposers }, proposer));
  const elapsedMs = performance.now() - started;
  const syncs = cluster.storages.map((s, i) => s.stats.syncs - syncsBefore[i]);
  const leaderIndex = cluster.nodes.indexOf(leader);
  return {
    rate: perSecond(done, elapsedMs),
    leaderSyncsPerEntry: syncs[leaderIndex] / done,
    clusterSyncsPerEntry: syncs.reduce((a, b) => a + b, 0) / done,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(options: { short: boolean }): Promise<void> {
  // The disk is shared and noisy: alternate reference and measured runs in short rounds and
  // report medians, so both see the same conditions.
  const rounds = options.short ? 3 : 7;
  const durationMs = options.short ? 500 : 1000;
  const dir = await mkdtemp(join(tmpdir(), "bench-raft-"));
  try {
    const reference: number[] = [];
    const fdatasync: number[] = [];
    const results = new Map<
      number,
      { rate: number[]; ratio: number[]; syncs: number[]; batch: number[] }
    >();
    for (let round = 0; round < rounds; round++) {
      const dsync = await diskSyncRate(dir, durationMs, "dsync");
      reference.push(dsync);
      fdatasync.push(await diskSyncRate(dir, durationMs, "fdatasync"));
      for (const inFlight of [1, 64]) {
        const result = await storageRate(dir, durationMs, inFlight);
        const entry = results.get(inFlight) ?? { rate: [], ratio: [], syncs: [], batch: [] };
        entry.rate.push(result.rate);
        entry.ratio.push(result.rate / dsync);
        entry.syncs.push(result.syncsPerEntry);
        entry.batch.push(result.entriesPerWrite);
        results.set(inFlight, entry);
      }
    }
    console.log(
      `disk reference (median of ${rounds}): 4 KiB O_DSYNC writes ${format(median(reference))}, ` +
        `write+fdatasync ${format(median(fdatasync))}`,
    );
    for (const [inFlight, r] of results) {
      console.log(
        `storage append, ${String(inFlight).padStart(2)} in flight: ${format(median(r.rate))} entries, ` +
          `${median(r.ratio).toFixed(2)}x the disk's durable write rate, ` +
          `${median(r.syncs).toFixed(3)} syncs/entry, ${median(r.batch).toFixed(1)} entries/write`,
      );
    }
    const cluster = await startCluster(join(dir, "cluster"));
    try {
      for (const proposers of [1, 64]) {
        const before = await diskSyncRate(dir, durationMs, "dsync");
        const result = await clusterRate(cluster, durationMs * 2, proposers);
        const after = await diskSyncRate(dir, durationMs, "dsync");
        const disk = (before + after) / 2;
        console.log(
          `3-node cluster, ${String(proposers).padStart(2)} proposers: ${format(result.rate)} entries committed+applied, ` +
            `${(result.rate / disk).toFixed(2)}x the disk's durable write rate (${format(disk)} around this run), ` +
            `${result.leaderSyncsPerEntry.toFixed(3)} leader syncs/entry, ` +
            `${result.clusterSyncsPerEntry.toFixed(3)} syncs/entry on all nodes`,
        );
      }
    } finally {
      await stopCluster(cluster);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run({ short: process.argv.includes("--short") });
}
