// Apps on Linux abstract unix sockets (`@name` addresses, as dqlite and go-dqlite take them):
// three nodes, one in disk mode, form a cluster; writes replicate; SQL tracing reaches the logger.
// Also the checks of the options go-dqlite's app adds for these transports.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { AppError } from "../../src/app/errors.js";
import { resolveOptions } from "../../src/app/options.js";
import { waitFor } from "../harness/processes.js";
import { AppCluster, memoryLogger, roleCounts } from "./app-harness.js";

const cluster = await AppCluster.create(3);
const prefix = `@dqlite-ts-${process.pid}-${randomBytes(3).toString("hex")}`;
const addresses = [1, 2, 3].map((n) => `${prefix}-${n}`);
const traced = memoryLogger("traced");

after(() => cluster.close(), { timeout: 60_000 });

test("three Apps on @name unix sockets form a cluster and replicate; tracing logs the SQL", {
  timeout: 120_000,
}, async () => {
  for (const index of [0, 1, 2]) {
    await cluster.start(index, {
      address: addresses[index],
      cluster: index === 0 ? [] : [addresses[0]],
      // The third node keeps its databases on disk (go-dqlite's WithDiskMode).
      diskMode: index === 2,
      ...(index === 1 ? { tracing: "debug" as const, logger: traced } : {}),
    });
  }
  const members = await cluster.waitForRoles("three voters", (m) => roleCounts(m)[0] === 3);
  assert.deepEqual(members.map((m) => m.address).sort(), [...addresses].sort());
  // The address is the node's identity in its files, quoted so that YAML keeps the "@".
  const info = parse(await readFile(join(cluster.dir(0), "info.yaml"), "utf8"));
  assert.equal(info.Address, addresses[0]);

  const db = await cluster.apps[1]!.open("unix", { timeoutMs: 20_000 });
  await db.exec("CREATE TABLE t (v TEXT)");
  for (let i = 0; i < 10; i++) await db.exec("INSERT INTO t VALUES (?)", [`over-unix-${i}`]);
  assert.deepEqual((await db.query("SELECT count(*) AS n FROM t")).rows, [{ n: 10 }]);
  await db.close();

  for (const index of [0, 1, 2]) {
    await waitFor(`node${index} to hold the last row`, async () => {
      const client = await cluster.apps[index]!.client({ timeoutMs: 5000 });
      try {
        const files = await client.dump("unix");
        const bytes = Buffer.concat(files.map((file) => Buffer.from(file.data)));
        return bytes.includes("over-unix-9") ? true : undefined;
      } finally {
        client.close();
      }
    });
  }
  // Disk mode is on where asked: the node keeps its databases in files.
  assert.ok((await stat(join(cluster.dir(2), "database"))).isDirectory());
  await assert.rejects(stat(join(cluster.dir(0), "database")), { code: "ENOENT" });

  // Only node 1's App traces, at the level asked, with go-dqlite's message.
  const lines = traced.lines.filter((line) => line.fields.sql !== undefined);
  assert.ok(lines.every((line) => line.level === "debug"));
  assert.ok(
    lines.some((line) =>
      /^traced: \d+\.\d{3}s request exec: "INSERT INTO t VALUES \(\?\)"$/.test(line.message),
    ),
    JSON.stringify(lines.slice(0, 3)),
  );
  assert.ok(lines.some((line) => line.fields.request === "query"));
  assert.ok(
    !cluster.logs.some((line) => line.fields.sql !== undefined),
    "the other Apps do not trace",
  );
});

test("the transport options are checked like go-dqlite's, with clear errors", () => {
  const dial = () => Promise.reject(new Error("unused"));
  assert.throws(() => resolveOptions({ unixSocket: "@x" }), AppError);
  assert.throws(
    () => resolveOptions({ externalConnections: { dial }, unixSocket: "/run/x.sock" }),
    RangeError,
  );
  assert.throws(
    () =>
      resolveOptions({
        externalConnections: { dial },
        tls: { server: {}, client: {} },
      }),
    /tls and externalConnections cannot be combined/,
  );
  assert.throws(() => resolveOptions({ tracing: "verbose" as "debug" }), RangeError);
  const resolved = resolveOptions({ externalConnections: { dial }, unixSocket: "@mine" });
  assert.equal(resolved.unixSocket, "@mine");
  assert.equal(resolveOptions({}).diskMode, false);
});
