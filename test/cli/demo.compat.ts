// Our dqlite-demo and Debian's (go-dqlite 1.11.5 over libdqlite 1.11.1), each as a 3-node
// cluster, get the same sequence of HTTP requests: PUT, GET, a missing key, an unsupported
// method, odd keys and values, then failover after SIGKILL of the leader and its restart.
//
// Ours answers like current go-dqlite. The one normalised difference is 1.11's reply style, and
// it is asserted explicitly on every reply of the real demo before it is normalised: 1.11
// answers 200 with "Error: <msg>\n" where current go-dqlite answers 500 "<msg>\n", says
// `unsupported method "<METHOD>"` where current says `unsupported method`, and ends every
// successful body with a newline that current go-dqlite does not write.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "../../src/client/index.js";
import { startOurDemoCluster } from "../harness/our-cluster.js";
import { waitFor } from "../harness/processes.js";
import { type DemoCluster, requireRealDqlite, startDemoCluster } from "../harness/real-dqlite.js";

interface Reply {
  status: number;
  contentType: string | null;
  body: string;
}

interface Step {
  /** 1-based node whose API gets the request. */
  node: number;
  method: string;
  path: string;
  body?: string;
}

let real: DemoCluster;
let ours: DemoCluster;

before(async () => {
  requireRealDqlite();
  real = await startDemoCluster(3);
  ours = await startOurDemoCluster(3);
});

after(async () => {
  await Promise.allSettled([real?.stop(), ours?.stop()]);
});

async function send(cluster: DemoCluster, step: Step): Promise<Reply> {
  const api = cluster.nodes[step.node - 1].api;
  const response = await fetch(`http://${api}${step.path}`, {
    method: step.method,
    body: step.body,
    signal: AbortSignal.timeout(60_000),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

/** 1.11's reply in current go-dqlite's style, after checking it has 1.11's shape. */
function normalise111(reply: Reply, method: string): Reply {
  assert.equal(reply.status, 200, "go-dqlite 1.11's demo always answers 200");
  assert.ok(reply.body.endsWith("\n"), `1.11 ends every body with a newline: ${reply.body}`);
  const text = reply.body.slice(0, -1);
  if (!text.startsWith("Error: ")) return { ...reply, body: text };
  const message = text.slice("Error: ".length);
  if (message.startsWith("unsupported method")) {
    assert.equal(message, `unsupported method "${method}"`);
    return { status: 500, contentType: reply.contentType, body: "unsupported method\n" };
  }
  return { status: 500, contentType: reply.contentType, body: `${message}\n` };
}

async function sameReply(step: Step): Promise<Reply> {
  const theirs = normalise111(await send(real, step), step.method);
  const mine = await send(ours, step);
  assert.deepEqual(mine, theirs, `${step.method} ${step.path} on node ${step.node}`);
  return mine;
}

async function leaderIndex(cluster: DemoCluster): Promise<number> {
  const client = await Client.findLeader(cluster.servers.split(","), { timeoutMs: 30_000 });
  client.close();
  const index = cluster.nodes.findIndex((node) => node.db === client.address);
  assert.ok(index >= 0, `leader ${client.address} is one of the nodes`);
  return index + 1;
}

test("the same requests get the same replies, but for 1.11's reply style", async () => {
  const put = await sameReply({ node: 1, method: "PUT", path: "/hello", body: "world" });
  assert.deepEqual(put, { status: 200, contentType: "text/plain; charset=utf-8", body: "done" });
  const get = await sameReply({ node: 2, method: "GET", path: "/hello" });
  assert.equal(get.body, "world");
  const missing = await sameReply({ node: 3, method: "GET", path: "/missing" });
  assert.deepEqual(missing, {
    status: 500,
    contentType: "text/plain; charset=utf-8",
    body: "sql: no rows in result set\n",
  });
  const post = await sameReply({ node: 1, method: "POST", path: "/hello", body: "x" });
  assert.equal(post.body, "unsupported method\n");
  await sameReply({ node: 2, method: "DELETE", path: "/hello" });
  // The key is the whole path after the slash, percent-decoded; the query is not part of it.
  await sameReply({ node: 3, method: "PUT", path: "/a%20b/c%C3%A9?x=1", body: "line 1\nline 2" });
  const odd = await sameReply({ node: 1, method: "GET", path: "/a%20b/c%C3%A9" });
  assert.equal(odd.body, "line 1\nline 2");
  await sameReply({ node: 2, method: "GET", path: "/" });
  await sameReply({ node: 3, method: "PUT", path: "/", body: "root" });
  await sameReply({ node: 1, method: "GET", path: "/" });
  await sameReply({ node: 1, method: "PUT", path: "/empty" });
  const empty = await sameReply({ node: 2, method: "GET", path: "/empty" });
  assert.equal(empty.body, "");
  await sameReply({ node: 3, method: "PUT", path: "/hello", body: "<html>" });
  const html = await sameReply({ node: 1, method: "GET", path: "/hello" });
  assert.equal(html.contentType, "text/html; charset=utf-8");
  await sameReply({ node: 1, method: "PUT", path: "/hello", body: "world" });
});

test("after SIGKILL of the leader both serve reads and writes from the survivors, then the restarted node", async () => {
  const killed = await Promise.all([real, ours].map(leaderIndex));
  for (const [i, cluster] of [real, ours].entries()) {
    const node = cluster.nodes[killed[i] - 1];
    node.process.kill("SIGKILL");
    await node.process.exited;
  }
  const survivors = killed.map((index) => [1, 2, 3].filter((n) => n !== index));
  // Right after the kill a request may fail while a new leader is elected: wait for the first
  // success on each side, then compare the replies.
  for (const [i, cluster] of [real, ours].entries()) {
    await waitFor(
      "a read through a survivor",
      async () => {
        const reply = await send(cluster, { node: survivors[i][0], method: "GET", path: "/hello" });
        return reply.status === 200 && reply.body.startsWith("world") ? true : undefined;
      },
      60_000,
      500,
    );
  }
  const sameOnSurvivors = async (which: 0 | 1, step: Omit<Step, "node">) => {
    const theirs = normalise111(
      await send(real, { ...step, node: survivors[0][which] }),
      step.method,
    );
    const mine = await send(ours, { ...step, node: survivors[1][which] });
    assert.deepEqual(mine, theirs, `${step.method} ${step.path} on a survivor`);
    return mine;
  };
  assert.equal((await sameOnSurvivors(0, { method: "GET", path: "/hello" })).body, "world");
  const write = await sameOnSurvivors(1, { method: "PUT", path: "/hello", body: "after" });
  assert.equal(write.body, "done");
  assert.equal((await sameOnSurvivors(0, { method: "GET", path: "/hello" })).body, "after");
  await sameOnSurvivors(1, { method: "GET", path: "/gone" });
  // The killed node comes back with its data directory and catches up.
  await Promise.all([real.restart(killed[0]), ours.restart(killed[1])]);
  const theirs = normalise111(
    await send(real, { node: killed[0], method: "GET", path: "/hello" }),
    "GET",
  );
  const mine = await send(ours, { node: killed[1], method: "GET", path: "/hello" });
  assert.deepEqual(mine, theirs);
  assert.equal(mine.body, "after");
});
