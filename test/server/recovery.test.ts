import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Client, connect } from "../../src/client/index.js";
import { BOOTSTRAP_ID, generateId, Node } from "../../src/server/node.js";
import { reconfigureMembership } from "../../src/server/reconfigure.js";
import { freePorts } from "../harness/ports.js";
import { waitFor } from "../harness/processes.js";

let base: string;
after(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

test("a lone survivor of three becomes a working cluster with every committed write", async () => {
  base = await mkdtemp(join(tmpdir(), "recovery-"));
  const addresses = (await freePorts(3)).map((port) => `127.0.0.1:${port}`);
  const specs = addresses.map((address, i) => ({
    id: i === 0 ? BOOTSTRAP_ID : generateId(address),
    address,
    dataDir: join(base, `node${i + 1}`),
    networkLatencyMs: 20,
  }));
  const nodes = [new Node(specs[0])];
  await nodes[0].start();
  await waitFor("a leader", () => (nodes[0].state === "leader" ? true : undefined));
  for (const spec of specs.slice(1)) {
    const node = new Node(spec);
    await node.start();
    const admin = await Client.findLeader(addresses);
    await admin.add({ id: spec.id, address: spec.address, role: "voter" });
    await admin.close();
    nodes.push(node);
  }
  const db = await connect({ cluster: addresses, database: "app" });
  await db.exec("CREATE TABLE t (a)");
  for (let i = 1; i <= 30; i++) await db.exec("INSERT INTO t VALUES (?)", [i]);
  await db.close();
  for (const node of nodes) await node.close();

  // Nodes 2 and 3 are lost for good; node 1 is told it is now alone.
  await rm(specs[1].dataDir, { recursive: true });
  await rm(specs[2].dataDir, { recursive: true });
  await reconfigureMembership(specs[0].dataDir, [{ id: specs[0].id, address: specs[0].address }]);

  const survivor = new Node(specs[0]);
  await survivor.start();
  try {
    await waitFor("the survivor to lead", () => (survivor.state === "leader" ? true : undefined));
    const admin = await Client.findLeader([specs[0].address]);
    assert.deepEqual(
      (await admin.cluster()).map((m) => [m.address, m.role]),
      [[specs[0].address, 0]],
    );
    await admin.close();
    const again = await connect({ cluster: [specs[0].address], database: "app" });
    assert.deepEqual((await again.query("SELECT count(*) AS n, sum(a) AS s FROM t")).rows, [
      { n: 30, s: 465 },
    ]);
    await again.exec("INSERT INTO t VALUES (31)");
    await again.close();
  } finally {
    await survivor.close();
  }
});
