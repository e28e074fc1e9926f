import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { command, TestCluster } from "./cluster.js";

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test("a leader whose disk fills steps down, and serves again once the disk takes writes", async () => {
  const cluster = await TestCluster.start(3, { disk: true, flakyDisks: true });
  try {
    const leader = await cluster.leader();
    for (let v = 1; v <= 10; v++) await leader.node.apply(command(v));

    leader.diskFull = true;
    await assert.rejects(leader.node.apply(command(11)), { name: "LeadershipLostError" });
    const others = cluster.running().filter((m) => m !== leader);
    const next = await cluster.leader(others);
    assert.notEqual(next.id, leader.id);
    assert.notEqual(leader.node.state, "leader", "the full node no longer claims to lead");
    for (let v = 12; v <= 20; v++) await next.node.apply(command(v));

    leader.diskFull = false;
    // The node restarts from its directory by itself and catches up, without a lost entry.
    await eventually(() => leader.fsm.values().includes(20), "the recovered node to catch up");
    const expected = next.fsm.values();
    assert.deepEqual(leader.fsm.values(), expected);
    for (let v = 1; v <= 10; v++) assert.ok(expected.includes(v), `committed entry ${v} kept`);
    await next.node.transfer(leader.id);
    await leader.node.apply(command(21));
    await eventually(() => others.every((m) => m.fsm.values().includes(21)), "replication");
  } finally {
    await cluster.close();
  }
});
