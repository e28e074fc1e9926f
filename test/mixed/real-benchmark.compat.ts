import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkResultsDirectory } from "../cli/benchmark-embedded-files.js";
import { startMixedCluster } from "../harness/mixed-cluster.js";
import { freePorts } from "../harness/ports.js";
import { startProcess } from "../harness/processes.js";

// Debian's dqlite-benchmark embeds a real node: it joins our cluster (led by one of ours) and its
// driver runs the workload through our leader.
test("Debian's dqlite-benchmark runs against a cluster led by our node", async () => {
  const cluster = await startMixedCluster(["ours", "ours", "ours"]);
  const dir = await mkdtemp(join(tmpdir(), "real-bench-"));
  try {
    const [port] = await freePorts(1);
    const db = `127.0.0.1:${port}`;
    const started = BigInt(Date.now()) * 1_000_000n;
    const bench = startProcess(
      "dqlite-benchmark",
      "/usr/bin/dqlite-benchmark",
      [
        "--db",
        db,
        "--join",
        cluster.nodes[0].db,
        "--cluster",
        cluster.addresses().join(","),
        "--driver",
        "--duration",
        "5",
        "--workers",
        "2",
        "--dir",
        dir,
      ],
      join(dir, "benchmark.log"),
    );
    const code = await bench.exited;
    const ended = BigInt(Date.now()) * 1_000_000n;
    const log = await readFile(join(dir, "benchmark.log"), "utf8");
    assert.equal(code, 0, `dqlite-benchmark exited with ${code}:\n${log.slice(-3000)}`);
    assert.ok(cluster.nodes.some((n) => n.kind === "ours"));
    const successes = await checkResultsDirectory(join(dir, db, "results"), 2, started, ended);
    assert.ok(successes > 10, `${successes} operations`);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
