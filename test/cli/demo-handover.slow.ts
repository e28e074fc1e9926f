// SIGTERM of our dqlite-demo leader: it hands leadership over to another voter, exits 0, and
// writes through the other nodes go on; every acknowledged write is still there afterwards.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { type DemoCluster, leaderOf, startOurDemoCluster } from "../harness/our-cluster.js";

let cluster: DemoCluster;

before(async () => {
  cluster = await startOurDemoCluster(3, { args: ["--verbose"] });
});

after(async () => {
  await cluster?.stop();
});

async function put(api: string, key: string, value: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${api}/${key}`, {
      method: "PUT",
      body: value,
      signal: AbortSignal.timeout(30_000),
    });
    return response.status === 200 && (await response.text()) === "done";
  } catch {
    return false;
  }
}

test("the leader hands over on SIGTERM and exits 0 while writes continue on the others", async () => {
  const addresses = cluster.nodes.map((node) => node.db);
  const leaderAddress = await leaderOf(addresses);
  const leader = cluster.nodes.find((node) => node.db === leaderAddress);
  assert.ok(leader, `the leader ${leaderAddress} is one of ours`);
  const others = cluster.nodes.filter((node) => node !== leader);

  // Writers on the two other nodes' APIs keep going while the leader stops.
  const acknowledged = new Map<string, string>();
  let stop = false;
  let failuresAfterExit = 0;
  let writesAfterExit = 0;
  let exited = false;
  const writers = others.map(async (node, w) => {
    for (let i = 0; !stop && i < 100_000; i++) {
      const key = `w${w}-${i}`;
      const ok = await put(node.api, key, `v${i}`);
      if (ok) acknowledged.set(key, `v${i}`);
      if (exited) {
        writesAfterExit++;
        if (!ok) failuresAfterExit++;
      }
    }
  });
  while (acknowledged.size < 20) await new Promise((resolve) => setTimeout(resolve, 20));
  leader.process.kill("SIGTERM");
  const code = await leader.process.exited;
  exited = true;
  assert.equal(code, 0, `exit code (log: ${leader.process.logPath})`);
  while (writesAfterExit < 20) await new Promise((resolve) => setTimeout(resolve, 20));
  stop = true;
  await Promise.all(writers);

  assert.equal(failuresAfterExit, 0, "writes after the leader left all succeed");
  const log = await readFile(leader.process.logPath, "utf8");
  assert.match(log, / INFO: transferred leadership address=127\.0\.0\.1:\d+/);
  const newLeader = await leaderOf(others.map((node) => node.db));
  assert.ok(
    others.some((node) => node.db === newLeader),
    `new leader ${newLeader} is one of the others`,
  );
  // Nothing acknowledged was lost.
  for (const [key, value] of acknowledged) {
    const response = await fetch(`http://${others[0].api}/${key}`);
    assert.equal(await response.text(), value, key);
  }
});
