// Reproduction: the leader's disk fills up while clients write, then is freed again.
//
// Expected (dqlite/libraft): the failed appends are errors of those writes; the node steps down
// or keeps retrying, and once space is back it serves again without an operator.
// Seen: raft stops on the first ENOSPC ("raft stopped on a fatal error") and never restarts,
// while the process lives on and keeps answering the client protocol, so after the disk is
// freed the node stays useless; when it was a voter the remaining voters may lack a quorum.
//
//   node --import tsx test/faults/regressions/disk-full-leader.ts
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, leaderSeenBy, scenario, step } from "./scenario.js";

await scenario(
  "disk-full-leader",
  { size: 3, tmpfsNodes: [1], tmpfsSizeMb: 64 },
  async (cluster) => {
    const setup = await cluster.request(1, "POST", "/setup");
    step(`schema: ${setup.type}`);
    const leader = await cluster.leader();
    step(`leader is n${leader} (node 1 has the tmpfs)`);
    if (leader !== 1) throw new Error("scenario needs node 1 to lead; rerun");
    for (let i = 0; i < 10; i++) await cluster.request(2, "POST", "/set/add", { element: i });

    cluster.fillDisk(1);
    step("filled node 1's disk");
    // The open segment is preallocated: writes fail only once raft needs a new segment or
    // writes a snapshot (every 128 entries here), so write past both.
    let oks = 0;
    let failures = 0;
    for (let i = 10; i < 1000 && failures < 5; i++) {
      const outcome = await cluster.request(2, "POST", "/set/add", { element: i });
      if (outcome.type === "ok") oks++;
      else {
        failures++;
        step(`write ${i} while full: ${outcome.type} ${outcome.error ?? ""}`);
      }
    }
    step(`${oks} writes succeeded while the disk was full`);
    await sleep(2000);
    cluster.freeDisk(1);
    step("freed node 1's disk");
    step(`node 1 says the leader is ${await leaderSeenBy(cluster.node(1).address)}`);

    const clusterWrites = await eventually(30_000, async () => {
      const outcome = await cluster.request(2, "POST", "/set/add", {
        element: 100 + Math.floor(Math.random() * 1e6),
      });
      return outcome.type === "ok";
    });
    step(`writes through node 2 succeed again: ${clusterWrites}`);
    const nodeServes = await eventually(30_000, async () => {
      const outcome = await cluster.request(1, "POST", "/set/add", {
        element: 2_000_000 + Math.floor(Math.random() * 1e6),
      });
      if (outcome.type !== "ok")
        step(`  write through node 1: ${outcome.type} ${outcome.error ?? ""}`);
      return outcome.type === "ok";
    });
    step(`writes through node 1 succeed again: ${nodeServes}`);
    step(`node 1 says the leader is ${await leaderSeenBy(cluster.node(1).address)}`);
    step(`node 2 says the leader is ${await leaderSeenBy(cluster.node(2).address)}`);
    return clusterWrites && nodeServes;
  },
);
