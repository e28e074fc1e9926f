// Clock jumps through libfaketime on the wall clock only. Raft's timers use the monotonic clock
// (performance.now, libuv), so these must change nothing; they check that no deadline, lease
// or file name of ours depends on wall time.
import { type Nemesis, shuffle } from "./nemesis.js";

export function clockNemesis(): Nemesis {
  return {
    name: "clock",
    async start({ cluster, random }) {
      const chosen = shuffle(
        random,
        cluster.nodes.map((n) => n.index),
      ).slice(0, 1 + Math.floor(random() * 3));
      const moves = chosen.map((index) => {
        const magnitude = [5, 60, 600, 3600, 86_400][Math.floor(random() * 5)]!;
        const offset = Math.round((random() < 0.5 ? -1 : 1) * magnitude * (0.5 + random()));
        cluster.setClockOffset(index, offset);
        return `n${index} ${offset >= 0 ? "+" : ""}${offset}s`;
      });
      return `clock jumps ${moves.join(", ")}`;
    },
    async stop({ cluster }) {
      for (const node of cluster.nodes) cluster.setClockOffset(node.index, 0);
      return "clocks reset";
    },
  };
}
