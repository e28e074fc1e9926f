// RaftNode: the core driven by real timers, storage and loopback TCP, in-process clusters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftError } from "../../../src/raft/core/errors.js";
import { RaftRole } from "../../../src/raft/core/types.js";
import { LeadershipLostError } from "../../../src/raft/raft-node.js";
import { command, eventually, TestCluster } from "./cluster.js";

test("a single bootstrapped node leads, applies commands in order, and replays them after restart", async () => {
  const cluster = await TestCluster.start(1, { disk: true });
  try {
    const leader = await cluster.leader();
    const indexes = await Promise.all([1, 2, 3, 4, 5].map((v) => leader.node.apply(command(v))));
    assert.deepEqual(
      indexes,
      [...indexes].sort((a, b) => a - b),
    );
    assert.deepEqual(leader.fsm.values(), [1, 2, 3, 4, 5]);
    assert.deepEqual(
      leader.fsm.applied.map((a) => a.index),
      indexes,
    );
    await cluster.restart(leader.id);
    const again = await cluster.leader();
    await again.node.barrier();
    assert.deepEqual(again.fsm.values(), [1, 2, 3, 4, 5]);
  } finally {
    await cluster.close();
  }
});

test("three nodes over TCP: one leader, commands applied everywhere, followers refuse", async () => {
  const cluster = await TestCluster.start(3);
  try {
    const leader = await cluster.leader();
    for (let v = 1; v <= 20; v++) await leader.node.apply(command(v));
    const expected = Array.from({ length: 20 }, (_, i) => i + 1);
    await eventually(
      () => cluster.running().every((m) => m.fsm.values().length === 20),
      "replication",
    );
    for (const member of cluster.running()) assert.deepEqual(member.fsm.values(), expected);
    const follower = cluster.running().find((m) => m !== leader)!;
    await assert.rejects(follower.node.apply(command(99)), (error: unknown) => {
      assert.ok(error instanceof RaftError);
      assert.equal(error.code, "notLeader");
      return true;
    });
    assert.deepEqual(follower.node.leader(), { id: leader.id, address: leader.address });
    await assert.rejects(leader.node.apply(new Uint8Array(5)), RangeError);
  } finally {
    await cluster.close();
  }
});

test("leadership transfer: the target leads and keeps serving", async () => {
  const cluster = await TestCluster.start(3, { disk: true });
  try {
    const leader = await cluster.leader();
    await leader.node.apply(command(1));
    const target = cluster.running().find((m) => m !== leader)!;
    await eventually(() => target.fsm.values().length === 1, "target caught up");
    assert.equal(await leader.node.transfer(target.id), target.id);
    const next = await cluster.leader();
    assert.equal(next.id, target.id);
    await next.node.apply(command(2));
    await eventually(
      () => cluster.running().every((m) => m.fsm.values().length === 2),
      "replication",
    );
  } finally {
    await cluster.close();
  }
});

test("when the leader stops, the others elect a new one and go on", async () => {
  const cluster = await TestCluster.start(3);
  try {
    const leader = await cluster.leader();
    await leader.node.apply(command(1));
    await leader.node.close();
    const others = cluster.running().filter((m) => m !== leader);
    const next = await cluster.leader(others);
    assert.notEqual(next.id, leader.id);
    await next.node.apply(command(2));
    await eventually(() => others.every((m) => m.fsm.values().join() === "1,2"), "both applied");
  } finally {
    await cluster.close();
  }
});

test("a node joins: added as spare, promoted to voter after catching up, gets the log", async () => {
  const cluster = await TestCluster.start(3, { disk: true });
  try {
    const leader = await cluster.leader();
    for (let v = 1; v <= 30; v++) await leader.node.apply(command(v));
    const joiner = await cluster.addIdle(4n);
    await leader.node.add(4n, joiner.address);
    await leader.node.assign(4n, RaftRole.Voter);
    assert.deepEqual(
      leader.node.configuration.find((s) => s.id === 4n),
      { id: 4n, address: joiner.address, role: RaftRole.Voter },
    );
    await eventually(() => joiner.fsm.values().length === 30, "the joiner applies the log");
    assert.deepEqual(
      joiner.fsm.values(),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    await leader.node.remove(4n);
    assert.equal(leader.node.configuration.length, 3);
  } finally {
    await cluster.close();
  }
});

test("snapshots every N entries; a late joiner is sent the snapshot and restores it", async () => {
  const cluster = await TestCluster.start(3, {
    disk: true,
    snapshotThreshold: 16,
    snapshotTrailing: 16,
  });
  try {
    const leader = await cluster.leader();
    for (let v = 1; v <= 100; v++) await leader.node.apply(command(v));
    const joiner = await cluster.addIdle(4n);
    await leader.node.add(4n, joiner.address);
    await leader.node.assign(4n, RaftRole.Standby);
    await eventually(() => joiner.fsm.values().length === 100, "the joiner has everything");
    assert.ok(joiner.fsm.restores >= 1, "the joiner restored a snapshot");
    assert.ok(joiner.node.snapshotsInstalled >= 1, "the stat counts the installed snapshot");
    assert.equal(leader.node.snapshotsInstalled, 0, "a node's own snapshots are not counted");
    assert.deepEqual(
      joiner.fsm.values(),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    await cluster.restart(leader.id);
    const next = await cluster.leader();
    await next.node.barrier();
    await eventually(
      () => cluster.member(leader.id).fsm.values().length === 100,
      "restarted node restored",
    );
  } finally {
    await cluster.close();
  }
});

test("snapshots also by applied bytes; a joiner behind the in-memory byte window gets the snapshot", async () => {
  // Counts alone would take no snapshot and keep all 100 entries (8 bytes each) in memory.
  const cluster = await TestCluster.start(3, {
    disk: true,
    snapshotThreshold: 1000,
    snapshotTrailing: 1000,
    snapshotThresholdBytes: 80,
    snapshotTrailingBytes: 16,
  });
  try {
    const leader = await cluster.leader();
    for (let v = 1; v <= 100; v++) await leader.node.apply(command(v));
    const joiner = await cluster.addIdle(4n);
    await leader.node.add(4n, joiner.address);
    await leader.node.assign(4n, RaftRole.Standby);
    await eventually(() => joiner.fsm.values().length === 100, "the joiner has everything");
    assert.ok(joiner.fsm.restores >= 1, "the joiner restored a snapshot");
    assert.deepEqual(
      joiner.fsm.values(),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  } finally {
    await cluster.close();
  }
});

test("a follower that was down catches up from entries the leader reads back from its disk", async () => {
  // No snapshot is taken, and the leader keeps no entry data in memory once applied: the only
  // way for node 3 to get entries 1-60 is the leader's storage.
  const cluster = await TestCluster.start(3, {
    disk: true,
    segmentSizeBytes: 4096,
    snapshotThreshold: 100_000,
    snapshotTrailing: 100_000,
    logDataInMemoryBytes: 0,
  });
  try {
    const leader = await cluster.leader();
    const lagging = cluster.running().find((m) => m !== leader)!;
    await lagging.node.close();
    for (let v = 1; v <= 60; v++) await leader.node.apply(command(v));
    await cluster.restart(lagging.id);
    await eventually(() => lagging.fsm.values().length === 60, "the follower catches up");
    assert.deepEqual(
      lagging.fsm.values(),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    assert.equal(lagging.fsm.restores, 0, "from entries, not a snapshot");
    assert.ok(leader.node.entriesReadBack.messages > 0, "the leader read entries back");
    // New entries still flow to everyone.
    await leader.node.apply(command(61));
    await eventually(
      () => cluster.running().every((m) => m.fsm.values().length === 61),
      "all apply 61",
    );
  } finally {
    await cluster.close();
  }
});

test("a leader cut off from its followers steps down; its waiting requests fail", async () => {
  const cluster = await TestCluster.start(3);
  try {
    const leader = await cluster.leader();
    await leader.node.apply(command(1));
    for (const other of cluster.running().filter((m) => m !== leader)) await other.node.close();
    const states: string[] = [];
    leader.node.on("state", (state) => states.push(state.state));
    // Check-quorum makes it step down within about an election timeout.
    await assert.rejects(leader.node.apply(command(2)), LeadershipLostError);
    assert.notEqual(leader.node.state, "leader");
    assert.ok(states.length > 0 && states[0] !== "leader");
    await assert.rejects(
      leader.node.barrier(),
      (error: unknown) => error instanceof RaftError && error.code === "notLeader",
    );
  } finally {
    await cluster.close();
  }
});

test("a transfer in progress refuses new entries", async () => {
  const cluster = await TestCluster.start(3);
  try {
    const leader = await cluster.leader();
    const target = cluster.running().find((m) => m !== leader)!;
    const transfer = leader.node.transfer(target.id);
    await assert.rejects(
      leader.node.apply(command(2)),
      (error: unknown) =>
        error instanceof RaftError && error.code === "leadershipTransferInProgress",
    );
    await transfer;
  } finally {
    await cluster.close();
  }
});
