import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** A process started by a test: killed by pid only, output kept in a log file. */
export interface TestProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  stop(graceMs?: number): Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logPath: string,
  env: NodeJS.ProcessEnv = process.env,
): TestProcess {
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      running = false;
      // Give the pipes a moment to flush into the log.
      setImmediate(() => log.end());
      resolve(code ?? signal ?? "unknown");
    });
  });
  return {
    name,
    child,
    pid,
    logPath,
    exited,
    alive: () => running,
    kill(signal = "SIGKILL") {
      if (running) process.kill(pid, signal);
    },
    async stop(graceMs = 10_000) {
      if (!running) return exited;
      process.kill(pid, "SIGTERM");
      const result = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
      if (result !== undefined) return result;
      if (running) process.kill(pid, "SIGKILL");
      return exited;
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
