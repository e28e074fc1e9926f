import { describeError } from "../describe-error.js";
// Membership changes: shrink (stop a node gracefully, remove it from the configuration, wipe its
// data) and grow (start it afresh, joining the cluster as a new node). At least four members stay.
import { liveNodes, type Nemesis, restart } from "./nemesis.js";

export function memberNemesis(): Nemesis {
  let removed: number[] = [];
  return {
    name: "member",
    async start(context) {
      const { cluster, random } = context;
      const members = cluster.nodes.filter((n) => !n.removed).length;
      const live = liveNodes(cluster);
      if (members <= 4 || live.length === 0) return undefined;
      const index = live[Math.floor(random() * live.length)]!;
      if (!cluster.claim(index, "member")) return undefined;
      await cluster.stopGracefully(index);
      try {
        await cluster.removeMember(index);
      } catch (error) {
        // Without a leader (other faults at the same time) a removal cannot happen: that is
        // unavailability, not a fault of the system. The node comes back as it was.
        context.log(`removing n${index} failed: ${describeError(error)}`);
        await restart(context, index, "a failed removal");
        cluster.release(index, "member");
        return `removal of n${index} failed (no leader?), it runs on as a member`;
      }
      cluster.wipe(index);
      removed = [index];
      return `removed n${index} (stopped, removed, wiped)`;
    },
    async stop(context) {
      const { cluster } = context;
      const notes = [];
      for (const index of removed) {
        try {
          await cluster.startNode(index, cluster.addresses);
          notes.push(`n${index} joined again as a new node`);
        } catch (error) {
          context.finding(`n${index} could not join again: ${describeError(error)}`);
          notes.push(`join of n${index} FAILED`);
        }
        cluster.release(index, "member");
      }
      removed = [];
      return notes.join(", ");
    },
  };
}
