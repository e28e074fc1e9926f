// The App's cluster operations against go-dqlite's app package, measured in the same run.
// Reference: Debian's dqlite-demo (go-dqlite 1.11.5's app over libdqlite 1.11.1), one process per
// node; it hands over on SIGTERM, then closes. Ours: three Apps in this process. Both use the
// default timings (heartbeat 500 ms, election 3 s) and join through the first node's address.
//   form:     first node started → the leader reports three voters
//   handover: the leader is told to stop → it has stopped, while a client writes in a loop; the
//             longest gap between two acknowledged writes and the failed writes are reported
//             (the same client, ours, writes to both: the gap is mostly how long it takes to
//             find the new leader; a write refused on the way fails instead of waiting)
// Also the CPU cost of one roles decision (pure, no reference).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "../src/app/app.js";
import { adjustRoles, type ProbedNode } from "../src/app/roles.js";
import { Client } from "../src/client/client.js";
import { connect } from "../src/client/database.js";
import { Role } from "../src/wire/index.js";
import { freePorts } from "../test/harness/ports.js";
import { startProcess, type TestProcess, waitFor } from "../test/harness/processes.js";
import { haveRealDqlite } from "../test/harness/real-dqlite.js";

interface ClusterUnderTest {
  addresses: string[];
  /** Tells the leader to stop; resolves once it has stopped. */
  stopLeader(leaderAddress: string): Promise<void>;
  close(): Promise<void>;
}

interface Round {
  formMs: number;
  handoverMs: number;
  maxWriteGapMs: number;
  failedWrites: number;
  /** Failed writes by error name. */
  errors: Record<string, number>;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function votersOf(addresses: string[]): Promise<number> {
  const client = await Client.findLeader(addresses, { timeoutMs: 10_000 });
  try {
    return (await client.cluster()).filter((m) => m.role === Role.Voter).length;
  } finally {
    client.close();
  }
}

async function leaderOf(addresses: string[]): Promise<string> {
  const client = await Client.findLeader(addresses, { timeoutMs: 10_000 });
  try {
    return client.address;
  } finally {
    client.close();
  }
}

async function startOurs(): Promise<ClusterUnderTest> {
  const base = await mkdtemp(join(tmpdir(), "bench-app-"));
  const addresses = (await freePorts(3)).map((port) => `127.0.0.1:${port}`);
  const apps: App[] = [];
  for (let i = 0; i < 3; i++) {
    const app = await App.create(join(base, `node${i}`), {
      address: addresses[i],
      cluster: i === 0 ? [] : [addresses[0]],
      logger: silent,
    });
    await app.ready();
    apps.push(app);
  }
  return {
    addresses,
    async stopLeader(leader) {
      const app = apps.find((a) => a.address === leader);
      if (!app) throw new Error(`no App at ${leader}`);
      await app.close();
    },
    async close() {
      for (const app of apps) await app.close({ handover: false });
      await rm(base, { recursive: true, force: true });
    },
  };
}

async function startReference(): Promise<ClusterUnderTest> {
  const base = await mkdtemp(join(tmpdir(), "bench-demo-"));
  const ports = await freePorts(6);
  const addresses = [ports[1], ports[3], ports[5]].map((port) => `127.0.0.1:${port}`);
  const processes: TestProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const api = `127.0.0.1:${ports[2 * i]}`;
    const args = ["--api", api, "--db", addresses[i], "--dir", base];
    if (i > 0) args.push("--join", addresses[0]);
    const proc = startProcess(`demo${i}`, "/usr/bin/dqlite-demo", args, join(base, `${i}.log`));
    processes.push(proc);
    // The API answers once the demo's app is ready and its database open.
    await waitFor(
      `${api} to answer`,
      async () => {
        if (!proc.alive()) throw new Error(`dqlite-demo ${i} exited; see ${proc.logPath}`);
        await (await fetch(`http://${api}/`, { signal: AbortSignal.timeout(2000) })).arrayBuffer();
        return true;
      },
      60_000,
      10,
    );
  }
  return {
    addresses,
    async stopLeader(leader) {
      const proc = processes[addresses.indexOf(leader)];
      // SIGTERM makes dqlite-demo hand over, then close.
      await proc.stop(70_000);
    },
    async close() {
      for (const proc of [...processes].reverse()) await proc.stop(5000);
      await rm(base, { recursive: true, force: true });
    },
  };
}

async function round(start: () => Promise<ClusterUnderTest>): Promise<Round> {
  const started = performance.now();
  const cluster = await start();
  try {
    await waitFor(
      "three voters",
      async () => ((await votersOf(cluster.addresses)) === 3 ? true : undefined),
      60_000,
      10,
    );
    const formMs = performance.now() - started;

    const db = await connect({ cluster: cluster.addresses, database: "bench", timeoutMs: 30_000 });
    await db.exec("CREATE TABLE IF NOT EXISTS w (n INTEGER PRIMARY KEY)");
    let stop = false;
    let failedWrites = 0;
    const errors: Record<string, number> = {};
    let lastAck = performance.now();
    let maxWriteGapMs = 0;
    const writer = (async () => {
      for (let n = 0; !stop; n++) {
        try {
          await db.exec("INSERT INTO w (n) VALUES (?)", [n]);
          const now = performance.now();
          maxWriteGapMs = Math.max(maxWriteGapMs, now - lastAck);
          lastAck = now;
        } catch (error) {
          failedWrites++;
          const name = (error as Error).name;
          errors[name] = (errors[name] ?? 0) + 1;
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    maxWriteGapMs = 0;
    const leader = await leaderOf(cluster.addresses);
    const handoverStarted = performance.now();
    await cluster.stopLeader(leader);
    const handoverMs = performance.now() - handoverStarted;
    // Let the writer show that writes flow again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop = true;
    await writer;
    await db.close();
    return { formMs, handoverMs, maxWriteGapMs, failedWrites, errors };
  } finally {
    await cluster.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function summary(rounds: Round[]): Round {
  return {
    formMs: median(rounds.map((r) => r.formMs)),
    handoverMs: median(rounds.map((r) => r.handoverMs)),
    maxWriteGapMs: median(rounds.map((r) => r.maxWriteGapMs)),
    failedWrites: rounds.reduce((sum, r) => sum + r.failedWrites, 0),
    errors: rounds.reduce<Record<string, number>>((all, r) => {
      for (const [name, count] of Object.entries(r.errors)) all[name] = (all[name] ?? 0) + count;
      return all;
    }, {}),
  };
}

function rolesDecisionMicros(size: number): number {
  const nodes: ProbedNode[] = Array.from({ length: size }, (_, i) => ({
    id: BigInt(i + 1),
    address: `10.0.${i >> 8}.${i & 255}:9000`,
    role: i < 2 ? Role.Voter : Role.Spare,
    metadata: { failureDomain: BigInt(i % 3), weight: BigInt(i % 5) },
  }));
  const input = { nodes, voters: 3, standbys: 3 };
  const iterations = Math.max(200, Math.floor(200_000 / size));
  for (let i = 0; i < 100; i++) adjustRoles(input, 1n);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) adjustRoles(input, 1n);
  return ((performance.now() - started) * 1000) / iterations;
}

export async function run(options: { short: boolean }): Promise<void> {
  const rounds = options.short ? 1 : 3;
  const ours: Round[] = [];
  const reference: Round[] = [];
  const haveReference = haveRealDqlite();
  // Interleaved, so that both see the same machine load.
  for (let i = 0; i < rounds; i++) {
    if (haveReference) reference.push(await round(startReference));
    ours.push(await round(startOurs));
  }
  const o = summary(ours);
  const print = (name: string, r: Round): void => {
    console.log(
      `${name.padEnd(22)} form ${r.formMs.toFixed(0).padStart(6)} ms  handover ${r.handoverMs
        .toFixed(0)
        .padStart(
          6,
        )} ms  longest write gap ${r.maxWriteGapMs.toFixed(0).padStart(6)} ms  failed writes ${r.failedWrites} ${JSON.stringify(r.errors)}`,
    );
  };
  console.log(`three nodes, median of ${rounds} round(s)`);
  print("ours (App)", o);
  if (haveReference) {
    const r = summary(reference);
    print("go-dqlite dqlite-demo", r);
    console.log(
      `time ratios (reference / ours, > 1 = we are faster): form ${(r.formMs / o.formMs).toFixed(2)}x  handover ${(r.handoverMs / o.handoverMs).toFixed(2)}x  write gap ${(r.maxWriteGapMs / Math.max(1, o.maxWriteGapMs)).toFixed(2)}x`,
    );
  } else {
    console.log("(no reference: Debian's go-dqlite package is not installed)");
  }
  for (const size of [7, 100]) {
    console.log(
      `roles decision (adjustRoles), ${size} nodes: ${rolesDecisionMicros(size).toFixed(1)} µs`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run({ short: process.argv.includes("--short") });
}
