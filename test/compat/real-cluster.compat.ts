import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type DemoCluster, shell, startDemoCluster } from "../harness/real-dqlite.js";

// The harness every compatibility suite relies on: a real 3-node dqlite-demo cluster.
let cluster: DemoCluster;
before(async () => {
  cluster = await startDemoCluster(3);
});
after(async () => {
  await cluster?.stop();
});

test("a real 3-node cluster forms with three voters and serves writes", async () => {
  const put = await fetch(`http://${cluster.nodes[1].api}/greeting`, { method: "PUT", body: "hi" });
  assert.equal(await put.text(), "done\n");
  const get = await fetch(`http://${cluster.nodes[2].api}/greeting`);
  assert.equal(await get.text(), "hi\n");
  const out = await shell(cluster.servers, "demo", "SELECT key, value FROM model");
  assert.equal(out.stdout, "greeting|hi\n");
  const members = await shell(cluster.servers, "demo", ".cluster");
  assert.equal(members.stdout.trim().split("\n").length, 3);
});
