import assert from "node:assert/strict";
import { test } from "node:test";
import { command, TestCluster } from "./cluster.js";

// When the leader's process dies, its connections close and its port refuses new ones: the
// followers need not wait for the election timeout. The timeout here is 5 s (the followers'
// timers restart with every heartbeat), so a leader elected within 4 s of the death can only
// come from that early path.
test("followers elect a new leader at once when the leader's port refuses connections", async () => {
  const cluster = await TestCluster.start(3, {
    heartbeatTimeoutMs: 200,
    electionTimeoutMs: 5000,
  });
  try {
    const leader = await cluster.leader(undefined, 30_000);
    await leader.node.apply(command(1));
    // The process "dies": its listener and its connections go away.
    leader.server.close(); // stops listening at once; the callback would wait for connections
    await leader.node.close();
    const others = cluster.running().filter((m) => m !== leader);
    const next = await cluster.leader(others, 4000);
    assert.notEqual(next.id, leader.id);
    await next.node.apply(command(2));
  } finally {
    await cluster.close();
  }
});
