// The cluster under test: one test app (app/main.ts, embedding a dqlite App) per network
// namespace, started and stopped by pid, with its data directory optionally on a small tmpfs
// (for disk-full faults) and optionally under libfaketime (for clock faults).
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../src/client/index.js";
import { startProcess, type TestProcess, waitFor } from "../harness/processes.js";
import type { Outcome } from "./app/outcome.js";
import { onCleanup, run } from "./net/cleanup.js";
import { ClusterNetwork, type Host } from "./net/network.js";

const APP_MAIN = join(import.meta.dirname, "app", "main.ts");
const DQLITE_PORT = 9001;
const HTTP_PORT = 8080;
export const FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

export interface ClusterOptions {
  size?: number;
  /** dqlite's network latency option: heartbeat 1.5×, election timeout 15× (default 20). */
  latencyMs?: number;
  /** The app's limit for one operation (default 3000). */
  opTimeoutMs?: number;
  /** Nodes (1-based) whose data directory is a tmpfs of `tmpfsSizeMb`. */
  tmpfsNodes?: readonly number[];
  tmpfsSizeMb?: number;
  /** Nodes (1-based) running in disk mode (pages in a file), beside memory-mode ones. */
  diskModeNodes?: readonly number[];
  /** Run the apps under libfaketime (wall clock only) so their clocks can be moved. */
  faketime?: boolean;
  /** Where node logs go (kept after the run). */
  logDir: string;
  /** A deliberate bug for the apps (FAULTS_INJECT), to check that the checkers catch it. */
  inject?: string;
}

/** A removal that did not happen in time; `leaderFound` tells whether any attempt found a leader. */
export class RemovalError extends Error {
  readonly leaderFound: boolean;

  constructor(message: string, leaderFound: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "RemovalError";
    this.leaderFound = leaderFound;
  }
}

/** One node of the cluster: where it lives and its process, if running. */
export interface ClusterNode {
  readonly index: number;
  readonly host: Host;
  readonly dir: string;
  readonly address: string;
  readonly http: string;
  readonly logPath: string;
  process: TestProcess | null;
  paused: boolean;
  /** Removed from the cluster by a membership fault (its data wiped). */
  removed: boolean;
  /** The harness is stopping or killing it: an exit now is no crash. */
  expectingExit: boolean;
  /** Its files were wiped: it must join again as a new node (else it would found a new cluster). */
  wiped: boolean;
  /** The nemesis working on this node right now, so that two never fight over one node. */
  claimedBy: string | null;
}

export class FaultCluster {
  readonly network: ClusterNetwork;
  readonly nodes: readonly ClusterNode[];
  readonly options: Required<Omit<ClusterOptions, "tmpfsNodes" | "diskModeNodes">> & {
    tmpfsNodes: readonly number[];
    diskModeNodes: readonly number[];
  };
  #starts = 0;
  /** Exits nobody asked for (a crash of the app or the node inside it). */
  readonly crashes: string[] = [];

  private constructor(network: ClusterNetwork, options: FaultCluster["options"]) {
    this.network = network;
    this.options = options;
    this.nodes = network.hosts.map((host) => ({
      index: host.index,
      host,
      dir: join(network.runDir, `n${host.index}`),
      address: `${host.ip}:${DQLITE_PORT}`,
      http: `${host.ip}:${HTTP_PORT}`,
      logPath: join(options.logDir, `n${host.index}.log`),
      process: null,
      paused: false,
      removed: false,
      expectingExit: false,
      wiped: false,
      claimedBy: null,
    }));
  }

  /** Builds the network and starts every node: node 1 founds the cluster, the others join it. */
  static async start(options: ClusterOptions): Promise<FaultCluster> {
    const resolved = {
      size: options.size ?? 5,
      latencyMs: options.latencyMs ?? 20,
      opTimeoutMs: options.opTimeoutMs ?? 3000,
      tmpfsNodes: options.tmpfsNodes ?? [],
      tmpfsSizeMb: options.tmpfsSizeMb ?? 64,
      diskModeNodes: options.diskModeNodes ?? [],
      faketime: options.faketime ?? false,
      logDir: options.logDir,
      inject: options.inject ?? "",
    };
    mkdirSync(resolved.logDir, { recursive: true });
    const cluster = new FaultCluster(ClusterNetwork.create(resolved.size), resolved);
    for (const node of cluster.nodes) {
      mkdirSync(node.dir, { recursive: true });
      if (resolved.tmpfsNodes.includes(node.index)) cluster.#mountTmpfs(node);
      if (resolved.faketime) writeFileSync(cluster.#faketimeFile(node), "+0\n");
    }
    const [first, ...rest] = cluster.nodes;
    await cluster.startNode(first!.index, []);
    // Joining one at a time keeps the roles dance short and the machine's two cores calm.
    for (const node of rest) await cluster.startNode(node.index, [first!.address]);
    await cluster.waitStable();
    return cluster;
  }

  node(index: number): ClusterNode {
    const node = this.nodes[index - 1];
    if (!node) throw new RangeError(`no node ${index}`);
    return node;
  }

  get addresses(): string[] {
    return this.nodes.filter((n) => !n.removed).map((n) => n.address);
  }

  #mountTmpfs(node: ClusterNode): void {
    run("mount", [
      "-t",
      "tmpfs",
      "-o",
      `size=${this.options.tmpfsSizeMb}m,mode=0700`,
      "tmpfs",
      node.dir,
    ]);
    onCleanup(`tmpfs ${node.dir}`, () => run("umount", ["-l", node.dir], true));
  }

  #faketimeFile(node: ClusterNode): string {
    return join(this.network.runDir, `n${node.index}.faketime`);
  }

  /** Sets a node's wall-clock offset for libfaketime ("+120", "-3600", "+0"). */
  setClockOffset(index: number, offsetSeconds: number): void {
    if (!this.options.faketime) throw new Error("the cluster was started without faketime");
    const text = offsetSeconds >= 0 ? `+${offsetSeconds}` : `${offsetSeconds}`;
    writeFileSync(this.#faketimeFile(this.node(index)), `${text}\n`);
  }

  /**
   * Starts node `index`'s app (a restart when it has files); `join` lists members to join
   * through on a first start. Resolves once its HTTP endpoint reports the database open.
   */
  async startNode(index: number, join?: readonly string[], timeoutMs = 90_000): Promise<void> {
    const node = this.node(index);
    if (node.process?.alive()) throw new Error(`node ${index} is already running`);
    if (node.wiped && (join === undefined || join.length === 0)) {
      join = this.nodes.filter((n) => n !== node && !n.removed).map((n) => n.address);
    }
    const args = [
      "--import",
      "tsx",
      APP_MAIN,
      "--dir",
      node.dir,
      "--address",
      node.address,
      "--http",
      node.http,
      "--latency-ms",
      String(this.options.latencyMs),
      "--timeout-ms",
      String(this.options.opTimeoutMs),
    ];
    if (join && join.length > 0) args.push("--cluster", join.join(","));
    if (this.options.diskModeNodes.includes(index)) args.push("--disk-mode");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FAULTS_LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? "info",
      FAULTS_INJECT: this.options.inject,
    };
    if (this.options.faketime) {
      Object.assign(env, {
        LD_PRELOAD: FAKETIME_LIBRARY,
        FAKETIME_TIMESTAMP_FILE: this.#faketimeFile(node),
        FAKETIME_NO_CACHE: "1",
        // Only the wall clock moves: raft's timers use the monotonic clock, as a real clock
        // jump (NTP, an operator) would leave it.
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      });
    }
    this.#starts++;
    writeFileSync(
      node.logPath,
      `--- start ${this.#starts} of node ${index} at ${new Date().toISOString()}\n`,
      {
        flag: "a",
      },
    );
    const child = startProcess(
      `n${index}`,
      "ip",
      ["netns", "exec", node.host.namespace, process.execPath, ...args],
      node.logPath,
      env,
    );
    onCleanup(`process of node ${index} (${child.pid})`, () => child.kill("SIGKILL"));
    node.process = child;
    node.paused = false;
    node.removed = false;
    node.expectingExit = false;
    node.wiped = false;
    void child.exited.then((code) => {
      if (node.process === child && !node.expectingExit) {
        this.crashes.push(
          `n${index} (pid ${child.pid}) exited by itself with ${code}; see ${node.logPath}`,
        );
      }
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!child.alive()) {
        throw new Error(
          `node ${index} exited with ${await child.exited} before it was ready (log: ${node.logPath})`,
        );
      }
      const outcome = await this.request(index, "GET", "/health", undefined, 2000);
      if (outcome.type === "ok") return;
      if (Date.now() > deadline) {
        throw new Error(
          `node ${index} not ready after ${timeoutMs} ms: ${outcome.error} (log: ${node.logPath})`,
        );
      }
      await sleep(250);
    }
  }

  /** SIGKILL: the process dies at once, nothing is flushed beyond what was synced. */
  async kill(index: number): Promise<void> {
    const node = this.node(index);
    if (!node.process?.alive()) return;
    node.expectingExit = true;
    if (node.paused) node.process.kill("SIGCONT");
    node.process.kill("SIGKILL");
    await node.process.exited;
    node.paused = false;
  }

  /** SIGTERM: the app hands its role and leadership over and stops. */
  async stopGracefully(index: number, graceMs = 30_000): Promise<number | string | undefined> {
    const node = this.node(index);
    if (!node.process?.alive()) return undefined;
    node.expectingExit = true;
    if (node.paused) this.resume(index);
    return node.process.stop(graceMs);
  }

  pause(index: number): void {
    const node = this.node(index);
    if (!node.process?.alive() || node.paused) return;
    node.process.kill("SIGSTOP");
    node.paused = true;
  }

  resume(index: number): void {
    const node = this.node(index);
    if (!node.process?.alive() || !node.paused) return;
    node.process.kill("SIGCONT");
    node.paused = false;
  }

  /** Claims node `index` for a nemesis; false when another one holds it. */
  claim(index: number, owner: string): boolean {
    const node = this.node(index);
    if (node.claimedBy !== null && node.claimedBy !== owner) return false;
    node.claimedBy = owner;
    return true;
  }

  release(index: number, owner: string): void {
    const node = this.node(index);
    if (node.claimedBy === owner) node.claimedBy = null;
  }

  /** Nodes no nemesis holds. */
  unclaimed(): number[] {
    return this.nodes.filter((n) => n.claimedBy === null).map((n) => n.index);
  }

  running(index: number): boolean {
    return this.node(index).process?.alive() ?? false;
  }

  /** Removes a node's files (after it was removed from the cluster). */
  wipe(index: number): void {
    const node = this.node(index);
    if (node.process?.alive()) throw new Error(`node ${index} is running`);
    if (this.options.tmpfsNodes.includes(index)) {
      run("find", [node.dir, "-mindepth", "1", "-delete"], true);
    } else {
      rmSync(node.dir, { recursive: true, force: true });
      mkdirSync(node.dir, { recursive: true });
    }
    node.wiped = true;
  }

  /** Fills a tmpfs node's disk completely; returns the filler's path. */
  fillDisk(index: number): string {
    const node = this.node(index);
    if (!this.options.tmpfsNodes.includes(index)) throw new Error(`node ${index} has no tmpfs`);
    const filler = join(node.dir, "filler");
    // dd stops with "No space left on device", which is the point.
    run(
      "dd",
      ["if=/dev/zero", `of=${filler}`, "bs=1M", `count=${this.options.tmpfsSizeMb + 1}`],
      true,
    );
    return filler;
  }

  freeDisk(index: number): void {
    const filler = join(this.node(index).dir, "filler");
    if (existsSync(filler)) unlinkSync(filler);
  }

  /** The cluster's members as its leader reports them. */
  async members(timeoutMs = 10_000): Promise<{ id: bigint; address: string; role: number }[]> {
    const client = await Client.findLeader(this.addresses, { timeoutMs });
    try {
      return (await client.cluster({ timeoutMs })).map((n) => ({
        id: n.id,
        address: n.address,
        role: n.role,
      }));
    } finally {
      client.close();
    }
  }

  /** The index of the node that leads now, as leader discovery finds it, or undefined. */
  async leader(timeoutMs = 5000): Promise<number | undefined> {
    try {
      const client = await Client.findLeader(this.addresses, { timeoutMs });
      client.close();
      return this.nodes.find((n) => n.address === client.address)?.index;
    } catch {
      return undefined;
    }
  }

  /**
   * Makes node `index` the leader (it must be a voter): raft's transfer waits until the target
   * has caught up, so afterwards reads through the leader read that node's own copy.
   */
  async transferLeadership(index: number, timeoutMs = 30_000): Promise<boolean> {
    const address = this.node(index).address;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const client = await Client.findLeader(this.addresses, { timeoutMs: 5000 });
        try {
          if (client.address === address) return true;
          const target = (await client.cluster({ timeoutMs: 5000 })).find(
            (n) => n.address === address,
          );
          if (target === undefined || target.role !== 0) return false;
          await client.transfer(target.id, { timeoutMs: 10_000 });
        } finally {
          client.close();
        }
      } catch {
        // A transfer in flight, an election: try again.
      }
      await sleep(500);
    }
    return false;
  }

  /**
   * Removes node `index` from the configuration through the leader, trying again (500 ms apart)
   * for `timeoutMs`. Rejects with a RemovalError that tells whether any attempt found a leader;
   * a removal that went through after its answer was lost counts as done.
   */
  async removeMember(index: number, timeoutMs = 20_000): Promise<void> {
    const address = this.node(index).address;
    let attempts = 0;
    let leaderFound = 0;
    let lastError: unknown;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      attempts++;
      try {
        const client = await Client.findLeader(this.addresses, { timeoutMs: 5000 });
        leaderFound++;
        try {
          const member = (await client.cluster({ timeoutMs: 5000 })).find(
            (n) => n.address === address,
          );
          if (member) await client.remove(member.id, { timeoutMs: 5000 });
          break;
        } finally {
          client.close();
        }
      } catch (error) {
        lastError = error;
      }
      if (Date.now() + 500 >= deadline) {
        // The last answer may have been lost after the removal was made.
        const members = await this.members(5000).catch(() => undefined);
        if (members !== undefined && !members.some((n) => n.address === address)) break;
        throw new RemovalError(
          `removal of node ${index} not done after ${attempts} attempts in ${timeoutMs} ms ` +
            `(a leader was found ${leaderFound} times)`,
          leaderFound > 0,
          { cause: lastError },
        );
      }
      await sleep(500);
    }
    this.node(index).removed = true;
  }

  /**
   * Who each running member node says leads (its address, "none", or the error it gave), and
   * the node that leader discovery finds, if any: asks the cluster whether it has a leader.
   */
  async leadership(timeoutMs = 5000): Promise<{ leader: number | undefined; views: string }> {
    const views: string[] = [];
    for (const node of this.nodes) {
      if (node.removed || !node.process?.alive() || node.paused) continue;
      let seen: string;
      try {
        const client = await Client.connect(node.address, { timeoutMs: 2000 });
        try {
          const leader = await client.leader({ timeoutMs: 2000 });
          seen = leader === undefined ? "none" : this.#name(leader.address);
        } finally {
          client.close();
        }
      } catch (error) {
        seen = `error (${(error as Error).message})`;
      }
      views.push(`n${node.index}: ${seen}`);
    }
    return { leader: await this.leader(timeoutMs), views: views.join(", ") };
  }

  #name(address: string): string {
    const node = this.nodes.find((n) => n.address === address);
    return node ? `n${node.index}` : address;
  }

  /**
   * Waits until every running node serves and the cluster has a leader with all running nodes
   * as members and at least three voters, or throws.
   */
  async waitStable(timeoutMs = 90_000): Promise<void> {
    let reason = "not checked yet";
    const roleNames = ["voter", "stand-by", "spare"];
    await waitFor(
      "a stable cluster",
      async () => {
        for (const node of this.nodes) {
          if (!node.process?.alive() || node.removed) continue;
          const health = await this.request(node.index, "GET", "/health", undefined, 2000);
          if (health.type !== "ok") {
            reason = `n${node.index}'s app is not serving: ${health.error}`;
            return undefined;
          }
        }
        const members = await this.members(5000);
        const running = this.nodes.filter((n) => n.process?.alive() && !n.removed);
        const roles = members
          .map(
            (m) =>
              `${this.nodes.find((n) => n.address === m.address)?.index ?? m.address}:${roleNames[m.role] ?? m.role}`,
          )
          .join(" ");
        const missing = running.filter((n) => !members.some((m) => m.address === n.address));
        if (missing.length > 0) {
          reason = `running nodes ${missing.map((n) => `n${n.index}`).join(" ")} are not members (${roles})`;
          return undefined;
        }
        const voters = members.filter((m) => m.role === 0);
        if (voters.length < Math.min(3, running.length)) {
          reason = `only ${voters.length} voters (${roles})`;
          return undefined;
        }
        // Every running voter must name the same leader (dqlite's other roles always answer
        // "none"): a node that still claims leadership after losing it (or after its raft
        // stopped) would capture clients.
        const seen = new Map<string, string>();
        for (const node of running.filter((n) => voters.some((v) => v.address === n.address))) {
          const client = await Client.connect(node.address, { timeoutMs: 2000 });
          try {
            seen.set(
              `n${node.index}`,
              (await client.leader({ timeoutMs: 2000 }))?.address ?? "none",
            );
          } finally {
            client.close();
          }
        }
        const leaders = new Set(seen.values());
        if (leaders.size !== 1 || leaders.has("none")) {
          reason = `voters disagree on the leader: ${JSON.stringify(Object.fromEntries(seen))}`;
          return undefined;
        }
        return true;
      },
      timeoutMs,
      500,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; last seen: ${reason}`, {
        cause: (error as Error).cause,
      });
    });
  }

  /**
   * One HTTP request to a node's app. A refused connection means the request never arrived
   * (fail); a timeout or a reset means it may have (info).
   */
  async request(
    index: number,
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    timeoutMs?: number,
  ): Promise<Outcome> {
    const node = this.node(index);
    try {
      const response = await fetch(`http://${node.http}${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        signal: AbortSignal.timeout(timeoutMs ?? this.options.opTimeoutMs + 2000),
      });
      return (await response.json()) as Outcome;
    } catch (error) {
      const code = ((error as Error).cause as { code?: string } | undefined)?.code;
      if (code === "ECONNREFUSED") return { type: "fail", error: "connection refused" };
      return {
        type: "info",
        error: `http: ${(error as Error).name} ${code ?? (error as Error).message}`,
      };
    }
  }

  readonly #logOffsets = new Map<number, number>();

  /** Error-level lines (pino level 50 and above) the nodes logged since the last call. */
  newErrorLogLines(max = 20): string[] {
    const lines: string[] = [];
    for (const node of this.nodes) {
      if (!existsSync(node.logPath)) continue;
      const size = statSync(node.logPath).size;
      const from = this.#logOffsets.get(node.index) ?? 0;
      this.#logOffsets.set(node.index, size);
      if (size <= from) continue;
      const text = readFileSync(node.logPath).subarray(from, size).toString("utf8");
      for (const line of text.split("\n")) {
        if (/^\{"level":(5|6)0,/.test(line) && lines.length < max)
          lines.push(`n${node.index}: ${line.slice(0, 300)}`);
      }
    }
    return lines;
  }

  /** Stops every node (SIGKILL) and tears the network down. */
  async close(): Promise<void> {
    for (const node of this.nodes) {
      node.expectingExit = true;
      if (node.process?.alive()) {
        if (node.paused) node.process.kill("SIGCONT");
        node.process.kill("SIGKILL");
        await node.process.exited;
      }
    }
    await sleep(10);
  }
}
