// The cluster's network: a bridge in the root namespace and one network namespace per node,
// joined by veth pairs, on a random 10.x.y.0/24. Partitions are nftables rules inside the
// namespaces that drop packets from the cut-off peers, so faults are real packet loss.
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { onCleanup, run } from "./cleanup.js";

const execFileAsync = promisify(execFile);

/** Every name this harness gives starts with this, so leftovers can be found and swept. */
export const NAME_PREFIX = "dqf";
/** Where runs keep their marker, data directories and logs. */
export const STATE_ROOT = "/tmp/dqlite-faults";
const STALE_AFTER_MS = 60 * 60 * 1000;

/** One node's place on the network. */
export interface Host {
  /** 1-based. */
  readonly index: number;
  readonly namespace: string;
  readonly ip: string;
}

export class ClusterNetwork {
  readonly runId: string;
  readonly subnet: string;
  readonly bridgeIp: string;
  readonly hosts: readonly Host[];
  readonly runDir: string;
  readonly #bridge: string;

  private constructor(runId: string, prefix: string, hosts: Host[], runDir: string) {
    this.runId = runId;
    this.subnet = `${prefix}.0/24`;
    this.bridgeIp = `${prefix}.1`;
    this.hosts = hosts;
    this.runDir = runDir;
    this.#bridge = `${NAME_PREFIX}${runId}br`;
  }

  /** Creates the bridge and `size` namespaces; everything is registered for cleanup. */
  static create(size: number): ClusterNetwork {
    if (size < 1 || size > 20) throw new RangeError(`cluster size ${size} out of 1..20`);
    sweepStale();
    const runId = randomBytes(3).toString("hex");
    const prefix = pickSubnet();
    const runDir = join(STATE_ROOT, runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "marker"), `${process.pid} ${Date.now()} ${prefix}.0/24\n`);
    onCleanup(`run directory ${runDir}`, () => rmSync(runDir, { recursive: true, force: true }));
    const hosts = Array.from({ length: size }, (_, i) => ({
      index: i + 1,
      namespace: `${NAME_PREFIX}-${runId}-n${i + 1}`,
      ip: `${prefix}.${i + 11}`,
    }));
    const network = new ClusterNetwork(runId, prefix, hosts, runDir);
    network.#build();
    return network;
  }

  #build(): void {
    const bridge = this.#bridge;
    // A fallback route so that nothing for this subnet can leave the machine, even while the
    // bridge is being torn down.
    run("ip", ["route", "add", "blackhole", this.subnet, "metric", "4000"]);
    onCleanup(`route ${this.subnet}`, () => {
      run("ip", ["route", "del", "blackhole", this.subnet, "metric", "4000"], true);
    });
    run("ip", ["link", "add", bridge, "type", "bridge"]);
    onCleanup(`bridge ${bridge}`, () => run("ip", ["link", "del", bridge], true));
    run("ip", ["addr", "add", `${this.bridgeIp}/24`, "dev", bridge]);
    run("ip", ["link", "set", bridge, "up"]);
    for (const host of this.hosts) {
      const outside = `${NAME_PREFIX}${this.runId}v${host.index}`;
      const inside = `${NAME_PREFIX}${this.runId}p${host.index}`;
      run("ip", ["netns", "add", host.namespace]);
      onCleanup(`namespace ${host.namespace}`, () => deleteNamespace(host.namespace));
      run("ip", ["link", "add", outside, "type", "veth", "peer", "name", inside]);
      onCleanup(`veth ${outside}`, () => run("ip", ["link", "del", outside], true));
      run("ip", ["link", "set", inside, "netns", host.namespace]);
      run("ip", ["link", "set", outside, "master", bridge, "up"]);
      const ns = ["-n", host.namespace];
      run("ip", [...ns, "link", "set", inside, "name", "eth0"]);
      run("ip", [...ns, "addr", "add", `${host.ip}/24`, "dev", "eth0"]);
      run("ip", [...ns, "link", "set", "eth0", "up"]);
      run("ip", [...ns, "link", "set", "lo", "up"]);
      nft(host.namespace, [
        "add table inet dqf",
        "add chain inet dqf input { type filter hook input priority 0; policy accept; }",
        "add chain inet dqf loss { type filter hook input priority 1; policy accept; }",
      ]);
    }
  }

  /** Command prefix that runs a program inside `host`'s namespace. */
  exec(host: Host): string[] {
    return ["ip", "netns", "exec", host.namespace];
  }

  /**
   * Cuts the network into the given groups of host indexes: each host drops packets from every
   * host outside its group (hosts in no group keep talking to everyone not listed against them).
   */
  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    const groupOf = new Map<number, number>();
    groups.forEach((group, g) => {
      for (const index of group) groupOf.set(index, g);
    });
    await Promise.all(
      this.hosts.map(async (host) => {
        const mine = groupOf.get(host.index);
        const blocked = this.hosts.filter((other) => {
          const theirs = groupOf.get(other.index);
          return other !== host && mine !== undefined && theirs !== undefined && theirs !== mine;
        });
        await this.#setDrops(host, blocked);
      }),
    );
  }

  /**
   * Drops packets between pairs of hosts (both ways), for partitions that are not a split into
   * groups, like a bridge: two sides that both still reach one host in the middle.
   */
  async cut(pairs: readonly (readonly [number, number])[]): Promise<void> {
    const drops = new Map<number, Set<number>>();
    for (const [a, b] of pairs) {
      drops.set(a, (drops.get(a) ?? new Set()).add(b));
      drops.set(b, (drops.get(b) ?? new Set()).add(a));
    }
    await Promise.all(
      this.hosts.map((host) =>
        this.#setDrops(
          host,
          this.hosts.filter((h) => drops.get(host.index)?.has(h.index)),
        ),
      ),
    );
  }

  /** Removes every partition. */
  async heal(): Promise<void> {
    await Promise.all(this.hosts.map((host) => this.#setDrops(host, [])));
  }

  /** Drops `percent` % of the packets other nodes send to `host` (0 = none). */
  async setLoss(host: Host, percent: number): Promise<void> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      throw new RangeError(`loss ${percent}%`);
    const commands = ["flush chain inet dqf loss"];
    if (percent > 0) {
      commands.push(
        `add rule inet dqf loss ip saddr != ${this.bridgeIp} numgen random mod 100 < ${percent} drop`,
      );
    }
    await nftAsync(host.namespace, commands);
  }

  /** Removes every packet-loss rule. */
  async clearPacketFaults(): Promise<void> {
    await Promise.all(this.hosts.map((host) => this.setLoss(host, 0)));
  }

  async #setDrops(host: Host, blocked: readonly Host[]): Promise<void> {
    const commands = ["flush chain inet dqf input"];
    if (blocked.length > 0) {
      commands.push(
        `add rule inet dqf input ip saddr { ${blocked.map((h) => h.ip).join(", ")} } drop`,
      );
    }
    await nftAsync(host.namespace, commands);
  }
}

function nft(namespace: string, commands: readonly string[]): void {
  run("ip", ["netns", "exec", namespace, "nft", commands.join("; ")]);
}

async function nftAsync(namespace: string, commands: readonly string[]): Promise<void> {
  await execFileAsync("ip", ["netns", "exec", namespace, "nft", commands.join("; ")], {
    timeout: 10_000,
  });
}

function deleteNamespace(namespace: string): void {
  // Processes still inside would keep the namespace's network alive: kill them first.
  for (const pid of run("ip", ["netns", "pids", namespace], true).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  run("ip", ["netns", "del", namespace], true);
}

/** A 10.x.y.0/24 that no route or address of this machine uses yet. */
function pickSubnet(): string {
  const routes = run("ip", ["-4", "route", "show", "table", "all"], true);
  for (let attempt = 0; attempt < 100; attempt++) {
    const prefix = `10.${randomInt(16, 250)}.${randomInt(1, 250)}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error("no free 10.x.y.0/24 found for the fault-injection network");
}

/**
 * Removes what earlier runs of this harness left behind (a crash, a SIGKILL) once their marker
 * is more than an hour old: their processes, namespaces, links, routes, mounts and files.
 */
export function sweepStale(now = Date.now()): string[] {
  if (!existsSync(STATE_ROOT)) return [];
  const swept: string[] = [];
  for (const runId of readdirSync(STATE_ROOT)) {
    if (!/^[0-9a-f]{6}$/.test(runId)) continue;
    const dir = join(STATE_ROOT, runId);
    const marker = join(dir, "marker");
    const ageMs = now - (existsSync(marker) ? statSync(marker).mtimeMs : statSync(dir).mtimeMs);
    if (ageMs < STALE_AFTER_MS) continue;
    const subnet = existsSync(marker)
      ? readFileSync(marker, "utf8").trim().split(" ")[2]
      : undefined;
    for (const namespace of run("ip", ["netns", "list"], true).split("\n")) {
      const name = namespace.split(" ")[0] ?? "";
      if (name.startsWith(`${NAME_PREFIX}-${runId}-`)) deleteNamespace(name);
    }
    for (const line of run("ip", ["-o", "link", "show"], true).split("\n")) {
      const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
      if (name?.startsWith(`${NAME_PREFIX}${runId}`)) run("ip", ["link", "del", name], true);
    }
    if (subnet && /^10\.\d+\.\d+\.0\/24$/.test(subnet)) {
      run("ip", ["route", "del", "blackhole", subnet, "metric", "4000"], true);
    }
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const target = line.split(" ")[1];
      if (target?.startsWith(`${dir}/`)) run("umount", ["-l", target], true);
    }
    rmSync(dir, { recursive: true, force: true });
    swept.push(runId);
  }
  return swept;
}
