// npm start (scripts/start.mjs) on a built copy of the package: it brings up three of our
// dqlite-demo nodes, prints commands that work as printed, and on SIGINT (Ctrl-C) stops the
// nodes followers first, exits 0 and leaves no process and no directory behind.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { leaderOf } from "../harness/our-cluster.js";
import { waitFor } from "../harness/processes.js";
import { builtPackage } from "./demo-build.js";

const run = promisify(execFile);
let start: ChildProcess | undefined;
let nodePids: number[] = [];

after(() => {
  for (const pid of [...nodePids, start?.pid ?? -1]) {
    try {
      if (pid > 0) process.kill(pid, "SIGKILL");
    } catch {}
  }
});

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test("npm start runs a 3-node cluster, its printed commands work, Ctrl-C stops it cleanly", async () => {
  const root = await builtPackage();
  const child = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  start = child;
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  await waitFor(
    "the cluster to be ready",
    () => {
      if (child.exitCode !== null) throw new Error(`start.mjs exited: ${stdout}${stderr}`);
      return stdout.includes("Press Ctrl-C to stop the nodes.") ? true : undefined;
    },
    180_000,
    200,
  );

  const nodes = [
    ...stdout.matchAll(/^ {2}node (\d) {2}pid (\d+) {2}http:\/\/(\S+) {2}dqlite (\S+)$/gm),
  ];
  assert.equal(nodes.length, 3, stdout);
  nodePids = nodes.map((m) => Number(m[2]));
  const dataDir = /data in (\S+)\):/.exec(stdout)?.[1];
  assert.ok(dataDir && existsSync(dataDir), stdout);

  // The printed commands, run as printed.
  const commands = stdout
    .split("\n")
    .filter((line) => /^ {2}(curl|node bin\/dqlite) /.test(line))
    .map((line) => line.trim());
  assert.equal(commands.length, 4, stdout);
  const outputs: string[] = [];
  for (const command of commands) {
    const { stdout: out } = await run("bash", ["-c", command], { cwd: root, timeout: 60_000 });
    outputs.push(out);
  }
  assert.equal(outputs[0], "done");
  assert.equal(outputs[1], "world");
  assert.match(outputs[2], /^key\tvalue\t?\nhello\tworld\t?\n$/);
  assert.equal(
    outputs[3]
      .trim()
      .split("\n")
      .filter((l) => l.endsWith("|voter")).length,
    3,
  );

  const leader = await leaderOf(nodes.map((m) => m[4]));
  const leaderNode = nodes.find((m) => m[4] === leader)?.[1];
  child.kill("SIGINT");
  assert.equal(await exited, 0, stdout + stderr);
  const stopped = [...stdout.matchAll(/^stopping node (\d) /gm)].map((m) => m[1]);
  assert.equal(stopped.length, 3, stdout);
  assert.equal(stopped.at(-1), leaderNode, "the leader is stopped last");
  for (const pid of nodePids) assert.ok(gone(pid), `node process ${pid} is gone`);
  assert.ok(!existsSync(dataDir), "the temporary directory is removed");
});
