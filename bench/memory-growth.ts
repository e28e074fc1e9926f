// Server RSS as writes accumulate: a 1-node cluster of Debian's real dqlite-demo and one of ours,
// the same kvwrite statements (1 KiB values) from one client, RSS read after each step. Both keep
// the raft log's trailing window; growth should stop once it is full. Real dqlite keeps those
// entries' data in memory; ours keeps the newest 8 MiB of it (logDataInMemoryBytes) and reads older
// entries back from disk when a follower needs them.
//
//   npm run bench -- memory-growth            12,000 writes each
//   npm run bench -- --short memory-growth    3,000 writes each
import { join } from "node:path";
import { connect } from "../src/client/index.js";
import { startDemoCluster } from "../test/harness/real-dqlite.js";
import { memoryOf, ROOT, readyToCompare } from "./lib/compare-support.js";

const KV_WRITE = "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)";

async function growth(impl: "real" | "ours", steps: readonly number[]): Promise<number[]> {
  const cluster =
    impl === "real"
      ? await startDemoCluster(1)
      : await startDemoCluster(1, {
          command: process.execPath,
          args: [join(ROOT, "bin", "dqlite-demo")],
        });
  const db = await connect({ cluster: cluster.nodes.map((n) => n.db), database: "growth" });
  const rss: number[] = [];
  try {
    await db.exec("CREATE TABLE IF NOT EXISTS model (key TEXT, value TEXT, UNIQUE(key))");
    const value = "x".repeat(1024);
    let written = 0;
    for (const target of steps) {
      for (; written < target; written++) {
        await db.exec(KV_WRITE, [`k${Math.floor(Math.random() * 5000)}`, value]);
      }
      rss.push(memoryOf(cluster.nodes[0].process.pid)?.rssBytes ?? Number.NaN);
    }
  } finally {
    await db.close();
    await cluster.stop();
  }
  return rss;
}

export async function run(options: { short: boolean }): Promise<void> {
  if (!readyToCompare()) return;
  const steps = options.short ? [0, 1000, 3000] : [0, 2000, 4000, 8000, 12000];
  const real = await growth("real", steps);
  const ours = await growth("ours", steps);
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
  console.log(`${"kvwrites".padStart(8)} ${"real RSS".padStart(9)} ${"ours RSS".padStart(9)}`);
  steps.forEach((n, i) => {
    console.log(`${String(n).padStart(8)} ${mb(real[i]).padStart(9)} ${mb(ours[i]).padStart(9)}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ short: process.argv.includes("--short") });
}
