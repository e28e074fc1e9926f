// Clusters of our Node, one process per node (test/server/node-main.ts), on random loopback ports
// with their own temporary directories. Processes are stopped by pid.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOOTSTRAP_ID, generateId } from "../../src/server/node.js";
import { freePorts } from "./ports.js";
import { startProcess, type TestProcess, waitFor } from "./processes.js";

const MAIN = join(import.meta.dirname, "..", "server", "node-main.ts");

export interface ClusterNode {
  index: number;
  id: bigint;
  address: string;
  dataDir: string;
  process: TestProcess | null;
}

export interface NodeCluster {
  dir: string;
  nodes: ClusterNode[];
  addresses(): string[];
  /** Starts node `index` (1-based) again on its own directory and address. */
  restart(index: number): Promise<ClusterNode>;
  kill(index: number): Promise<void>;
  /** Kills node `index` and deletes its data directory: the node is gone for good. */
  destroy(index: number): Promise<void>;
  /**
   * Starts node `index` as a brand-new node on its old address: a new id and an empty data
   * directory, joining nobody (an operator adds it).
   */
  startFresh(index: number): Promise<ClusterNode>;
  /** What node `index` printed so far, over all its runs (see node-main.ts). */
  log(index: number): Promise<string>;
  stop(): Promise<void>;
}

export interface NodeClusterOptions {
  env?: NodeJS.ProcessEnv;
}

async function launch(node: ClusterNode, join: string | undefined, env: NodeJS.ProcessEnv) {
  const args = ["--import", "tsx", MAIN, String(node.id), node.address, node.dataDir];
  if (join) args.push(join);
  const log = `${node.dataDir}.log`;
  const proc = startProcess(`node${node.index}`, process.execPath, args, log, {
    ...process.env,
    ...env,
  });
  await waitFor(
    `node${node.index} to be ready`,
    async () => {
      if (!proc.alive()) throw new Error(`node${node.index} exited; see ${log}`);
      const text = await readFile(log, "utf8").catch(() => "");
      return text.includes("ready ") ? true : undefined;
    },
    60_000,
  );
  node.process = proc;
}

/** Starts `count` nodes: node 1 bootstraps, the others join it as voters one by one. */
export async function startNodeCluster(
  count: number,
  options: NodeClusterOptions = {},
): Promise<NodeCluster> {
  const dir = await mkdtemp(join(tmpdir(), "dqlite-ts-cluster-"));
  const ports = await freePorts(count);
  const env = options.env ?? {};
  const nodes: ClusterNode[] = ports.map((port, i) => {
    const address = `127.0.0.1:${port}`;
    return {
      index: i + 1,
      id: i === 0 ? BOOTSTRAP_ID : generateId(address),
      address,
      dataDir: join(dir, `node${i + 1}`),
      process: null,
    };
  });
  const cluster: NodeCluster = {
    dir,
    nodes,
    addresses: () => nodes.map((n) => n.address),
    async restart(index) {
      const node = nodes[index - 1];
      await launch(node, undefined, { ...env, ALREADY_MEMBER: "1" });
      return node;
    },
    async kill(index) {
      const node = nodes[index - 1];
      node.process?.kill("SIGKILL");
      await node.process?.exited;
      node.process = null;
    },
    async destroy(index) {
      await cluster.kill(index);
      await rm(nodes[index - 1].dataDir, { recursive: true, force: true });
    },
    async startFresh(index) {
      const node = nodes[index - 1];
      node.id = generateId(node.address);
      await launch(node, undefined, env);
      return node;
    },
    async log(index) {
      return await readFile(`${nodes[index - 1].dataDir}.log`, "utf8").catch(() => "");
    },
    async stop() {
      for (const node of nodes) await node.process?.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const node of nodes)
      await launch(node, node.index > 1 ? nodes[0].address : undefined, env);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
