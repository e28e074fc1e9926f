// Handover of a role: a voter that leaves gives its vote to a stand-by and steps down to spare;
// a leader that closes also gives leadership away first. And ready() around a cluster that
// cannot be reached.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { App } from "../../src/app/app.js";
import { AppError } from "../../src/app/errors.js";
import { Role } from "../../src/wire/index.js";
import { freePort } from "../harness/ports.js";
import { AppCluster, memoryLogger, roleCounts } from "./app-harness.js";

const cluster = await AppCluster.create(4, { standbys: 1 });
after(() => cluster.close(), { timeout: 60_000 });

async function leaderIndex(): Promise<number> {
  const client = await cluster.running().leader();
  try {
    const leader = await client.leader();
    assert.ok(leader);
    return cluster.indexOf(leader.address);
  } finally {
    client.close();
  }
}

test("a voter hands its vote to the stand-by; a closing leader also hands leadership over", {
  timeout: 120_000,
}, async () => {
  for (const index of [0, 1, 2, 3]) await cluster.start(index);
  const members = await cluster.waitForRoles(
    "3 voters and 1 stand-by",
    (m) => roleCounts(m).join() === "3,1,0",
  );
  const standby = cluster.indexOf(members.find((m) => m.role === Role.StandBy)!.address);
  const leader = await leaderIndex();
  const voter = [0, 1, 2, 3].find((i) => i !== leader && i !== standby)!;

  await cluster.apps[voter]!.handover();
  // The stand-by took the vote, then the voter stepped down. (Roles may move on at once: with
  // four voters for a moment, the leader's next round may demote one of them.)
  const lines = cluster.logs.filter((l) => l.message.startsWith(`node${voter}: `));
  const handed = lines.find((l) => l.message === `node${voter}: handed role over`);
  assert.deepEqual(handed?.fields, {
    address: cluster.addresses[standby],
    from: "stand-by",
    to: "voter",
  });
  assert.ok(lines.some((l) => l.message === `node${voter}: stepped down to spare`));
  await cluster.waitForRoles(
    "3 voters and 1 stand-by again",
    (m) => roleCounts(m).join() === "3,1,0",
  );

  // The leader closes: its vote goes to the stand-by, leadership to another voter.
  await cluster.stop(leader, true);
  // (The new leader may demote a voter while there are four, before the old one steps down;
  // its next round promotes the online spare again.)
  const after = await cluster.waitForRoles("three online voters", (m) => {
    const voters = m.filter((n) => n.role === Role.Voter);
    return voters.length === 3 && voters.every((n) => cluster.indexOf(n.address) !== leader);
  });
  assert.equal(after.find((m) => m.address === cluster.addresses[leader])?.role, Role.Spare);
  assert.notEqual(await leaderIndex(), leader);
});

test("ready() waits for a cluster it cannot reach; the signal or close ends the wait", {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), "app-unreachable-"));
  const app = await App.create(dir, {
    address: `127.0.0.1:${await freePort()}`,
    cluster: [`127.0.0.1:${await freePort()}`],
    networkLatencyMs: 20,
    logger: memoryLogger("lonely"),
  });
  try {
    await assert.rejects(app.ready({ signal: AbortSignal.timeout(300) }), { name: "TimeoutError" });
    // open() keeps looking for a leader (1 s apart) until its signal ends the search.
    const started = performance.now();
    await assert.rejects(
      app.open("nowhere", { timeoutMs: 200, signal: AbortSignal.timeout(1500) }),
      { name: "TimeoutError" },
    );
    assert.ok(performance.now() - started >= 1000, "open() gave up after its first search");
    const waiting = assert.rejects(app.ready(), new AppError("app closed before it was ready"));
    await app.close({ handover: false });
    await waiting;
  } finally {
    await app.close({ handover: false });
    await rm(dir, { recursive: true, force: true });
  }
});
