// From one node to seven and back through failures: the roles settle the way go-dqlite's rules
// say (3 voters, 3 stand-bys, the rest spares; offline nodes lose their roles to online ones).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { NodeInfo } from "../../src/client/index.js";
import { Role } from "../../src/wire/index.js";
import { AppCluster, roleCounts } from "./app-harness.js";

const cluster = await AppCluster.create(7);
after(() => cluster.close(), { timeout: 60_000 });

const online = (): string[] => cluster.addresses.filter((_, i) => cluster.apps[i] !== null);

/**
 * Roles of the running nodes are [voters, stand-bys, spares]; offline nodes are never voters,
 * and they are spares too unless `offlineStandbys` (go-dqlite's rule 8 stops the round when
 * stand-bys are missing and no spare is online, before rule 10 would demote offline stand-bys).
 */
function settled(expected: number[], offlineStandbys = false) {
  return (members: NodeInfo[]): boolean => {
    const up = online();
    const offline = members.filter((m) => !up.includes(m.address));
    const allowed = offlineStandbys ? [Role.Spare, Role.StandBy] : [Role.Spare];
    return (
      members.length === cluster.addresses.filter((_, i) => started.has(i)).length &&
      offline.every((m) => allowed.includes(m.role)) &&
      roleCounts(members, up).join() === expected.join()
    );
  };
}

const started = new Set<number>();
async function startNode(index: number, restart = false): Promise<void> {
  await cluster.start(index, { restart });
  started.add(index);
}

test("roles follow the cluster from one node to seven and through nodes going offline", {
  timeout: 120_000,
}, async () => {
  await startNode(0);
  await cluster.waitForRoles("one voter", settled([1, 0, 0]));
  await startNode(1);
  // Two nodes: the leader stays the only voter.
  await cluster.waitForRoles("voter + spare", settled([1, 0, 1]));
  await startNode(2);
  await cluster.waitForRoles("three voters", settled([3, 0, 0]));
  for (const index of [3, 4, 5, 6]) await startNode(index);
  await cluster.waitForRoles("3 voters, 3 stand-bys, 1 spare", settled([3, 3, 1]));

  // A voter goes offline: a stand-by replaces it, the spare becomes a stand-by.
  const members = await cluster.members();
  const leader = await leaderIndex();
  const voter = members.find(
    (m) => m.role === Role.Voter && cluster.indexOf(m.address) !== leader,
  )!;
  const voterIndex = cluster.indexOf(voter.address);
  await cluster.stop(voterIndex);
  await cluster.waitForRoles("voter replaced", settled([3, 3, 0]));

  // It comes back and finds enough of both: it stays a spare.
  await startNode(voterIndex, true);
  await cluster.waitForRoles("back as a spare", settled([3, 3, 1]));

  // A stand-by goes offline: the spare takes its place.
  const standby = (await cluster.members()).find((m) => m.role === Role.StandBy)!;
  await cluster.stop(cluster.indexOf(standby.address));
  await cluster.waitForRoles("stand-by replaced", settled([3, 3, 0]));

  // Two more go offline, one after the other (two voters at once would take the quorum with
  // them): the roles shrink to what the online nodes can hold.
  for (const expected of [
    [3, 2, 0],
    [3, 1, 0],
  ]) {
    const current = await leaderIndex();
    const victim = cluster.apps.findIndex((app, i) => app !== null && i !== current);
    await cluster.stop(victim);
    await cluster.waitForRoles(`${online().length} online nodes`, settled(expected, true));
  }
  assert.equal(online().length, 4);
});

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
