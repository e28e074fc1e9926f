#!/usr/bin/env node
// npm start: a local three-node cluster of our dqlite-demo on free loopback ports. It waits until
// the cluster has three voters, prints how to reach it, and on Ctrl-C stops the nodes by pid,
// followers first (a leader hands its role over on SIGTERM, which needs the others alive).
//
//   npm start                       data in a fresh temporary directory, removed at the end
//   npm start -- --dir .cluster     data kept in .cluster; a later start reuses its ports
//   npm start -- --nodes 5          another cluster size (1 to 9)
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const DEMO = join(ROOT, "bin", "dqlite-demo");
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

const { values: flags } = parseArgs({
  options: {
    dir: { type: "string" },
    nodes: { type: "string", default: "3" },
    verbose: { type: "boolean", default: false },
  },
});
const count = Number(flags.nodes);
if (!Number.isInteger(count) || count < 1 || count > 9) {
  console.error(`--nodes must be between 1 and 9, got ${flags.nodes}`);
  process.exit(2);
}

// bin/dqlite-demo runs the compiled code: `npm ci` builds it; after an edit or a pull it is rebuilt.
function newestMtimeMs(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}
const BUILT = join(ROOT, "dist", "cli", "dqlite-demo.js");
const SOURCES = join(ROOT, "src");
const stale =
  existsSync(SOURCES) &&
  statSync(BUILT, { throwIfNoEntry: false })?.mtimeMs < newestMtimeMs(SOURCES);
if (!existsSync(BUILT) || stale) {
  console.log("dist/ is missing or older than src/: building (npm run build) ...");
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0 && !existsSync(BUILT)) process.exit(build.status ?? 1);
}
const { Client } = await import(pathToFileURL(join(ROOT, "dist", "index.js")).href);

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function freeAddresses(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports].map((port) => `127.0.0.1:${port}`);
}

// The cluster's layout: kept in <dir>/cluster.json so that a kept directory restarts its nodes
// on the addresses recorded in their info.yaml.
async function layout(dir, keep) {
  const file = join(dir, "cluster.json");
  if (keep && existsSync(file)) {
    const saved = JSON.parse(await readFile(file, "utf8"));
    if (saved.nodes.length === count) return saved.nodes;
    console.error(
      `${dir} holds a ${saved.nodes.length}-node cluster; use --nodes ${saved.nodes.length}`,
    );
    process.exit(2);
  }
  const addresses = await freeAddresses(2 * count);
  const nodes = Array.from({ length: count }, (_, i) => ({
    api: addresses[2 * i],
    db: addresses[2 * i + 1],
  }));
  await writeFile(file, `${JSON.stringify({ nodes }, null, 2)}\n`);
  return nodes;
}

const keep = flags.dir !== undefined;
const dir = keep ? resolve(flags.dir) : await mkdtemp(join(tmpdir(), "dqlite-ts-start-"));
await mkdir(dir, { recursive: true });
const specs = await layout(dir, keep);
const running = new Map(); // index -> child process
let stopping = false;

function launch(index) {
  const spec = specs[index];
  const args = [DEMO, "--api", spec.api, "--db", spec.db, "--dir", dir];
  if (index > 0) args.push("--join", specs[0].db);
  if (flags.verbose) args.push("--verbose");
  const log = join(dir, `node${index + 1}.log`);
  const fd = openSync(log, "a");
  // Own process group: Ctrl-C reaches this script only, which stops the nodes in order.
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.on("exit", (code, signal) => {
    running.delete(index);
    if (!stopping) {
      console.error(
        `node ${index + 1} (pid ${child.pid}) exited (${signal ?? code}); its output is in ${log}`,
      );
    }
  });
  running.set(index, child);
  return child;
}

async function answersHttp(api) {
  try {
    const response = await fetch(`http://${api}/`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function voters() {
  const client = await Client.findLeader(
    specs.map((s) => s.db),
    { timeoutMs: 3000 },
  );
  try {
    const nodes = await client.cluster({ timeoutMs: 3000 });
    return { leader: client.address, voters: nodes.filter((n) => n.role === 0).length };
  } finally {
    client.close();
  }
}

async function waitUntil(what, check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function stopNode(index) {
  const child = running.get(index);
  if (child === undefined) return;
  const exited = new Promise((done) => child.once("exit", done));
  process.kill(child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (running.has(index)) process.kill(child.pid, "SIGKILL");
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function stopAll() {
  if (stopping) return;
  stopping = true;
  let leader;
  try {
    leader = (await voters()).leader;
  } catch {
    leader = undefined;
  }
  const order = [...running.keys()].sort((a, b) => b - a);
  const followers = order.filter((i) => specs[i].db !== leader);
  const leaders = order.filter((i) => specs[i].db === leader);
  for (const index of [...followers, ...leaders]) {
    console.log(`stopping node ${index + 1} (pid ${running.get(index)?.pid})`);
    await stopNode(index);
  }
  if (!keep) await rm(dir, { recursive: true, force: true });
  else console.log(`data kept in ${dir}`);
}

let interrupted = false;
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(name, () => {
    if (interrupted) return;
    interrupted = true;
    console.log("");
    stopAll().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
// Whatever happens to this script, its nodes do not outlive it.
process.on("exit", () => {
  for (const child of running.values()) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {}
  }
});

try {
  console.log(`starting ${count} dqlite-demo nodes in ${dir} ...`);
  launch(0);
  await waitUntil(`node 1 at ${specs[0].api}`, () => answersHttp(specs[0].api));
  for (let i = 1; i < count; i++) launch(i);
  for (const spec of specs) await waitUntil(`node at ${spec.api}`, () => answersHttp(spec.api));
  const wanted = Math.min(count, 3);
  await waitUntil(`${wanted} voters`, async () => (await voters()).voters >= wanted);
} catch (error) {
  console.error(`${error.message}; the nodes' output is in ${dir}/node*.log`);
  await stopAll();
  process.exit(1);
}
if (!stopping) {
  const servers = specs.map((s) => s.db).join(",");
  const lines = [
    "",
    `A ${count}-node dqlite cluster is running (data in ${dir}):`,
    ...specs.map(
      (s, i) => `  node ${i + 1}  pid ${running.get(i)?.pid}  http://${s.api}  dqlite ${s.db}`,
    ),
    "",
    "Store and read a value through any node's HTTP API:",
    `  curl -X PUT -d world http://${specs[0].api}/hello`,
    `  curl http://${specs[count - 1].api}/hello`,
    "",
    "Or use the dqlite shell on the database 'demo':",
    `  node bin/dqlite -s ${servers} demo "SELECT * FROM model"`,
    `  node bin/dqlite -s ${servers} demo .cluster`,
    "",
    "Press Ctrl-C to stop the nodes.",
  ];
  console.log(lines.join("\n"));
}
// The child processes keep this script alive until a signal stops everything.
