// Runs the deterministic raft simulator: `npm run sim -- --seeds 1000` (seeds 1..1000),
// `--from 5000 --seeds 100`, or `--seed 42` to replay one seed with its trace. `--walk` runs the
// move-by-move random walks instead of the timed chaos runs.
import { Command } from "commander";
import { ChaosFailure, runChaos } from "../src/raft/sim/chaos.js";
import { runWalk, WalkFailure } from "../src/raft/sim/walk.js";

const program = new Command()
  .name("sim")
  .description("Deterministic raft cluster simulation under faults")
  .option("--seed <n>", "replay one seed and print its trace on failure")
  .option("--seeds <n>", "number of seeds to run", "100")
  .option("--from <n>", "first seed", "1")
  .option("--fault-ms <n>", "virtual time under faults per seed", "15000")
  .option("--walk", "random walks of single moves instead of timed chaos runs")
  .parse();

const options = program.opts<{
  seed?: string;
  seeds: string;
  from: string;
  faultMs: string;
  walk?: boolean;
}>();
const faultMs = Number(options.faultMs);

/** What happened across the seeds run (chaos runs only: leaders, crashes, snapshots...). */
const totals = new Map<string, number>();

/** Runs one seed; returns [steps, committed]. Throws ChaosFailure or WalkFailure. */
function runSeed(seed: number, trace: boolean): [number, number] {
  if (options.walk) {
    const result = runWalk({ seed });
    return [result.moves, result.committed];
  }
  const result = runChaos({ seed, faultMs, trace });
  for (const [key, value] of Object.entries(result.stats)) {
    totals.set(key, (totals.get(key) ?? 0) + value);
  }
  return [result.steps, result.committed];
}

function isFailure(error: unknown): error is ChaosFailure | WalkFailure {
  return error instanceof ChaosFailure || error instanceof WalkFailure;
}

if (options.seed !== undefined) {
  const seed = Number(options.seed);
  try {
    const [steps, committed] = runSeed(seed, true);
    console.log(`seed ${seed}: ok, ${steps} steps, ${committed} entries committed`);
  } catch (error) {
    if (!isFailure(error)) throw error;
    console.log(error.trace);
    console.log(error.message);
    if (error.cause instanceof Error) console.log(error.cause.stack);
    process.exit(1);
  }
} else {
  const from = Number(options.from);
  const count = Number(options.seeds);
  const started = Date.now();
  const failures: number[] = [];
  let steps = 0;
  let committed = 0;
  for (let seed = from; seed < from + count; seed++) {
    try {
      const [seedSteps, seedCommitted] = runSeed(seed, false);
      steps += seedSteps;
      committed += seedCommitted;
    } catch (error) {
      if (!isFailure(error)) throw error;
      failures.push(seed);
      console.log(error.message.split("\n")[0]);
    }
    if ((seed - from + 1) % 1000 === 0) console.log(`... ${seed - from + 1} seeds`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${count} seeds from ${from}: ${failures.length} failed, ${steps} steps, ` +
      `${committed} entries committed, ${seconds.toFixed(1)} s`,
  );
  if (totals.size > 0) {
    const perSeed = [...totals].map(([key, value]) => `${key} ${(value / count).toFixed(1)}`);
    console.log(`per seed: ${perSeed.join(", ")}`);
  }
  if (failures.length > 0) {
    console.log(
      `replay with: npm run sim --${options.walk ? " --walk" : ""} --seed ${failures[0]}`,
    );
    process.exit(1);
  }
}
