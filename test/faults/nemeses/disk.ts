// Disk full: the nodes whose data directory is a small tmpfs get it filled to the last byte, and
// freed again. The node must keep running (or at least restart) and catch up by itself.
import { liveNodes, type Nemesis, restart } from "./nemesis.js";

export function diskFullNemesis(): Nemesis {
  let filled: number[] = [];
  return {
    name: "disk-full",
    async start({ cluster, random }) {
      const candidates = cluster.options.tmpfsNodes.filter((i) => liveNodes(cluster).includes(i));
      if (candidates.length === 0) return undefined;
      const index = candidates[Math.floor(random() * candidates.length)]!;
      if (!cluster.claim(index, "disk-full")) return undefined;
      cluster.fillDisk(index);
      filled = [index];
      return `filled the disk of n${index}`;
    },
    async stop(context) {
      const notes = [];
      for (const index of filled) {
        context.cluster.freeDisk(index);
        notes.push(`freed the disk of n${index}`);
        // A crash while the disk was full is reported by the cluster's crash watch; a node
        // that is down now (crashed, or killed by another nemesis) must come back by itself.
        if (!context.cluster.running(index) && !context.cluster.node(index).removed) {
          notes.push(await restart(context, index, "disk full"));
        }
        context.cluster.release(index, "disk-full");
      }
      filled = [];
      return notes.join(", ");
    },
  };
}
