// `dqlite-demo`: go-dqlite's demo program. Each instance embeds a dqlite node and serves a
// key/value HTTP API over a replicated table; SIGINT, SIGTERM, SIGQUIT or SIGPWR stop it cleanly.
import type { Writable } from "node:stream";
import { DEMO_HELP, DEMO_USAGE, parseDemoArguments } from "./demo/arguments.js";
import { startDemo } from "./demo/demo-node.js";

export interface DemoIo {
  stdout: Writable;
  stderr: Writable;
  /** Stops the demo as a signal would (for tests that run it in-process). */
  stop?: AbortSignal;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGQUIT", "SIGPWR"];

function untilStopped(stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const name of STOP_SIGNALS) process.off(name, done);
      stop?.removeEventListener("abort", done);
      resolve();
    };
    for (const name of STOP_SIGNALS) process.on(name, done);
    if (stop?.aborted) done();
    else stop?.addEventListener("abort", done, { once: true });
  });
}

/** Entry point of `dqlite-demo`; returns the process exit code. */
export async function main(args: string[], io: DemoIo = process): Promise<number> {
  try {
    const parsed = parseDemoArguments(args);
    if (parsed.help) {
      io.stdout.write(DEMO_HELP);
      return 0;
    }
    // As in go-dqlite, signals are only caught once the demo runs: before, they end the process.
    const demo = await startDemo(parsed.args, io.stderr);
    await untilStopped(io.stop);
    await demo.stop();
    return 0;
  } catch (error) {
    // cobra: "Error: <message>", then the usage and a blank line, on stderr; exit code 1.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`Error: ${message}\n${DEMO_USAGE}\n`);
    return 1;
  }
}
