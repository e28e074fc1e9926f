// The raft core alone (no disk, no sockets): how much CPU one replicated entry costs a 3-node
// cluster whose disks and network are instant, proposing one entry at a time and 64 at a time
// (group commit). The reference in the same run is the one-at-a-time cost; the ratio shows what
// batching saves. Also the simulator's speed (steps per second), which bounds how many seeds a
// test budget buys.
import { pathToFileURL } from "node:url";
import { bootstrapEntry } from "../src/raft/core/configuration-entries.js";
import { Raft } from "../src/raft/core/raft.js";
import { type Message, type NodeId, RaftRole } from "../src/raft/core/types.js";
import { runChaos } from "../src/raft/sim/chaos.js";

class InstantCluster {
  readonly cores = new Map<NodeId, Raft>();
  #queue: Message[] = [];
  applied = 0;

  constructor(size: number) {
    const configuration = Array.from({ length: size }, (_, i) => ({
      id: BigInt(i + 1),
      address: `n${i + 1}`,
      role: RaftRole.Voter,
    }));
    const bootstrap = bootstrapEntry(configuration);
    let now = 0;
    for (const server of configuration) {
      this.cores.set(
        server.id,
        new Raft({
          id: server.id,
          loaded: { hardState: { term: 1, votedFor: 0n }, entries: [bootstrap] },
          now: () => now,
          // Node 1's timer is the shortest: it fires first.
          random: (min) => min + Number(server.id) * 10,
          electionTimeoutMs: 1000,
          heartbeatTimeoutMs: 100,
        }),
      );
    }
    now = 1015;
    this.cores.get(1n)!.tick();
    this.settle();
    if (this.cores.get(1n)!.state !== "leader") throw new Error("no leader");
  }

  get leader(): Raft {
    return this.cores.get(1n)!;
  }

  /** Processes every Ready (persisting at once) and delivers messages until quiet. */
  settle(): void {
    for (let round = 0; round < 10_000; round++) {
      let work = false;
      for (const core of this.cores.values()) {
        while (core.hasReady()) {
          work = true;
          const ready = core.ready();
          const last = ready.entries[ready.entries.length - 1];
          if (ready.snapshot) core.persisted(ready.snapshot.meta.index, ready.snapshot.meta.term);
          if (last !== undefined) core.persisted(last.index, last.term);
          for (const m of ready.messages) this.#queue.push(m);
          this.applied += ready.committed.length;
        }
      }
      const batch = this.#queue;
      this.#queue = [];
      for (const m of batch) this.cores.get(m.to)?.step(m);
      if (!work && batch.length === 0) return;
    }
    throw new Error("never settled");
  }
}

function measure(batch: number, entries: number): number {
  const cluster = new InstantCluster(3);
  const data = new Uint8Array(4096);
  const started = performance.now();
  for (let done = 0; done < entries; done += batch) {
    for (let i = 0; i < batch; i++) cluster.leader.propose(data);
    cluster.settle();
  }
  const elapsedMs = performance.now() - started;
  const leader = cluster.leader;
  if (leader.commitIndex < entries) throw new Error("entries did not commit");
  return (elapsedMs * 1e6) / entries;
}

export async function run(options: { short: boolean }): Promise<void> {
  const entries = options.short ? 20_000 : 200_000;
  measure(1, 2000);
  measure(64, 20_000); // warm up
  const single = measure(1, entries / 4);
  const batched = measure(64, entries);
  console.log(
    `3 voters, 4 KiB entries, instant disk and network: ` +
      `1 per batch ${single.toFixed(0)} ns/entry (${(1e9 / single).toFixed(0)} entries/s), ` +
      `64 per batch ${batched.toFixed(0)} ns/entry (${(1e9 / batched).toFixed(0)} entries/s), ` +
      `batching ratio ${(single / batched).toFixed(1)}x`,
  );
  const seeds = options.short ? 50 : 300;
  let steps = 0;
  const started = performance.now();
  for (let seed = 1; seed <= seeds; seed++) steps += runChaos({ seed, trace: false }).steps;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `simulator: ${seeds} chaos seeds in ${seconds.toFixed(1)} s, ` +
      `${(steps / seconds).toFixed(0)} steps/s, ${((seconds * 1000) / seeds).toFixed(1)} ms/seed`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ short: process.argv.includes("--short") });
}
