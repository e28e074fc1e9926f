// The README's first-run commands, run as written on a fresh clone: the first line (`npm ci &&
// npm start`) installs, builds and brings up three of our dqlite-demo nodes, whose printed
// commands must work as printed; Ctrl-C (SIGINT to the whole process group, as a terminal sends
// it) stops the nodes followers first and leaves no process and no directory behind. The second
// line (`npm test`) is what CI itself runs after `npm ci`, so here it is checked to be in .ci/run.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { leaderOf } from "../harness/our-cluster.js";
import { waitFor } from "../harness/processes.js";
import { REPO } from "./demo-build.js";

const run = promisify(execFile);
let start: ChildProcess | undefined;
let nodePids: number[] = [];

const cleanups: (() => Promise<void>)[] = [];

after(async () => {
  for (const pid of [...nodePids, -(start?.pid ?? 0)]) {
    try {
      if (pid !== 0) process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const cleanup of cleanups) await cleanup();
});

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * better-sqlite3 (a dev dependency) installs a prebuilt binary downloaded from GitHub, or else
 * compiles itself for minutes; CI machines here cannot download it, and the checkout's `npm ci`
 * already compiled it once. prebuild-install's documented local-prebuilds directory gets that
 * binary, packed as the release asset would be, so the clone's `npm ci` installs it at once.
 */
async function localBetterSqlite3Prebuild(scratch: string): Promise<Record<string, string>> {
  const module = join(REPO, "node_modules", "better-sqlite3");
  const { version } = JSON.parse(await readFile(join(module, "package.json"), "utf8"));
  const asset = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const dir = join(scratch, ".local-prebuilds");
  await mkdir(dir, { recursive: true });
  await run("tar", ["-czf", join(dir, asset), "-C", module, "build/Release/better_sqlite3.node"]);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** The commands of the README's first ```sh block, comments stripped. */
async function firstRunCommands(): Promise<string[]> {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line.length > 0);
}

test("the README's first commands: npm ci && npm start on a fresh clone runs a 3-node cluster, its printed commands work, Ctrl-C stops it cleanly; npm test is CI's", async () => {
  const firstRun = await firstRunCommands();
  assert.deepEqual(firstRun, ["npm ci && npm start", "npm test"]);
  const ci = await readFile(join(REPO, ".ci", "run"), "utf8");
  assert.ok(ci.split("\n").includes(firstRun[1]), ".ci/run runs the README's test command");

  const scratch = await mkdtemp(join(tmpdir(), "readme-first-run-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const root = join(scratch, "dqlite-ts");
  // A fresh clone of what is committed, as a newcomer gets it.
  await run("git", ["clone", "--quiet", "--no-hardlinks", REPO, root], { timeout: 120_000 });
  const child = spawn("bash", ["-c", firstRun[0]], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, ...(await localBetterSqlite3Prebuild(scratch)) },
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
  // Ctrl-C: the terminal signals the foreground process group (bash, npm, start.mjs).
  process.kill(-child.pid!, "SIGINT");
  await exited;
  const stopped = [...stdout.matchAll(/^stopping node (\d) /gm)].map((m) => m[1]);
  assert.equal(stopped.length, 3, stdout);
  assert.equal(stopped.at(-1), leaderNode, "the leader is stopped last");
  for (const pid of nodePids) assert.ok(gone(pid), `node process ${pid} is gone`);
  assert.ok(!existsSync(dataDir), "the temporary directory is removed");
});
