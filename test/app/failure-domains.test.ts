// Five Apps in three failure domains: the voters end up spread over all three domains.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Role } from "../../src/wire/index.js";
import { AppCluster } from "./app-harness.js";

const DOMAINS = [1, 1, 2, 2, 3];
const cluster = await AppCluster.create(DOMAINS.length);
after(() => cluster.close(), { timeout: 60_000 });

test("five nodes in three failure domains get one voter in each domain", {
  timeout: 120_000,
}, async () => {
  // Joining in this order, the first three voters are in domains 1, 1 and 2.
  for (let i = 0; i < DOMAINS.length; i++) {
    await cluster.start(i, { failureDomain: DOMAINS[i] });
  }
  await cluster.waitForRoles("voters in three domains", (m) => {
    const voters = m.filter((n) => n.role === Role.Voter);
    const domains = new Set(voters.map((n) => DOMAINS[cluster.indexOf(n.address)]));
    const standbys = m.filter((n) => n.role === Role.StandBy);
    // The two others become stand-bys (3 wanted, 2 left).
    return voters.length === 3 && domains.size === 3 && standbys.length === 2;
  });
  // Every node reports its own failure domain.
  for (let i = 0; i < DOMAINS.length; i++) {
    const client = await cluster.apps[i]!.client();
    try {
      assert.equal((await client.describe()).failureDomain, BigInt(DOMAINS[i]));
    } finally {
      client.close();
    }
  }
});
