import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { cleanupAll, run } from "./cleanup.js";
import { ClusterNetwork, NAME_PREFIX, STATE_ROOT, sweepStale } from "./network.js";

/** Whether a TCP connection from `from`'s namespace to `to`:port opens within a second. */
function reaches(network: ClusterNetwork, from: number, to: string, port: number): boolean {
  const script = `const s=require("net").connect(${port},"${to}");s.setTimeout(1000);s.on("connect",()=>process.exit(0));s.on("timeout",()=>process.exit(1));s.on("error",()=>process.exit(1));`;
  const host = network.hosts[from - 1]!;
  try {
    run("ip", ["netns", "exec", host.namespace, process.execPath, "-e", script]);
    return true;
  } catch {
    return false;
  }
}

function listenIn(network: ClusterNetwork, index: number, port: number): void {
  const host = network.hosts[index - 1]!;
  const script = `require("net").createServer((s)=>s.end()).listen(${port},"${host.ip}");setTimeout(()=>process.exit(0),60000);`;
  // Started in the background; killed with the namespace at cleanup.
  run("sh", [
    "-c",
    `ip netns exec ${host.namespace} ${process.execPath} -e '${script}' >/dev/null 2>&1 &`,
  ]);
}

test("namespaces on a bridge: partitions drop packets between nodes, never from the root namespace, and heal", async (t) => {
  assert.equal(process.getuid?.(), 0, "network namespaces need root");
  t.after(cleanupAll);
  const network = ClusterNetwork.create(3);
  for (const index of [1, 2, 3]) listenIn(network, index, 7000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const [a, b, c] = network.hosts.map((h) => h.ip) as [string, string, string];
  assert.ok(reaches(network, 1, b, 7000));
  await network.partition([[1], [2, 3]]);
  assert.ok(!reaches(network, 1, b, 7000), "1 must not reach 2 across the partition");
  assert.ok(!reaches(network, 2, a, 7000), "2 must not reach 1 across the partition");
  assert.ok(reaches(network, 2, c, 7000), "2 and 3 are on the same side");
  const fromRoot = await new Promise<boolean>((resolve) => {
    const socket = connect(7000, a);
    socket.setTimeout(1000, () => resolve(false));
    socket.on("connect", () => resolve(true)).on("error", () => resolve(false));
  });
  assert.ok(fromRoot, "clients in the root namespace still reach every node");
  await network.heal();
  assert.ok(reaches(network, 1, b, 7000));
  cleanupAll();
  assert.ok(!run("ip", ["netns", "list"]).includes(`${NAME_PREFIX}-${network.runId}-`));
  assert.ok(!run("ip", ["-o", "link", "show"]).includes(`${NAME_PREFIX}${network.runId}`));
  assert.ok(
    !run("ip", ["route", "show", "table", "all"]).includes(network.subnet.replace("/24", "")),
  );
});

test("the start-up sweep removes what a run older than an hour left behind, and nothing newer", () => {
  assert.equal(process.getuid?.(), 0, "network namespaces need root");
  const old = "a0a0a0";
  const recent = "b0b0b0";
  for (const id of [old, recent]) {
    mkdirSync(join(STATE_ROOT, id), { recursive: true });
    writeFileSync(join(STATE_ROOT, id, "marker"), `1 0 10.1.1.0/24\n`);
    run("ip", ["netns", "add", `${NAME_PREFIX}-${id}-n1`]);
  }
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(STATE_ROOT, old, "marker"), twoHoursAgo, twoHoursAgo);
  try {
    const swept = sweepStale();
    assert.ok(swept.includes(old));
    assert.ok(!swept.includes(recent));
    const namespaces = run("ip", ["netns", "list"]);
    assert.ok(!namespaces.includes(`${NAME_PREFIX}-${old}-n1`));
    assert.ok(namespaces.includes(`${NAME_PREFIX}-${recent}-n1`));
  } finally {
    run("ip", ["netns", "del", `${NAME_PREFIX}-${recent}-n1`], true);
    run("ip", ["netns", "del", `${NAME_PREFIX}-${old}-n1`], true);
    run("rm", ["-rf", join(STATE_ROOT, recent), join(STATE_ROOT, old)], true);
  }
});
