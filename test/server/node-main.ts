// One Node in its own process, for multi-process tests:
//   node-main.ts <id> <address> <data dir> [<address to join>]
// Prints "ready <address>" once serving (and added to the cluster when joining), and
// "snapshots installed <n>" each time the node installs a snapshot sent by a leader (its raftStats);
// SIGTERM closes.
import { Client } from "../../src/client/index.js";
import { Node } from "../../src/server/node.js";

const [idText, address, dataDir, join] = process.argv.slice(2);
const snapshotThreshold = Number(process.env.SNAPSHOT_THRESHOLD ?? 1024);
const node = new Node({
  id: BigInt(idText),
  address,
  dataDir,
  networkLatencyMs: Number(process.env.LATENCY_MS ?? 20),
  snapshotThreshold,
  snapshotTrailing: Math.max(snapshotThreshold, Number(process.env.SNAPSHOT_TRAILING ?? 8192)),
  logDataInMemoryBytes:
    process.env.LOG_DATA_IN_MEMORY_BYTES === undefined
      ? undefined
      : Number(process.env.LOG_DATA_IN_MEMORY_BYTES),
});
await node.start();
if (join && process.env.ALREADY_MEMBER !== "1") {
  const admin = await Client.findLeader([join], { timeoutMs: 30_000 });
  await admin.add({ id: node.id, address: node.address, role: "voter" }, { timeoutMs: 30_000 });
  await admin.close();
}
process.stdout.write(`ready ${node.address}\n`);
let installed = 0;
setInterval(() => {
  const now = node.raftStats.snapshotsInstalled;
  if (now !== installed) process.stdout.write(`snapshots installed ${now}\n`);
  installed = now;
}, 50).unref();
// CPU_PROFILE=<file>: profile this node until it is stopped (for performance work).
const profile = process.env.CPU_PROFILE ? await startProfile(process.env.CPU_PROFILE) : null;
const stop = async () => {
  await node.close();
  await profile?.();
  process.exit(0);
};

async function startProfile(path: string): Promise<() => Promise<void>> {
  const { Session } = await import("node:inspector/promises");
  const { writeFile } = await import("node:fs/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    await writeFile(`${path}.${process.pid}.cpuprofile`, JSON.stringify(profile));
  };
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
