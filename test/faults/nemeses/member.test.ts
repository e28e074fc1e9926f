// The membership nemesis judges a failed removal: a finding unless no leader could be found
// while other faults that can take the leader away were running.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type FaultCluster, RemovalError } from "../cluster.js";
import { memberNemesis } from "./member.js";
import type { NemesisContext } from "./nemesis.js";

function fakeCluster(removal: Error | null) {
  const nodes = [1, 2, 3, 4, 5].map((index) => ({
    index,
    removed: false,
    claimedBy: null as string | null,
    running: true,
  }));
  const calls: string[] = [];
  const cluster = {
    nodes,
    addresses: [],
    running: (index: number) => nodes[index - 1]!.running,
    claim(index: number, owner: string) {
      nodes[index - 1]!.claimedBy = owner;
      return true;
    },
    release(index: number) {
      nodes[index - 1]!.claimedBy = null;
    },
    async leader() {
      return undefined;
    },
    async stopGracefully(index: number) {
      nodes[index - 1]!.running = false;
      calls.push(`stop n${index}`);
      return 0;
    },
    async removeMember(index: number) {
      if (removal) throw removal;
      nodes[index - 1]!.removed = true;
      calls.push(`remove n${index}`);
    },
    async leadership() {
      return { leader: undefined, views: "n1: none" };
    },
    async startNode(index: number) {
      nodes[index - 1]!.running = true;
      calls.push(`start n${index}`);
    },
    wipe(index: number) {
      calls.push(`wipe n${index}`);
    },
  };
  return { cluster: cluster as unknown as FaultCluster, calls };
}

async function startOnce(removal: Error | null, nemeses: string[]) {
  const { cluster, calls } = fakeCluster(removal);
  const findings: string[] = [];
  const logs: string[] = [];
  const context: NemesisContext = {
    cluster,
    random: () => 0,
    nemeses,
    finding: (text) => findings.push(text),
    log: (text) => logs.push(text),
  };
  const what = await memberNemesis().start(context);
  return { what, findings, logs, calls };
}

test("a removal made: the node is wiped", async () => {
  const result = await startOnce(null, ["member"]);
  assert.equal(result.what, "removed n1 (stopped, removed, wiped)");
  assert.deepEqual(result.calls, ["stop n1", "remove n1", "wipe n1"]);
  assert.deepEqual(result.findings, []);
});

test("a removal that failed with a leader around is a finding, whatever else runs", async () => {
  const error = new RemovalError("removal of node 1 not done", true);
  const result = await startOnce(error, ["member", "kill"]);
  assert.equal(result.findings.length, 1);
  assert.match(result.findings[0]!, /removing n1 failed: removal of node 1 not done/);
  // The node is still a member: it comes back as it was.
  assert.deepEqual(result.calls, ["stop n1", "start n1"]);
});

test("no leader: a finding when nothing else could take it away, else a log line", async () => {
  const error = new RemovalError("removal of node 1 not done", false);
  const alone = await startOnce(error, ["member", "clock"]);
  assert.equal(alone.findings.length, 1);
  assert.match(alone.findings[0]!, /no leader after one graceful stop/);
  const withPartitions = await startOnce(error, ["member", "partition"]);
  assert.deepEqual(withPartitions.findings, []);
  assert.match(withPartitions.logs[0]!, /leaders seen: n1: none \(no leader: other faults\)/);
});

test("an unexpected error is a finding", async () => {
  const result = await startOnce(new Error("boom"), ["member", "partition"]);
  assert.equal(result.findings.length, 1);
});
