// A leader that stops for a while (a long GC pause, SIGSTOP, a VM migration) while the others
// elect a new leader and commit writes, and that then gets a read before anything else.
//
// Scenario: a client opens a connection to the leader L and reads the register (1); L is cut
// off and paused (SIGSTOP); the majority elects a new leader and acknowledges a write of 2; the
// client sends its next read to L while L is still stopped; then L is resumed. If L answers 1,
// that read (which began after the write of 2 was acknowledged) is stale: not linearizable.
// A leader must check that its leadership is still current (lease or read-index, measured in
// elapsed time, not in timer ticks) before it serves a read.
//
//   node --import tsx test/faults/regressions/paused-leader-stale-read.ts
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../../../src/client/index.js";
import { scenario, step } from "./scenario.js";

const ROUNDS = 3;

await scenario("paused-leader-stale-read", { size: 5 }, async (cluster) => {
  await cluster.request(1, "POST", "/setup");
  let stale = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = 200 + round;
    const leader = await cluster.leader();
    if (leader === undefined) throw new Error("no leader");
    const others = cluster.nodes.filter((n) => n.index !== leader);
    const first = await cluster.request(leader, "POST", "/register", { f: "write", key, value: 1 });
    if (first.type !== "ok") throw new Error(`initial write: ${first.error}`);

    // Only the old leader's address: this connection stays on it.
    const onOldLeader = await connect({
      cluster: [cluster.node(leader).address],
      database: "faults",
      timeoutMs: 30_000,
    });
    const read = async () =>
      (await onOldLeader.get<{ v: number }>("SELECT v FROM registers WHERE k = ?", [key]))?.v;
    step(`round ${round}: leader n${leader} reads ${await read()}`);

    await cluster.network.partition([[leader], others.map((n) => n.index)]);
    cluster.pause(leader);
    const pausedAt = Date.now();
    const majority = await connect({
      cluster: others.map((n) => n.address),
      database: "faults",
      timeoutMs: 30_000,
    });
    let ackedAt: number | undefined;
    while (ackedAt === undefined && Date.now() - pausedAt < 30_000) {
      try {
        await majority.exec(
          "INSERT INTO registers (k, v) VALUES (?, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
          [key],
        );
        ackedAt = Date.now();
      } catch {
        await sleep(20);
      }
    }
    await majority.close();
    if (ackedAt === undefined) throw new Error("the majority never acknowledged the write");
    step(
      `  n${leader} paused and cut off; the majority acknowledged 2 after ${ackedAt - pausedAt} ms`,
    );

    // The read is sent while the old leader is still stopped, then it wakes up.
    const pending = read().then(
      (value) => ({ value }),
      (error: Error) => ({ error: error.message }),
    );
    await sleep(200);
    cluster.resume(leader);
    const answer = await pending;
    step(
      `  read sent to the paused n${leader} after the acknowledgement, answered after resume: ${JSON.stringify(answer)}`,
    );
    if ("value" in answer && answer.value === 1) {
      stale++;
      step("  STALE READ: 1 after 2 was acknowledged");
    }
    await onOldLeader.close().catch(() => {});
    await cluster.network.heal();
    await cluster.waitStable();
  }
  step(`${stale} stale reads in ${ROUNDS} rounds`);
  return stale === 0;
});
