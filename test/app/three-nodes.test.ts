// Three Apps in one process: joining by address only, three voters, a leader that hands over on
// close while a writer keeps writing, and a node that comes back from its directory by itself.
import assert from "node:assert/strict";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { NotLeaderError } from "../../src/client/index.js";
import { parseNodeStoreYaml } from "../../src/client/yaml-node-store.js";
import { BOOTSTRAP_ID, Role } from "../../src/wire/index.js";
import { waitFor } from "../harness/processes.js";
import { AppCluster, roleCounts } from "./app-harness.js";

const cluster = await AppCluster.create(3);
after(() => cluster.close(), { timeout: 60_000 });

test("three Apps joined by address only settle to three voters; a leader's handover loses no write; a restarted App rejoins", {
  timeout: 120_000,
}, async () => {
  const first = await cluster.start(0);
  assert.equal(first.id, BOOTSTRAP_ID);
  await cluster.start(1);
  await cluster.start(2);
  const members = await cluster.waitForRoles("three voters", (m) => roleCounts(m)[0] === 3);
  assert.deepEqual(members.map((m) => m.address).sort(), [...cluster.addresses].sort());

  // The joiners dropped their join marker; every cluster.yaml follows the cluster.
  for (const index of [1, 2]) {
    await assert.rejects(access(join(cluster.dir(index), "join")), { code: "ENOENT" });
  }
  for (const index of [0, 1, 2]) {
    await waitFor(`node${index}'s cluster.yaml to list three voters`, async () => {
      const text = await readFile(join(cluster.dir(index), "cluster.yaml"), "utf8");
      const stored = parseNodeStoreYaml(text);
      return stored.length === 3 && stored.every((n) => n.role === Role.Voter) ? true : undefined;
    });
  }

  // A writer keeps writing through the leader's handover and close.
  const db = await cluster.apps[0]!.open("handover", { timeoutMs: 20_000 });
  await db.exec("CREATE TABLE w (n INTEGER PRIMARY KEY)");
  const acknowledged: number[] = [];
  // Writes whose outcome is unknown (leadership lost or connection cut after sending): a
  // graceful handover must not produce any.
  const uncertain: unknown[] = [];
  let refusals = 0;
  let stop = false;
  const writer = (async () => {
    for (let n = 0; !stop && n < 100_000; n++) {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await db.exec("INSERT INTO w (n) VALUES (?)", [n]);
          acknowledged.push(n);
          break;
        } catch (error) {
          // Refused by a node that no longer leads: nothing was applied, so writing again is
          // safe (the client already tried a few leaders before giving up).
          if (!(error instanceof NotLeaderError)) {
            uncertain.push(error);
            break;
          }
          refusals++;
        }
      }
    }
  })();
  let leaderIndex = -1;
  try {
    await waitFor("some writes", () => (acknowledged.length >= 20 ? true : undefined));

    const leaderClient = await cluster.running().leader();
    const leader = await leaderClient.leader();
    leaderClient.close();
    assert.ok(leader);
    leaderIndex = cluster.indexOf(leader.address);
    await cluster.stop(leaderIndex, true);
    // Leadership moved to a node that is still running, before the old leader stopped.
    assert.ok(
      cluster.logs.some((l) =>
        [
          `node${leaderIndex}: transferred leadership`,
          `node${leaderIndex}: leadership moved`,
        ].includes(l.message),
      ),
    );
    const afterClose = acknowledged.length;
    await waitFor("writes after the handover", () =>
      acknowledged.length >= afterClose + 20 ? true : undefined,
    );
  } finally {
    // Whatever failed above, the writer stops before the cluster does.
    stop = true;
    await writer;
  }
  assert.deepEqual(uncertain, [], "no write with an unknown outcome during the handover");
  assert.ok(refusals < 100, `${refusals} refusals`);

  const { rows } = await db.query("SELECT n FROM w ORDER BY n", [], { rowMode: "array" });
  const stored = new Set(rows.map((r) => (r as number[])[0]));
  for (const n of acknowledged) assert.ok(stored.has(n), `acknowledged write ${n} is missing`);
  // Every write was acknowledged in the end: the writer never skipped one.
  assert.deepEqual(acknowledged, [...Array(acknowledged.length).keys()]);

  // The old leader comes back from its directory alone: no address, no cluster addresses.
  const infoBefore = await readFile(join(cluster.dir(leaderIndex), "info.yaml"), "utf8");
  const back = await cluster.start(leaderIndex, { restart: true });
  assert.equal(back.address, cluster.addresses[leaderIndex]);
  assert.equal(await readFile(join(cluster.dir(leaderIndex), "info.yaml"), "utf8"), infoBefore);
  await assert.rejects(access(join(cluster.dir(leaderIndex), "join")), { code: "ENOENT" });
  const local = await back.client();
  try {
    // It answers as a member of the cluster and knows the leader.
    await waitFor("the restarted node to know the leader", async () => await local.leader());
  } finally {
    local.close();
  }
  await cluster.waitForRoles("three voters again", (m) => roleCounts(m)[0] === 3);
  await db.exec("INSERT INTO w (n) VALUES (-1)");
  await db.close();
});
