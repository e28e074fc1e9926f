// The known design gap of dqlite (no lease, no read-index): a leader cut off from the others
// may keep serving reads after the majority has elected a new leader and committed writes.
//
// Scenario: write 1 to a register through the leader L; cut L off from every other node; then,
// at the same time, keep writing 2 through the majority's side until it is acknowledged and keep
// reading through L. A read on L that returns 1 after the write of 2 was acknowledged (i.e. it
// began later) is a stale read: the history is not linearizable. Repeated a few times.
//
//   node --import tsx test/faults/regressions/isolated-leader-stale-read.ts
import { setTimeout as sleep } from "node:timers/promises";
import { Client, connect } from "../../../src/client/index.js";
import { scenario, step } from "./scenario.js";

const ROUNDS = 3;

await scenario("isolated-leader-stale-read", { size: 5 }, async (cluster) => {
  await cluster.request(1, "POST", "/setup");
  let stale = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = 100 + round;
    const leader = await cluster.leader();
    if (leader === undefined) throw new Error("no leader");
    const first = await cluster.request(leader, "POST", "/register", { f: "write", key, value: 1 });
    if (first.type !== "ok") throw new Error(`initial write: ${first.error}`);
    await cluster.network.partition([
      [leader],
      cluster.nodes.map((n) => n.index).filter((i) => i !== leader),
    ]);
    const cutAt = Date.now();
    step(`round ${round}: cut off leader n${leader}`);

    let writeAckedAt: number | undefined;
    let newLeaderMs: number | undefined;
    let lastOldLeaderRead: { value: unknown; startedMs: number } | undefined;
    let oldLeaderStoppedMs: number | undefined;
    // The writer talks to the majority's side directly, so that it reaches a new leader as soon
    // as there is one (the apps there still hold connections to the old leader for a while).
    const majority = cluster.nodes.filter((n) => n.index !== leader).map((n) => n.address);
    const writer = (async () => {
      const db = await connect({ cluster: majority, database: "faults", timeoutMs: 20_000 });
      try {
        const found = await Client.findLeader(majority, { timeoutMs: 20_000 });
        newLeaderMs = Date.now() - cutAt;
        found.close();
        // Writing 2 again is harmless, so an attempt with an unknown outcome is simply repeated.
        while (writeAckedAt === undefined && Date.now() - cutAt < 20_000) {
          try {
            await db.exec(
              "INSERT INTO registers (k, v) VALUES (?, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
              [key],
            );
            writeAckedAt = Date.now();
          } catch {
            await sleep(10);
          }
        }
      } finally {
        await db.close();
      }
    })();
    const reader = (async () => {
      while (Date.now() - cutAt < 20_000) {
        const startedAt = Date.now();
        const outcome = await cluster.request(
          leader,
          "POST",
          "/register",
          { f: "read", key },
          3000,
        );
        if (outcome.type !== "ok") {
          oldLeaderStoppedMs ??= startedAt - cutAt;
          if (writeAckedAt !== undefined) break;
          continue;
        }
        lastOldLeaderRead = { value: outcome.value, startedMs: startedAt - cutAt };
        if (writeAckedAt !== undefined && startedAt > writeAckedAt && outcome.value === 1) {
          stale++;
          step(
            `  STALE: read began ${startedAt - writeAckedAt} ms after the write of 2 was acknowledged, returned 1`,
          );
        }
        await sleep(5);
      }
    })();
    await Promise.all([writer, reader]);
    step(
      `  old leader stopped serving reads ${oldLeaderStoppedMs ?? "never"} ms after the cut; ` +
        `the majority found a new leader after ${newLeaderMs} ms; ` +
        `write of 2 acknowledged ${writeAckedAt === undefined ? "never" : writeAckedAt - cutAt} ms after; ` +
        `last read on the old leader began at ${lastOldLeaderRead?.startedMs} ms and returned ${lastOldLeaderRead?.value}`,
    );
    await cluster.network.heal();
    await cluster.waitStable();
  }
  step(`${stale} stale reads in ${ROUNDS} rounds`);
  return stale === 0;
});
