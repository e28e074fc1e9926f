// One run: a workload's clients against the cluster while nemeses inject faults, then every
// fault repaired, final reads, the checker, and the history written (JSON lines and Jepsen EDN).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../harness/processes.js";
import { type CheckResult, formatResult } from "./checkers/result.js";
import type { FaultCluster } from "./cluster.js";
import { describeError } from "./describe-error.js";
import { HistoryRecorder, historyToEdn } from "./history/history.js";
import { makeNemesis, type NemesisName } from "./nemeses/index.js";
import type { NemesisContext } from "./nemeses/nemesis.js";
import { makeWorkload, type WorkloadName } from "./workloads/index.js";
import { seededRandom } from "./workloads/workload.js";

export interface RunSpec {
  readonly workload: WorkloadName;
  readonly nemeses: readonly NemesisName[];
  readonly durationMs: number;
}

export interface RunOptions {
  readonly seed: number;
  /** Keys/elements of this run start at base (runs sharing a cluster must differ). */
  readonly base: number;
  readonly outDir: string;
  readonly concurrency?: number;
  /** Between faults, and how long one lasts (ms ranges). */
  readonly quietMs?: readonly [number, number];
  readonly faultMs?: readonly [number, number];
}

export interface RunReport {
  readonly name: string;
  readonly passed: boolean;
  readonly check: CheckResult;
  readonly findings: readonly string[];
  readonly nemesisLog: readonly string[];
  readonly outDir: string;
  readonly elapsedMs: number;
}

const FINAL_READS_MS = 45_000;

export function runName(spec: RunSpec): string {
  return `${spec.workload}:${spec.nemeses.join("+")}`;
}

export async function runCombination(
  cluster: FaultCluster,
  spec: RunSpec,
  options: RunOptions,
): Promise<RunReport> {
  const started = Date.now();
  const name = runName(spec);
  const random = seededRandom(options.seed);
  const workload = makeWorkload(spec.workload, options.base);
  const concurrency = options.concurrency ?? 10;
  const [quietLow, quietHigh] = options.quietMs ?? [1000, 3000];
  const [faultLow, faultHigh] = options.faultMs ?? [3000, 7000];
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low));
  const findings: string[] = [];
  const nemesisLog: string[] = [];
  const log = (text: string) => {
    const line = `${((Date.now() - started) / 1000).toFixed(1)}s ${text}`;
    nemesisLog.push(line);
    if (process.env.FAULTS_VERBOSE) console.log(`  [${name}] ${line}`);
  };
  const context: NemesisContext = {
    cluster,
    random,
    nemeses: spec.nemeses,
    finding: (text) => {
      findings.push(text);
      log(`FINDING ${text}`);
    },
    log,
  };

  await waitFor(
    "workload setup",
    async () => {
      await workload.setup(cluster);
      return true;
    },
    60_000,
    1000,
  );

  const history = new HistoryRecorder<string, unknown>();
  const deadline = Date.now() + spec.durationMs;
  const size = cluster.nodes.length;

  const client = async (first: number) => {
    let process = first;
    const node = (first % size) + 1;
    while (Date.now() < deadline) {
      const next = workload.next(random);
      if (next === undefined) break;
      const invoke = history.invoke(process, next.f, next.value, `n${node}`);
      const done = await workload.invoke(cluster, node, next);
      history.complete(invoke, done.type, done.value, done.error);
      if (done.type === "info") process += concurrency;
      await sleep(done.type === "fail" ? 100 : between(2, 20));
    }
  };

  const nemesisLoop = async (nemesisName: NemesisName) => {
    const nemesis = makeNemesis(nemesisName);
    if (!nemesis) return;
    while (Date.now() + quietLow + 1000 < deadline) {
      await sleep(Math.min(between(quietLow, quietHigh), Math.max(0, deadline - Date.now())));
      if (Date.now() >= deadline - 1000) break;
      // A nemesis that throws is reported and the run goes on: healing repairs what it left.
      let what: string | undefined;
      try {
        what = await nemesis.start(context);
      } catch (error) {
        context.finding(`${nemesis.name} could not start: ${describeError(error)}`);
      }
      if (what === undefined) continue;
      log(`${nemesis.name} start: ${what}`);
      await sleep(Math.min(between(faultLow, faultHigh), Math.max(0, deadline - Date.now())));
      try {
        log(`${nemesis.name} stop: ${await nemesis.stop(context)}`);
      } catch (error) {
        context.finding(`${nemesis.name} could not stop: ${describeError(error)}`);
      }
    }
  };

  await Promise.all([
    ...Array.from({ length: concurrency }, (_, p) => client(p)),
    ...spec.nemeses.map((n) => nemesisLoop(n)),
  ]);

  log("healing everything");
  await healAll(context);
  try {
    await cluster.waitStable(90_000);
    log("cluster stable");
  } catch (error) {
    context.finding(
      `the cluster did not recover within 90 s after the faults: ${describeError(error)}`,
    );
  }

  // After a full disk, the final reads go through that node as the leader, so that they read
  // its own copy: it must have every committed write, with no operator help.
  if (spec.nemeses.includes("disk-full")) {
    for (const index of cluster.options.tmpfsNodes) {
      const led = await cluster.transferLeadership(index);
      log(
        led
          ? `n${index} (its disk was full) leads for the final reads`
          : `n${index} is not a voter now: final reads through the leader`,
      );
    }
  }

  // Final reads, each tried until it succeeds (on every live node in turn), as new processes,
  // all within FINAL_READS_MS.
  let finalProcess = concurrency * 100_000;
  const finalDeadline = Date.now() + FINAL_READS_MS;
  for (const read of workload.finalReads()) {
    let done = false;
    for (let attempt = 0; !done && Date.now() < finalDeadline; attempt++) {
      const live = cluster.nodes.filter((n) => !n.removed && cluster.running(n.index));
      const node = live[attempt % live.length]?.index ?? 1;
      const invoke = history.invoke(finalProcess, read.f, read.value, `n${node}`);
      const result = await workload.invoke(cluster, node, read);
      history.complete(invoke, result.type, result.value, result.error);
      finalProcess++;
      done = result.type === "ok";
      if (!done) await sleep(500);
    }
    if (!done) {
      context.finding(
        `final read ${JSON.stringify(read.value)} never succeeded within ${FINAL_READS_MS / 1000} s`,
      );
      break;
    }
  }

  for (const crash of cluster.crashes.splice(0)) context.finding(`crash: ${crash}`);
  for (const line of cluster.newErrorLogLines()) context.finding(`error logged: ${line}`);
  const check = workload.check(history.ops);
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(
    join(options.outDir, "history.edn"),
    historyToEdn(history.ops, (op) => workload.edn(op)),
  );
  writeFileSync(
    join(options.outDir, "history.jsonl"),
    `${history.ops.map((op) => JSON.stringify(op)).join("\n")}\n`,
  );
  const passed = check.valid === true && findings.length === 0;
  const report = [
    `${name} seed=${options.seed} duration=${spec.durationMs}ms: ${passed ? "PASS" : "FAIL"}`,
    formatResult(spec.workload, check),
    ...findings.map((f) => `finding: ${f}`),
    "nemesis:",
    ...nemesisLog.map((l) => `  ${l}`),
  ].join("\n");
  writeFileSync(join(options.outDir, "report.txt"), `${report}\n`);
  return {
    name,
    passed,
    check,
    findings,
    nemesisLog,
    outDir: options.outDir,
    elapsedMs: Date.now() - started,
  };
}

/** Repairs every fault: network, paused and stopped processes, disks, clocks. */
async function healAll(context: NemesisContext): Promise<void> {
  const { cluster } = context;
  await cluster.network.heal();
  await cluster.network.clearPacketFaults();
  for (const node of cluster.nodes) {
    node.claimedBy = null;
    cluster.resume(node.index);
    if (cluster.options.tmpfsNodes.includes(node.index)) cluster.freeDisk(node.index);
    if (cluster.options.faketime) cluster.setClockOffset(node.index, 0);
  }
  for (const node of cluster.nodes) {
    if (node.removed || cluster.running(node.index)) continue;
    try {
      await cluster.startNode(node.index);
    } catch (error) {
      context.finding(`restart of n${node.index} while healing failed: ${describeError(error)}`);
    }
  }
}
