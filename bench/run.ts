// `npm run bench [-- --short] [name ...]`: runs every benchmark module in this folder (or the named
// ones). Each module exports `run({ short })` and prints its own results, with ratios against a
// reference measured in the same run: these machines are shared and noisy, so absolute numbers mean
// little on their own.
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface BenchModule {
  run(options: { short: boolean }): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const short = args.includes("--short");
// Names are the bare words, except a value given to a flag (`compare --sizes 3`): every flag but
// --short takes one, read by the benchmark module itself.
const wanted = args.filter(
  (a, i) =>
    !a.startsWith("-") && !(i > 0 && args[i - 1].startsWith("--") && args[i - 1] !== "--short"),
);
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => basename(f, ".ts"))
  .sort();
const names = wanted.length > 0 ? wanted : available;

for (const name of names) {
  if (!available.includes(name)) {
    console.error(`no benchmark named "${name}" (have: ${available.join(", ")})`);
    process.exit(2);
  }
  console.log(`\n=== ${name}${short ? " (short)" : ""} ===`);
  const started = performance.now();
  const module = (await import(join(here, `${name}.ts`))) as BenchModule;
  await module.run({ short });
  console.log(`(${name} took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
