// npm run test:faults [-- --long] [-- --only append:partition+kill] [-- --seconds N] [-- --seed S]
//                     [-- --regressions] [-- --inject lost-write|fail-but-applied]
//
// Runs the workload × nemesis matrix (matrix.ts) against a 5-node cluster of our nodes in network
// namespaces and checks every history. The short form (CI) pairs every workload with every kind
// of fault at least once on one shared cluster in about six minutes; --long runs the full
// matrix for 240 s per combination, each on a fresh cluster, like jepsen.dqlite.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FaultCluster } from "./cluster.js";
import { LONG_NEMESES, SHORT_MATRIX } from "./matrix.js";
import { NEMESIS_NAMES, type NemesisName } from "./nemeses/index.js";
import { cleanupAll } from "./net/cleanup.js";
import { type RunReport, type RunSpec, runCombination, runName } from "./runner.js";
import { WORKLOAD_NAMES, type WorkloadName } from "./workloads/index.js";

function parseSpec(text: string, durationMs: number): RunSpec {
  const [workload, nemeses = "none"] = text.split(":");
  if (!WORKLOAD_NAMES.includes(workload as WorkloadName))
    throw new Error(`unknown workload ${workload}`);
  const names = nemeses.split("+");
  for (const n of names)
    if (!NEMESIS_NAMES.includes(n as NemesisName)) throw new Error(`unknown nemesis ${n}`);
  return { workload: workload as WorkloadName, nemeses: names as NemesisName[], durationMs };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      long: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      seconds: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "fresh-cluster": { type: "boolean" },
      "latency-ms": { type: "string", default: "20" },
      regressions: { type: "boolean", default: false },
      inject: { type: "string" },
    },
  });
  if (values.regressions) return runRegressions();
  if (process.getuid?.() !== 0) {
    console.error("test:faults needs root (network namespaces, nftables, tmpfs mounts)");
    return 2;
  }
  const durationMs = Number(values.seconds ?? (values.long ? 240 : 20)) * 1000;
  const specs: RunSpec[] = values.only
    ? values.only.map((text) => parseSpec(text, durationMs))
    : values.long
      ? WORKLOAD_NAMES.flatMap((w) =>
          LONG_NEMESES.map((n) => ({ workload: w, nemeses: n, durationMs })),
        )
      : SHORT_MATRIX.map(([w, n]) => ({ workload: w, nemeses: n, durationMs }));
  const fresh = values["fresh-cluster"] ?? values.long;
  const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const outRoot = resolve(values.out ?? join(import.meta.dirname, "out", stamp));
  console.log(
    `fault tests: ${specs.length} runs of ${durationMs / 1000} s, seed ${seed}, results in ${outRoot}`,
  );

  const reports: RunReport[] = [];
  let cluster: FaultCluster | undefined;
  const clusterOptions = (logDir: string) => ({
    logDir,
    latencyMs: Number(values["latency-ms"]),
    tmpfsNodes: [1],
    // Disk mode (pages in a file, go-dqlite's WithDiskMode) under the same faults, in a mixed
    // cluster; the disk-full node stays in memory mode.
    diskModeNodes: [2, 4],
    faketime: true,
    inject: values.inject,
  });
  try {
    for (const [i, spec] of specs.entries()) {
      const name = runName(spec);
      const outDir = join(
        outRoot,
        `${String(i + 1).padStart(2, "0")}-${name.replace(/[:+]/g, "_")}`,
      );
      if (!cluster || fresh) {
        if (cluster) {
          await cluster.close();
          cleanupAll();
        }
        const started = Date.now();
        cluster = await FaultCluster.start(
          clusterOptions(fresh ? join(outDir, "logs") : join(outRoot, "logs")),
        );
        console.log(
          `cluster of 5 started on ${cluster.network.subnet} in ${Date.now() - started} ms`,
        );
      }
      const report = await runCombination(cluster, spec, {
        seed: seed + i,
        base: (i + 1) * 1_000_000,
        outDir,
      });
      reports.push(report);
      const stats = Object.entries(report.check.stats)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ");
      console.log(
        `${report.passed ? "PASS" : "FAIL"} ${name} (${(report.elapsedMs / 1000).toFixed(0)} s; ${stats})`,
      );
      if (!report.passed) {
        console.log(failureDetails(report));
      }
    }
  } finally {
    await cluster?.close();
    cleanupAll();
  }
  const failed = reports.filter((r) => !r.passed);
  console.log(
    `\nfault tests: ${reports.length - failed.length} passed, ${failed.length} failed (results in ${outRoot})`,
  );
  console.log(`${reports.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 && reports.length === specs.length ? 0 : 1;
}

/** Runs every scripted reproduction in regressions/ (each exits 0 once its bug is fixed). */
function runRegressions(): number {
  const dir = join(import.meta.dirname, "regressions");
  const scripts = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "scenario.ts");
  let failed = 0;
  for (const script of scripts.sort()) {
    console.log(`--- ${script}`);
    const result = spawnSync(process.execPath, ["--import", "tsx", join(dir, script)], {
      stdio: "inherit",
    });
    if (result.status !== 0) failed++;
  }
  console.log(`${scripts.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

function failureDetails(report: RunReport): string {
  const lines = [`  results: ${report.outDir}`];
  for (const anomaly of report.check.anomalies.slice(0, 5)) {
    lines.push(`  ${anomaly.kind}: ${anomaly.explanation}`);
    for (const op of anomaly.ops.slice(0, 25)) lines.push(`    ${op}`);
  }
  for (const finding of report.findings) lines.push(`  finding: ${finding}`);
  return lines.join("\n");
}

process.exitCode = await main().catch((error) => {
  console.error(error);
  return 1;
});
