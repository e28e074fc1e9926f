// Clusters that mix our dqlite-demo and Debian's real one (libdqlite 1.11): every node speaks the
// same client and raft protocols and keeps the same data directory layout, so each node's program
// is chosen separately, and a node can be restarted as the other kind on its own directory.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leaderOf, ourProgram, votersOf } from "./our-cluster.js";
import { freePorts } from "./ports.js";
import { startProcess, type TestProcess, waitFor } from "./processes.js";
import { requireRealDqlite } from "./real-dqlite.js";

export type NodeKind = "ours" | "real";

export interface MixedNode {
  index: number;
  kind: NodeKind;
  api: string;
  db: string;
  process: TestProcess | null;
}

export interface MixedCluster {
  dir: string;
  nodes: MixedNode[];
  addresses(): string[];
  alive(): MixedNode[];
  /** (Re)starts node `index` (1-based) on its own directory, as `kind` (default: as before). */
  start(index: number, kind?: NodeKind): Promise<MixedNode>;
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

function commandFor(kind: NodeKind): { command: string; args: string[] } {
  if (kind === "real") return { command: "/usr/bin/dqlite-demo", args: [] };
  return ourProgram("dqlite-demo");
}

/**
 * Starts nodes of the given kinds; node 1 bootstraps, the others join it. With `initial`, only the
 * first nodes start; the rest are started later with `start(index)`.
 */
export async function startMixedCluster(
  kinds: NodeKind[],
  options: { timeoutMs?: number; initial?: number } = {},
): Promise<MixedCluster> {
  if (kinds.includes("real")) requireRealDqlite();
  const dir = await mkdtemp(join(tmpdir(), "dqlite-mixed-"));
  const ports = await freePorts(kinds.length * 2);
  const nodes: MixedNode[] = kinds.map((kind, i) => ({
    index: i + 1,
    kind,
    api: `127.0.0.1:${ports[2 * i]}`,
    db: `127.0.0.1:${ports[2 * i + 1]}`,
    process: null,
  }));
  const cluster: MixedCluster = {
    dir,
    nodes,
    addresses: () => nodes.map((n) => n.db),
    alive: () => nodes.filter((n) => n.process?.alive()),
    async start(index, kind) {
      const node = nodes[index - 1];
      if (kind) node.kind = kind;
      const program = commandFor(node.kind);
      const args = [...program.args, "--api", node.api, "--db", node.db, "--dir", dir];
      if (index > 1) args.push("--join", nodes[0].db);
      const proc = startProcess(
        `node${index}-${node.kind}`,
        program.command,
        args,
        join(dir, `node${index}.log`),
      );
      node.process = proc;
      try {
        await waitFor(
          `node${index} (${node.kind}) to answer HTTP`,
          async () => {
            if (!proc.alive()) throw new Error(`node${index} exited`);
            const response = await fetch(`http://${node.api}/`, {
              signal: AbortSignal.timeout(2000),
            });
            await response.arrayBuffer();
            return true;
          },
          // A real node answers HTTP only once it joined and took a role, which can take a while
          // when it first installs a large snapshot.
          120_000,
          100,
        );
      } catch (error) {
        const log = await readFile(proc.logPath, "utf8").catch(() => "");
        throw new Error(`${(error as Error).message}; last log lines:\n${log.slice(-2000)}`);
      }
      return node;
    },
    async kill(index, signal = "SIGKILL") {
      const node = nodes[index - 1];
      if (!node.process) return;
      node.process.kill(signal);
      await node.process.exited;
      node.process = null;
    },
    async leaderIndex() {
      const address = await leaderOf(cluster.alive().map((n) => n.db));
      return nodes.findIndex((n) => n.db === address) + 1;
    },
    async stop() {
      const alive = cluster.alive();
      const leader = await leaderOf(alive.map((n) => n.db)).catch(() => undefined);
      const order = [
        ...alive.filter((n) => n.db !== leader).reverse(),
        ...alive.filter((n) => n.db === leader),
      ];
      for (const node of order) await node.process?.stop(10_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    const initial = options.initial ?? kinds.length;
    for (const node of nodes.slice(0, initial)) await cluster.start(node.index);
    const voters = Math.min(initial, 3);
    await waitFor(
      `${voters} voters`,
      async () => ((await votersOf(cluster.addresses())).length >= voters ? true : undefined),
      options.timeoutMs ?? 90_000,
      200,
    );
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
  return cluster;
}
