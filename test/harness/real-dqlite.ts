// Debian's real dqlite (go-dqlite 1.11.5 tools over libdqlite 1.11.1), started by tests.
// `.ci/run` installs the `go-dqlite` package; these helpers refuse clearly when it is missing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts } from "./ports.js";
import { startProcess, type TestProcess, waitFor } from "./processes.js";

const run = promisify(execFile);

export function haveRealDqlite(): boolean {
  return existsSync("/usr/bin/dqlite-demo") && existsSync("/usr/bin/dqlite");
}

export function requireRealDqlite(): void {
  if (!haveRealDqlite()) {
    throw new Error(
      "real dqlite is not installed: apt-get install -y go-dqlite (.ci/run does this)",
    );
  }
}

export interface DemoNode {
  index: number;
  api: string;
  db: string;
  process: TestProcess;
}

export interface DemoCluster {
  dir: string;
  nodes: DemoNode[];
  /** Comma-separated dqlite addresses, as the shell's -s flag takes them. */
  servers: string;
  /** Starts node `index` again (same api/db/dir) after it was stopped or killed. */
  restart(index: number): Promise<DemoNode>;
  stop(): Promise<void>;
}

export interface StartDemoOptions {
  /** Program to run; defaults to Debian's dqlite-demo. Tests pass our bin/dqlite-demo here. */
  command?: string;
  args?: string[];
  /** How long to wait for every node to be a voter. */
  timeoutMs?: number;
  /** Wait for this many voters (default: min(nodes, 3)). */
  voters?: number;
}

/** Starts `count` dqlite-demo nodes on random loopback ports; nodes 2.. join node 1. */
export async function startDemoCluster(
  count: number,
  options: StartDemoOptions = {},
): Promise<DemoCluster> {
  const command = options.command ?? "/usr/bin/dqlite-demo";
  if (!options.command) requireRealDqlite();
  const dir = await mkdtemp(join(tmpdir(), "dqlite-demo-"));
  const ports = await freePorts(count * 2);
  const specs = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    api: `127.0.0.1:${ports[2 * i]}`,
    db: `127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const nodes: DemoNode[] = [];
  const launch = async (spec: (typeof specs)[number]): Promise<DemoNode> => {
    const args = [...(options.args ?? []), "--api", spec.api, "--db", spec.db, "--dir", dir];
    if (spec.index > 1) args.push("--join", specs[0].db);
    const proc = startProcess(
      `node${spec.index}`,
      command,
      args,
      join(dir, `node${spec.index}.log`),
    );
    await waitFor(`${spec.api} to answer HTTP`, async () => {
      if (!proc.alive()) throw new Error(`node${spec.index} exited; see ${proc.logPath}`);
      const response = await fetch(`http://${spec.api}/`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      return true;
    });
    return { ...spec, process: proc };
  };
  const cluster: DemoCluster = {
    dir,
    nodes,
    servers: specs.map((s) => s.db).join(","),
    async restart(index) {
      const node = await launch(specs[index - 1]);
      nodes[index - 1] = node;
      return node;
    },
    async stop() {
      // Followers first: a node hands its role over on SIGTERM, which hangs without a quorum.
      for (const node of [...nodes].reverse()) await node.process.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const spec of specs) nodes.push(await launch(spec));
    const voters = options.voters ?? Math.min(count, 3);
    await waitFor(
      `${voters} voters`,
      async () => {
        const out = await shell(cluster.servers, "demo", ".cluster", 5000);
        const count = out.stdout.split("\n").filter((l) => l.endsWith("|voter")).length;
        return count >= voters ? true : undefined;
      },
      options.timeoutMs ?? 60_000,
      200,
    );
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}

/** Runs Debian's `dqlite` shell once; resolves with its output even when it fails. */
export async function shell(
  servers: string,
  database: string,
  command: string,
  timeoutMs = 10_000,
  extraArgs: string[] = [],
): Promise<{ stdout: string; stderr: string; code: number }> {
  requireRealDqlite();
  try {
    const { stdout, stderr } = await run(
      "/usr/bin/dqlite",
      ["-s", servers, ...extraArgs, database, command],
      { timeout: timeoutMs, killSignal: "SIGKILL" },
    );
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number | string };
    return {
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
      code: typeof e.code === "number" ? e.code : -1,
    };
  }
}
