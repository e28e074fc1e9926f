// Clusters of our `dqlite-demo` (run from the TypeScript sources through tsx), the counterpart of
// real-dqlite.ts's Debian clusters: random free loopback ports, an own temporary directory, every
// process stopped by its pid. Readiness is checked with our client, so no Debian tool is needed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "../../src/client/index.js";
import { freePorts } from "./ports.js";
import { startProcess, waitFor } from "./processes.js";
import type { DemoCluster, DemoNode } from "./real-dqlite.js";

export type { DemoCluster, DemoNode } from "./real-dqlite.js";

const SOURCES = resolve(import.meta.dirname, "..", "..", "src", "cli");

/** The programs of bin/, run from the sources. */
export type OurProgram = "dqlite" | "dqlite-demo" | "dqlite-benchmark";

/** Command and leading arguments that run one of our programs from its TypeScript sources. */
export function ourProgram(name: OurProgram): { command: string; args: string[] } {
  const url = pathToFileURL(join(SOURCES, `${name}.ts`)).href;
  const script = `const { main } = await import(${JSON.stringify(url)}); process.exitCode = await main(process.argv.slice(1));`;
  return {
    command: process.execPath,
    args: ["--import", "tsx", "--input-type=module", "--eval", script, "--"],
  };
}

export interface OurClusterOptions {
  /** Extra dqlite-demo flags for every node (e.g. --verbose). */
  args?: string[];
  /** How long to wait for the voters (default 60 s). */
  timeoutMs?: number;
  /** Voters to wait for (default min(count, 3)). */
  voters?: number;
}

/** The voters the cluster reports, asked of whichever node answers. */
export async function votersOf(addresses: readonly string[]): Promise<string[]> {
  const leader = await Client.findLeader(addresses, { timeoutMs: 5000 });
  try {
    const nodes = await leader.cluster({ timeoutMs: 5000 });
    return nodes.filter((node) => node.role === 0).map((node) => node.address);
  } finally {
    leader.close();
  }
}

/** The address of the current leader, as the cluster reports it. */
export async function leaderOf(addresses: readonly string[]): Promise<string> {
  const client = await Client.findLeader(addresses, { timeoutMs: 10_000 });
  client.close();
  return client.address;
}

/** Starts `count` of our dqlite-demo nodes; nodes 2.. join node 1. */
export async function startOurDemoCluster(
  count: number,
  options: OurClusterOptions = {},
): Promise<DemoCluster> {
  const program = ourProgram("dqlite-demo");
  const dir = await mkdtemp(join(tmpdir(), "dqlite-ts-demo-"));
  const ports = await freePorts(count * 2);
  const specs = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    api: `127.0.0.1:${ports[2 * i]}`,
    db: `127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const nodes: DemoNode[] = [];
  const launch = async (spec: (typeof specs)[number]): Promise<DemoNode> => {
    const args = [
      ...program.args,
      ...(options.args ?? []),
      "--api",
      spec.api,
      "--db",
      spec.db,
      "--dir",
      dir,
    ];
    if (spec.index > 1) args.push("--join", specs[0].db);
    const proc = startProcess(
      `node${spec.index}`,
      program.command,
      args,
      join(dir, `node${spec.index}.log`),
    );
    await waitFor(
      `${spec.api} to answer HTTP`,
      async () => {
        if (!proc.alive()) throw new Error(`node${spec.index} exited; see ${proc.logPath}`);
        const response = await fetch(`http://${spec.api}/`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        return true;
      },
      60_000,
      100,
    );
    return { ...spec, process: proc };
  };
  const addresses = specs.map((s) => s.db);
  const cluster: DemoCluster = {
    dir,
    nodes,
    servers: addresses.join(","),
    async restart(index) {
      const node = await launch(specs[index - 1]);
      nodes[index - 1] = node;
      return node;
    },
    async stop() {
      // Followers first: the leader hands over on SIGTERM, which needs the others alive.
      const alive = nodes.filter((node) => node.process.alive());
      let leader: string | undefined;
      if (alive.length > 0) {
        leader = await leaderOf(alive.map((node) => node.db)).catch(() => undefined);
      }
      const order = [
        ...alive.filter((node) => node.db !== leader).reverse(),
        ...alive.filter((node) => node.db === leader),
      ];
      for (const node of order) await node.process.stop(10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const spec of specs) nodes.push(await launch(spec));
    const voters = options.voters ?? Math.min(count, 3);
    await waitFor(
      `${voters} voters`,
      async () => ((await votersOf(addresses)).length >= voters ? true : undefined),
      options.timeoutMs ?? 60_000,
      200,
    );
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}
