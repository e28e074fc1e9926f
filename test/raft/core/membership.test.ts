import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftError, type RaftErrorCode } from "../../../src/raft/core/errors.js";
import { RaftRole } from "../../../src/raft/core/types.js";
import { Harness, HEARTBEAT_MS } from "./harness.js";

function refuses(fn: () => unknown, code: RaftErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof RaftError && e.code === code);
}

function leader(): Harness {
  const h = new Harness({ members: [1, 2, 3], extra: [4] });
  h.campaign(1);
  return h;
}

test("servers join as spares; ids and addresses must be new", () => {
  const h = leader();
  const { index } = h.raft(1).addServer(4n, "n4");
  assert.equal(h.raft(1).configurationIndex, index);
  assert.equal(h.raft(1).configuration.at(-1)?.role, RaftRole.Spare);
  h.run(HEARTBEAT_MS);
  refuses(() => h.raft(1).addServer(4n, "n5"), "duplicateId");
  refuses(() => h.raft(1).addServer(5n, "n4"), "duplicateAddress");
  refuses(() => h.raft(1).addServer(0n, "n0"), "badId");
});

test("only a leader changes membership, one change at a time", () => {
  const h = leader();
  refuses(() => h.raft(2).addServer(4n, "n4"), "notLeader");
  h.isolate(1);
  h.raft(1).addServer(4n, "n4");
  refuses(() => h.raft(1).removeServer(3n), "cantChange");
  refuses(() => h.raft(1).assignRole(3n, RaftRole.Standby), "cantChange");
});

test("assignments are checked: unknown server, same role, unknown role", () => {
  const h = leader();
  refuses(() => h.raft(1).assignRole(9n, RaftRole.Standby), "notFound");
  refuses(() => h.raft(1).assignRole(2n, RaftRole.Voter), "badRole");
  refuses(() => h.raft(1).assignRole(2n, 7 as RaftRole), "badRole");
  refuses(() => h.raft(1).removeServer(9n), "badId");
});

test("demotions and promotions of an up-to-date server are appended at once", () => {
  const h = leader();
  h.run(HEARTBEAT_MS);
  const demoted = h.raft(1).assignRole(3n, RaftRole.Standby);
  assert.ok(demoted !== undefined);
  h.run(HEARTBEAT_MS);
  const promoted = h.raft(1).assignRole(3n, RaftRole.Voter);
  assert.ok(promoted !== undefined, "node 3 already holds the whole log");
  h.run(HEARTBEAT_MS);
  assert.equal(h.raft(2).configuration.find((s) => s.id === 3n)?.role, RaftRole.Voter);
});

test("standbys receive the log but do not count for commit", () => {
  const h = new Harness({ members: [1, 2, 3], roles: { 3: RaftRole.Standby } });
  h.campaign(1);
  h.isolate(2);
  const { index } = h.propose(1, 1);
  h.run(2 * HEARTBEAT_MS, [1, 3]);
  assert.equal(h.raft(3).lastIndex, index, "the standby has it");
  assert.ok(h.raft(1).commitIndex < index, "but one voter of two is no majority");
});

test("a transfer needs a voter other than the leader", () => {
  const h = new Harness({ members: [1, 2], roles: { 2: RaftRole.Standby } });
  h.processAll();
  refuses(() => h.raft(1).transferLeadership(0n), "notFound");
  refuses(() => h.raft(1).transferLeadership(2n), "badId");
  refuses(() => h.raft(1).transferLeadership(1n), "badId");
});
