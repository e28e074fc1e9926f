// Runs the deterministic raft simulator: `npm run sim -- --seeds 1000` (seeds 1..1000),
// `--from 5000 --seeds 100`, or `--seed 42` to replay one seed with its trace.
import { Command } from "commander";
import { ChaosFailure, runChaos } from "../src/raft/sim/chaos.js";

const program = new Command()
  .name("sim")
  .description("Deterministic raft cluster simulation under faults")
  .option("--seed <n>", "replay one seed and print its trace on failure")
  .option("--seeds <n>", "number of seeds to run", "100")
  .option("--from <n>", "first seed", "1")
  .option("--fault-ms <n>", "virtual time under faults per seed", "15000")
  .option("--verbose", "print the trace of a replayed seed even when it passes")
  .parse();

const options = program.opts<{
  seed?: string;
  seeds: string;
  from: string;
  faultMs: string;
  verbose?: boolean;
}>();
const faultMs = Number(options.faultMs);

if (options.seed !== undefined) {
  const seed = Number(options.seed);
  try {
    const result = runChaos({ seed, faultMs });
    console.log(`seed ${seed}: ok`, result);
  } catch (error) {
    if (!(error instanceof ChaosFailure)) throw error;
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
      const result = runChaos({ seed, faultMs, trace: false });
      steps += result.steps;
      committed += result.committed;
    } catch (error) {
      if (!(error instanceof ChaosFailure)) throw error;
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
  if (failures.length > 0) {
    console.log(`replay with: npm run sim -- --seed ${failures[0]}`);
    process.exit(1);
  }
}
