// A bad network without a partition (Jepsen's packet faults): random loss of packets between
// nodes (clients' traffic spared), then back to normal. nftables' numgen does the dropping;
// this kernel has no netem, so there are no delay, duplication or reordering faults.
import { type Nemesis, shuffle } from "./nemesis.js";

const LOSS_PERCENTS = [5, 10, 20, 35] as const;

export function packetNemesis(): Nemesis {
  let affected: number[] = [];
  return {
    name: "packet",
    async start({ cluster, random }) {
      const percent = LOSS_PERCENTS[Math.floor(random() * LOSS_PERCENTS.length)]!;
      const hosts = shuffle(random, cluster.network.hosts).slice(
        0,
        1 + Math.floor(random() * cluster.network.hosts.length),
      );
      for (const host of hosts) await cluster.network.setLoss(host, percent);
      affected = hosts.map((h) => h.index);
      return `${percent}% packet loss into ${affected.map((i) => `n${i}`).join(" ")}`;
    },
    async stop({ cluster }) {
      for (const index of affected)
        await cluster.network.setLoss(cluster.network.hosts[index - 1]!, 0);
      affected = [];
      return "no more packet loss";
    },
  };
}
