// Membership changes: shrink (stop a node gracefully, remove it from the configuration, wipe its
// data) and grow (start it afresh, joining the cluster as a new node). At least four members stay.
import { RemovalError } from "../cluster.js";
import { describeError } from "../describe-error.js";
import { liveNodes, type Nemesis, restart } from "./nemesis.js";

/** Nemeses that cannot take a cluster's leader away: with only these, a removal must work. */
const HARMLESS_TO_LEADERSHIP: readonly string[] = ["none", "member", "clock"];

export function memberNemesis(): Nemesis {
  let removed: number[] = [];
  return {
    name: "member",
    async start(context) {
      const { cluster, random } = context;
      const members = cluster.nodes.filter((n) => !n.removed).length;
      const live = liveNodes(cluster);
      if (members <= 4 || live.length === 0) return undefined;
      let index = live[Math.floor(random() * live.length)]!;
      // Half of the time the leader, whose handover is the longest (role, then leadership).
      if (random() < 0.5) {
        const leader = await cluster.leader(2000);
        if (leader !== undefined && live.includes(leader)) index = leader;
      }
      if (!cluster.claim(index, "member")) return undefined;
      await cluster.stopGracefully(index);
      try {
        await cluster.removeMember(index);
      } catch (error) {
        // A removal fails only when no leader can be found (every attempt asked every member);
        // with other faults at the same time that is unavailability, not a fault of the system.
        // With a leader, or with no other fault that could have taken it away, it is a finding.
        const { views } = await cluster.leadership();
        const leaderless = error instanceof RemovalError && !error.leaderFound;
        const alone = context.nemeses.every((n) => HARMLESS_TO_LEADERSHIP.includes(n));
        const text = `removing n${index} failed: ${describeError(error)}; leaders seen: ${views}`;
        if (leaderless && !alone) context.log(`${text} (no leader: other faults)`);
        else if (leaderless) context.finding(`${text}: no leader after one graceful stop`);
        else context.finding(text);
        await restart(context, index, "a failed removal");
        cluster.release(index, "member");
        return `removal of n${index} failed (${leaderless ? "no leader" : "with a leader"}), it runs on as a member`;
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
