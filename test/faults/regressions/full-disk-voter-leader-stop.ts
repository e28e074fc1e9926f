// Reproduction of the failed removal of a gracefully stopped leader (short form, 2026-11-26
// 06:20, `set:member` right after `set:disk-full+kill` on the same cluster): a voter's disk is
// full while the leader stops gracefully and is removed.
//
// Seen then: node 1's raft had stopped for good on ENOSPC in the run before (fixed since by
// 05e5007), yet its server answered probes, so the roles loop kept it as an online voter (the
// stability check of that time did not ask voters who leads). The leader's handover promoted a
// stand-by (four voters, one dead), tried to give leadership to node 1 first (failed), lost
// leadership, gave up without demoting itself (fixed since by a084577: a transfer reported as
// failed that moved leadership counts as done) and stopped: two voters of four were left, no
// leader until the stopped node came back, and its removal timed out after 20 s.
//
// Expected: the handover skips to another voter and steps down; the removal succeeds; the
// cluster keeps a leader and takes writes while node 1's disk is still full; once freed, node 1
// serves again and the cluster is stable.
//
//   node --import tsx test/faults/regressions/full-disk-voter-leader-stop.ts
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../../src/client/index.js";
import { Role } from "../../../src/wire/index.js";
import { describeError } from "../describe-error.js";
import { eventually, scenario, step } from "./scenario.js";

await scenario(
  "full-disk-voter-leader-stop",
  { tmpfsNodes: [1], tmpfsSizeMb: 64 },
  async (cluster) => {
    step(`schema: ${(await cluster.request(2, "POST", "/setup")).type}`);
    // Node 1 must be a voter that does not lead. The roles loop promotes the lowest weight first
    // and demotes the highest first, so weigh the others more and ask for node 1's promotion.
    for (const node of cluster.nodes.slice(1)) {
      const client = await Client.connect(node.address, { timeoutMs: 5000 });
      await client.weight(10).finally(() => client.close());
    }
    const address1 = cluster.node(1).address;
    const ready = await eventually(60_000, async () => {
      const members = await cluster.members();
      const voters = members.filter((m) => m.role === Role.Voter);
      const leader = await cluster.leader();
      if (voters.length !== 3 || leader === undefined) return false;
      if (!voters.some((m) => m.address === address1)) {
        const client = await Client.findLeader(cluster.addresses, { timeoutMs: 5000 });
        const id = members.find((m) => m.address === address1)!.id;
        await client.assign(id, Role.Voter, { timeoutMs: 10_000 }).finally(() => client.close());
        return false;
      }
      if (leader === 1) {
        const other = cluster.nodes.find(
          (n) => n.index !== 1 && voters.some((v) => v.address === n.address),
        )!;
        await cluster.transferLeadership(other.index, 10_000);
        return false;
      }
      return true;
    });
    if (!ready) throw new Error("could not make node 1 a voter that does not lead");
    const leader = (await cluster.leader())!;
    const roles = (await cluster.members())
      .map((m) => `n${cluster.nodes.find((n) => n.address === m.address)?.index}:${m.role}`)
      .join(" ");
    step(`node 1 is a voter, n${leader} leads (roles ${roles}; 0 voter, 1 stand-by)`);

    cluster.fillDisk(1);
    step("filled node 1's disk");
    // The open segment is preallocated: node 1 fails once raft needs a new segment or writes a
    // snapshot (every 128 entries here), so write past both.
    let writes = 0;
    for (let i = 0; i < 400; i++) {
      const outcome = await cluster.request(2, "POST", "/set/add", { element: i });
      if (outcome.type === "ok") writes++;
    }
    step(`${writes} of 400 writes succeeded while node 1's disk was full`);

    const started = Date.now();
    const code = await cluster.stopGracefully(leader);
    step(
      `stopped the leader n${leader} gracefully (exit ${code} after ${Date.now() - started} ms)`,
    );
    let removed = true;
    try {
      await cluster.removeMember(leader);
      step(`removed n${leader}`);
    } catch (error) {
      removed = false;
      step(`removal of n${leader} failed: ${describeError(error)}`);
      step(`leaders seen: ${(await cluster.leadership()).views}`);
    }
    const writer = cluster.nodes.find((n) => n.index !== 1 && n.index !== leader)!.index;
    const writable = await eventually(20_000, async () => {
      const outcome = await cluster.request(writer, "POST", "/set/add", { element: 10_000 });
      return outcome.type === "ok";
    });
    step(`writes through n${writer} with node 1's disk still full: ${writable}`);

    cluster.freeDisk(1);
    step("freed node 1's disk");
    await sleep(1000);
    let stable = true;
    try {
      await cluster.waitStable(60_000);
    } catch (error) {
      stable = false;
      step(`not stable: ${describeError(error)}`);
    }
    step(`cluster stable: ${stable}`);
    return removed && writable && stable;
  },
);
