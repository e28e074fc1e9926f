// Clusters of Apps in this process for the app tests: fixed free ports on 127.0.0.1, one
// directory per node, fast elections, short adjustment periods, and logs kept in memory.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../src/app/app.js";
import type { AppOptions } from "../../src/app/options.js";
import type { NodeInfo } from "../../src/client/index.js";
import type { Logger } from "../../src/server/index.js";
import { Role } from "../../src/wire/index.js";
import { waitFor } from "../harness/processes.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line (bounded), for checks and for printing when a test fails. */
export function memoryLogger(prefix: string, lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const keep = (level: LogLine["level"]) => (fields: Record<string, unknown>, message: string) => {
    if (lines.length < 10_000) lines.push({ level, message: `${prefix}: ${message}`, fields });
    if (process.env.APP_TEST_LOG) {
      console.error(
        new Date().toISOString(),
        level,
        prefix,
        message,
        JSON.stringify(fields, (_, v) => (typeof v === "bigint" ? String(v) : v)),
      );
    }
  };
  return {
    lines,
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
}

/** A seeded generator (mulberry32) for the roles algorithm's tie-breaks. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class AppCluster {
  readonly base: string;
  readonly addresses: string[];
  readonly apps: (App | null)[];
  readonly logs: LogLine[] = [];
  readonly #common: AppOptions;

  private constructor(base: string, addresses: string[], common: AppOptions) {
    this.base = base;
    this.addresses = addresses;
    this.apps = addresses.map(() => null);
    this.#common = common;
  }

  /** Reserves `size` ports and directories; nodes start with `start`. */
  static async create(size: number, common: AppOptions = {}): Promise<AppCluster> {
    const base = await mkdtemp(join(tmpdir(), "app-cluster-"));
    const ports = await stablePorts(size);
    return new AppCluster(
      base,
      ports.map((port) => `127.0.0.1:${port}`),
      common,
    );
  }

  dir(index: number): string {
    return join(this.base, `node${index}`);
  }

  /**
   * Starts node `index`: the first start of node 0 founds the cluster, other first starts join
   * through node 0's address only; a restart passes no address and no cluster at all.
   */
  async start(
    index: number,
    options: AppOptions & { restart?: boolean; onCreated?: (app: App) => void } = {},
  ): Promise<App> {
    const { restart, onCreated, ...rest } = options;
    const app = await App.create(this.dir(index), {
      // Elections after 450 ms: fast, yet a loaded machine rarely stalls the one event loop
      // these nodes share for that long.
      networkLatencyMs: 30,
      rolesAdjustmentFrequencyMs: 200,
      random: seeded(index + 1),
      logger: memoryLogger(`node${index}`, this.logs),
      ...this.#common,
      ...(restart
        ? {}
        : { address: this.addresses[index], cluster: index === 0 ? [] : [this.addresses[0]] }),
      ...rest,
    });
    this.apps[index] = app;
    // E.g. a server handing connections to the App: it needs them before it can be ready.
    onCreated?.(app);
    await app.ready({ signal: AbortSignal.timeout(30_000) });
    return app;
  }

  /** Stops node `index`; without handover it just goes offline. */
  async stop(index: number, handover = false): Promise<void> {
    const app = this.apps[index];
    this.apps[index] = null;
    await app?.close({ handover });
  }

  /** Any running App (for leader searches). */
  running(): App {
    const app = this.apps.find((a) => a !== null);
    if (!app) throw new Error("no App is running");
    return app;
  }

  /** The cluster's members as its leader reports them. */
  async members(): Promise<NodeInfo[]> {
    const client = await this.running().leader({ timeoutMs: 10_000 });
    try {
      return await client.cluster();
    } finally {
      client.close();
    }
  }

  /** Index of the node at `address`. */
  indexOf(address: string): number {
    return this.addresses.indexOf(address);
  }

  /** Waits until the members' roles satisfy `check`; returns them. */
  async waitForRoles(
    what: string,
    check: (members: NodeInfo[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<NodeInfo[]> {
    let last: NodeInfo[] = [];
    try {
      return await waitFor(
        what,
        async () => {
          last = await this.members();
          return check(last) ? last : undefined;
        },
        timeoutMs,
        100,
      );
    } catch (error) {
      const seen = last.map((m) => `node${this.indexOf(m.address)}=${m.role}`).join(" ");
      const up = this.apps.map((app, i) => (app ? i : -1)).filter((i) => i >= 0);
      const warnings = this.logs
        .filter((l) => l.level !== "debug" && l.level !== "info")
        .slice(-10)
        .map((l) => `${l.message} ${JSON.stringify(l.fields)}`);
      throw new Error(
        `${(error as Error).message}; last roles: ${seen}; running: ${up.join(",")}; last warnings:\n${warnings.join("\n")}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    for (let i = 0; i < this.apps.length; i++) await this.stop(i).catch(() => {});
    await rm(this.base, { recursive: true, force: true });
  }
}

// Below Linux's ephemeral range (32768-60999): a stopped node's port must still be free when
// it restarts, and outgoing connections of other tests take their local ports from that range.
const STABLE_PORT_MIN = 20_000;
const STABLE_PORT_MAX = 32_000;

/** Distinct ports outside the ephemeral range that could be bound a moment ago. */
export async function stablePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 1000) throw new Error("no free port found below the ephemeral range");
    const port = STABLE_PORT_MIN + Math.floor(Math.random() * (STABLE_PORT_MAX - STABLE_PORT_MIN));
    if (!ports.has(port) && (await canBind(port))) ports.add(port);
  }
  return [...ports];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** How many members have each role: [voters, stand-bys, spares]. */
export function roleCounts(members: readonly NodeInfo[], among?: readonly string[]): number[] {
  const counted = among ? members.filter((m) => among.includes(m.address)) : members;
  return [Role.Voter, Role.StandBy, Role.Spare].map(
    (role) => counted.filter((m) => m.role === role).length,
  );
}
