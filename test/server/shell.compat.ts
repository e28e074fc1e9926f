import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type NodeCluster, startNodeCluster } from "../harness/node-cluster.js";
import { type DemoCluster, startDemoCluster } from "../harness/real-dqlite.js";

// Debian's real `dqlite` shell (go-dqlite 1.11.5) runs one script against a real 3-node
// dqlite-demo cluster and against ours; the outputs must match once node ids and ports are named
// by node position.

const run = promisify(execFile);
let ours: NodeCluster;
let real: DemoCluster;
let workDir: string;

before(async () => {
  [ours, real] = await Promise.all([startNodeCluster(3), startDemoCluster(3)]);
  workDir = await mkdtemp(join(tmpdir(), "shell-compat-"));
});
after(async () => {
  await Promise.all([ours?.stop(), real?.stop()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Runs the Debian shell; returns its exit code and output with addresses and ids named N1.. */
async function shell(addresses: string[], command: string, format = "tabular"): Promise<string> {
  let out: string;
  try {
    const { stdout, stderr } = await run(
      "/usr/bin/dqlite",
      ["-s", addresses.join(","), "-f", format, "demo", command],
      { cwd: workDir, timeout: 20_000, killSignal: "SIGKILL" },
    );
    out = `exit 0\n${stdout}${stderr}`;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    out = `exit ${e.code}\n${e.stdout ?? ""}${e.stderr ?? ""}`;
  }
  return normalize(out, addresses);
}

function normalize(text: string, addresses: string[]): string {
  let result = text;
  addresses.forEach((address, i) => {
    const name = `N${i + 1}`;
    // .cluster prints "<hex id>|<address>|<role>"; JSON prints "ID": <decimal>, "Address": ...
    result = result
      .replace(new RegExp(`[0-9a-f]+\\|${address}\\|`, "g"), `ID-${name}|${name}|`)
      .replace(
        new RegExp(`"ID": \\d+,(\\s+)"Address": "${address}"`, "g"),
        `"ID": ID-${name},$1"Address": "${name}"`,
      )
      .replaceAll(address, name);
  });
  return result;
}

const script = (addresses: string[]) => [
  "CREATE TABLE kinds (i INTEGER, t TEXT, b BLOB, r REAL, flag BOOLEAN, at DATETIME, n)",
  "INSERT INTO kinds VALUES (-2, 'hi', x'deadbe', 0.5, 1, '2024-01-02 03:04:05', NULL)",
  "INSERT INTO kinds VALUES (9007199254740993, '', x'', 1e20, 0, 1700000000, 3)",
  "INSERT INTO kinds VALUES (3, 'x', NULL, -1.25, NULL, NULL, 'text')",
  "SELECT * FROM kinds ORDER BY i",
  "SELECT count(*), sum(r), 'literal', 1 + 1 FROM kinds",
  "SELECT i FROM kinds WHERE i > 100",
  "UPDATE kinds SET t = 'changed' WHERE i = 3",
  "SELECT t FROM kinds WHERE i = 3",
  "SELEC 1",
  "SELECT * FROM missing",
  "INSERT INTO kinds VALUES (1)",
  ".leader",
  ".cluster",
  `.describe ${addresses[1]}`,
  `.weight ${addresses[1]} 3`,
  `.describe ${addresses[1]}`,
  `.dump ${addresses[0]} demo`,
  `.remove ${addresses[2]}`,
  ".cluster",
];

test("Debian's dqlite shell prints the same for our cluster as for a real one", async () => {
  const oursAddresses = ours.addresses();
  const realAddresses = real.nodes.map((n) => n.db);
  const oursScript = script(oursAddresses);
  const realScript = script(realAddresses);
  for (let i = 0; i < oursScript.length; i++) {
    const expected = await shell(realAddresses, realScript[i]);
    const actual = await shell(oursAddresses, oursScript[i]);
    assert.equal(actual, expected, `command ${JSON.stringify(realScript[i])}`);
  }
  const expectedJson = await shell(realAddresses, ".cluster", "json");
  assert.equal(await shell(oursAddresses, ".cluster", "json"), expectedJson);
  assert.equal(
    await shell(oursAddresses, `.describe ${oursAddresses[0]}`, "json"),
    await shell(realAddresses, `.describe ${realAddresses[0]}`, "json"),
  );
});
