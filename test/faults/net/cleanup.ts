// Everything a run creates on the machine (namespaces, links, routes, mounts, processes) is
// registered here as it is made and undone in reverse order at the end: on success, on failure,
// on SIGINT/SIGTERM and on exit. The undo steps are synchronous so they also run in 'exit'.
import { spawnSync } from "node:child_process";

type Undo = { readonly what: string; readonly run: () => void };

const MAX_STEPS = 10_000;
const steps: Undo[] = [];
let installed = false;

/** Registers an undo step; returns a function that runs it early (and unregisters it). */
export function onCleanup(what: string, run: () => void): () => void {
  if (steps.length >= MAX_STEPS) throw new Error("too many cleanup steps registered");
  installHandlers();
  const step: Undo = { what, run };
  steps.push(step);
  return () => {
    const at = steps.indexOf(step);
    if (at < 0) return;
    steps.splice(at, 1);
    runStep(step);
  };
}

/** Runs every registered step, newest first. Failures are reported, never thrown. */
export function cleanupAll(): void {
  while (steps.length > 0) runStep(steps.pop()!);
}

function runStep(step: Undo): void {
  try {
    step.run();
  } catch (error) {
    console.error(`cleanup of ${step.what} failed: ${(error as Error).message}`);
  }
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("exit", cleanupAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: tearing down the fault-injection cluster`);
      cleanupAll();
      process.exit(130);
    });
  }
}

/** Runs a command synchronously; throws with its stderr when it fails (unless `allowFailure`). */
export function run(command: string, args: readonly string[], allowFailure = false): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0 && !allowFailure) {
    const detail = (result.stderr || result.error?.message || "").trim();
    throw new Error(`${command} ${args.join(" ")}: ${detail} (status ${result.status})`);
  }
  return result.stdout ?? "";
}
