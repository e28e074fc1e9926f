// Mutual TLS from one certificate: a cluster of Apps works over it, and a client without a
// certificate, with one the cluster does not trust, or without TLS at all, is refused.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { App } from "../../src/app/app.js";
import { AppError } from "../../src/app/errors.js";
import { simpleTlsConfig, tlsDial } from "../../src/app/tls.js";
import { Client, connect, type DialFunction } from "../../src/client/index.js";
import { Role } from "../../src/wire/index.js";
import { waitFor } from "../harness/processes.js";
import { AppCluster, memoryLogger, roleCounts } from "./app-harness.js";

const FIXTURES = join(import.meta.dirname, "..", "cli", "fixtures");
const cert = await readFile(join(FIXTURES, "tls-cert.pem"), "utf8");
const key = await readFile(join(FIXTURES, "tls-key.pem"), "utf8");
const otherCert = await readFile(join(FIXTURES, "nodns-cert.pem"), "utf8");
const otherKey = await readFile(join(FIXTURES, "nodns-key.pem"), "utf8");

const tls = simpleTlsConfig({ cert, key });
// Every connection costs a TLS handshake (milliseconds of CPU, in this one process for all the
// nodes): slower elections than the other tests so a busy machine does not depose the leader.
const cluster = await AppCluster.create(4, {
  tls,
  networkLatencyMs: 60,
  rolesAdjustmentFrequencyMs: 500,
});
after(() => cluster.close(), { timeout: 60_000 });

/** Connects with `dial` and asks for the node's metadata. */
async function describeWith(address: string, dial: DialFunction): Promise<unknown> {
  const client = await Client.connect(address, { dial, timeoutMs: 5000 });
  try {
    return await client.describe();
  } finally {
    client.close();
  }
}

test("simpleTlsConfig: mutual TLS >= 1.2 named after the certificate's first DNS name", () => {
  assert.equal(tls.server.requestCert, true);
  assert.equal(tls.server.rejectUnauthorized, true);
  assert.equal(tls.server.minVersion, "TLSv1.2");
  assert.equal(tls.client.servername, "dqlite-test");
  assert.equal(tls.client.ca, cert);
  assert.throws(
    () => simpleTlsConfig({ cert: otherCert, key: otherKey }),
    new AppError("certificate has no DNS extension"),
  );
});

test("a cluster of Apps runs over mutual TLS and refuses clients without the right certificate", {
  timeout: 120_000,
}, async () => {
  for (const index of [0, 1, 2]) await cluster.start(index);
  await cluster.waitForRoles("three voters over TLS", (m) => roleCounts(m)[0] === 3);

  const db = await cluster.apps[1]!.open("secure");
  await db.exec("CREATE TABLE t (v TEXT)");
  await db.exec("INSERT INTO t VALUES ('over tls')");
  await db.close();
  // Any client with the cluster's TLS dial function gets in.
  const outside = await connect({ cluster: cluster.addresses, database: "secure", dial: tls.dial });
  assert.deepEqual((await outside.query("SELECT v FROM t")).rows, [{ v: "over tls" }]);
  await outside.close();
  const target = cluster.addresses[2];
  assert.deepEqual(await describeWith(target, tls.dial), { failureDomain: 0n, weight: 0n });

  const refusals = () =>
    cluster.logs.filter((l) => l.message === "node2: TLS handshake refused").length;
  const before = refusals();
  // No client certificate.
  await assert.rejects(describeWith(target, tlsDial({ ca: cert, servername: "dqlite-test" })));
  // A certificate the cluster does not trust.
  await assert.rejects(
    describeWith(
      target,
      tlsDial({ cert: otherCert, key: otherKey, ca: cert, servername: "dqlite-test" }),
    ),
  );
  // No TLS at all.
  await assert.rejects(
    (async () => {
      const plain = await Client.connect(target, { timeoutMs: 5000 });
      try {
        await plain.describe();
      } finally {
        plain.close();
      }
    })(),
  );
  // The node logged each refused handshake.
  await waitFor("three refusals in the log", () => (refusals() >= before + 3 ? true : undefined));

  // A client that does not trust the cluster's certificate refuses the server in turn.
  await assert.rejects(
    describeWith(target, tlsDial({ cert, key, ca: otherCert, servername: "dqlite-test" })),
    /TLS handshake failed/,
  );
  const members = await cluster.members();
  assert.equal(members.filter((m) => m.role === Role.Voter).length, 3);
});

test("a node whose certificate the cluster does not trust cannot join", {
  timeout: 60_000,
}, async () => {
  const refusals = () =>
    cluster.logs.filter((l) => /^node[0-2]: TLS handshake refused$/.test(l.message)).length;
  const before = refusals();
  const intruder = await App.create(cluster.dir(3), {
    address: cluster.addresses[3],
    cluster: [cluster.addresses[0]],
    networkLatencyMs: 20,
    logger: memoryLogger("intruder"),
    // Full control of both sides: its own certificate, and it trusts the cluster's.
    tls: {
      server: { cert: otherCert, key: otherKey, ca: otherCert, requestCert: true },
      client: { cert: otherCert, key: otherKey, ca: cert, servername: "dqlite-test" },
    },
  });
  try {
    await assert.rejects(intruder.ready({ signal: AbortSignal.timeout(2000) }), {
      name: "TimeoutError",
    });
    await waitFor("the members to log the refused peer", () =>
      refusals() > before ? true : undefined,
    );
    const members = await cluster.members();
    assert.deepEqual(members.map((m) => m.address).sort(), cluster.addresses.slice(0, 3).sort());
  } finally {
    await intruder.close({ handover: false });
  }
});
