// Network partitions as Jepsen makes them: one node isolated, the cluster cut in halves
// (majority/minority), the leader isolated, a bridge (two sides that share one middle node)
// and a majorities ring (every node sees a majority, no two the same).
import { type Nemesis, shuffle } from "./nemesis.js";

export type PartitionMode = "one" | "halves" | "leader" | "bridge" | "ring";

export function partitionNemesis(modes: readonly PartitionMode[]): Nemesis {
  // Modes are dealt from a shuffled deck, so that a short run goes through different ones.
  let deck: PartitionMode[] = [];
  return {
    name: `partition(${modes.join(",")})`,
    async start({ cluster, random }) {
      const all = cluster.nodes.map((n) => n.index);
      if (deck.length === 0) deck = shuffle(random, modes);
      const mode = deck.pop()!;
      const order = shuffle(random, all);
      switch (mode) {
        case "one":
          await cluster.network.partition([[order[0]!], order.slice(1)]);
          return `isolated n${order[0]}`;
        case "halves": {
          const half = Math.floor(order.length / 2);
          await cluster.network.partition([order.slice(0, half), order.slice(half)]);
          return `halves ${JSON.stringify([order.slice(0, half), order.slice(half)])}`;
        }
        case "leader": {
          const leader = await cluster.leader();
          const target = leader ?? order[0]!;
          await cluster.network.partition([[target], all.filter((i) => i !== target)]);
          return `isolated ${leader === undefined ? "(no leader found) " : "leader "}n${target}`;
        }
        case "bridge": {
          const half = Math.floor(order.length / 2);
          const left = order.slice(0, half);
          const right = order.slice(half + 1);
          const pairs = left.flatMap((a) => right.map((b) => [a, b] as const));
          await cluster.network.cut(pairs);
          return `bridge ${JSON.stringify(left)} <-n${order[half]}-> ${JSON.stringify(right)}`;
        }
        case "ring": {
          const pairs: (readonly [number, number])[] = [];
          for (let i = 0; i < order.length; i++) {
            for (let j = i + 2; j < order.length; j++) {
              if (i === 0 && j === order.length - 1) continue;
              pairs.push([order[i]!, order[j]!]);
            }
          }
          await cluster.network.cut(pairs);
          return `majorities ring ${JSON.stringify(order)}`;
        }
      }
    },
    async stop({ cluster }) {
      await cluster.network.heal();
      return "healed the network";
    },
  };
}
