// The App's directory: info.yaml, cluster.yaml and the join marker, with go-dqlite's rules.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { App } from "../../src/app/app.js";
import { AppError } from "../../src/app/errors.js";
import { formatInfo, openAppDirectory, parseInfo } from "../../src/app/files.js";
import { defaultAddress, resolveOptions } from "../../src/app/options.js";
import { BOOTSTRAP_ID } from "../../src/wire/index.js";

const base = await mkdtemp(join(tmpdir(), "app-files-"));
after(() => rm(base, { recursive: true, force: true }));
let counter = 0;
async function freshDir(): Promise<string> {
  const dir = join(base, `d${++counter}`);
  await mkdir(dir);
  return dir;
}

const noDefault = (): string => {
  throw new Error("the default address must not be needed here");
};

test("a new node without cluster addresses founds a cluster with the bootstrap id", async () => {
  const dir = await freshDir();
  const opened = await openAppDirectory(dir, {
    address: "127.0.0.1:9001",
    cluster: [],
    defaultAddress: noDefault,
  });
  assert.deepEqual(opened.identity, { id: BOOTSTRAP_ID, address: "127.0.0.1:9001" });
  assert.equal(opened.joining, false);
  assert.equal(
    await readFile(join(dir, "info.yaml"), "utf8"),
    "ID: 3297041220608546238\nAddress: 127.0.0.1:9001\nRole: 0\n",
  );
  assert.equal(
    await readFile(join(dir, "cluster.yaml"), "utf8"),
    "- ID: 0\n  Address: 127.0.0.1:9001\n  Role: 0\n",
  );
  assert.deepEqual((await readdir(dir)).sort(), ["cluster.yaml", "info.yaml"]);
  assert.equal((await stat(join(dir, "info.yaml"))).mode & 0o777, 0o600);
});

test("a new node with cluster addresses gets a fresh id, the join marker and those addresses", async () => {
  const dir = await freshDir();
  const opened = await openAppDirectory(dir, {
    address: "127.0.0.1:9002",
    cluster: ["127.0.0.1:9001", "127.0.0.1:9003"],
    defaultAddress: noDefault,
  });
  assert.notEqual(opened.identity.id, BOOTSTRAP_ID);
  assert.ok(opened.identity.id > 0n);
  assert.equal(opened.joining, true);
  assert.equal(await readFile(join(dir, "join"), "utf8"), "");
  assert.deepEqual(await opened.store.get(), [
    { id: 0n, address: "127.0.0.1:9001", role: 0 },
    { id: 0n, address: "127.0.0.1:9003", role: 0 },
  ]);
  // A second start reads the same identity back and still has to join.
  const again = await openAppDirectory(dir, {
    address: undefined,
    cluster: [],
    defaultAddress: noDefault,
  });
  assert.deepEqual(again.identity, opened.identity);
  assert.equal(again.joining, true);
});

test("without an address option a new node uses the default address", async () => {
  const dir = await freshDir();
  const opened = await openAppDirectory(dir, {
    address: undefined,
    cluster: [],
    defaultAddress: () => "192.0.2.7:9000",
  });
  assert.equal(opened.identity.address, "192.0.2.7:9000");
});

test("go-dqlite's default address: a non-loopback address with port 9000", () => {
  const address = defaultAddress();
  assert.match(address, /:9000$/);
  assert.doesNotMatch(address, /^127\.|^\[::1\]/);
});

test("an address option that differs from info.yaml is refused", async () => {
  const dir = await freshDir();
  await openAppDirectory(dir, {
    address: "127.0.0.1:9001",
    cluster: [],
    defaultAddress: noDefault,
  });
  await assert.rejects(
    openAppDirectory(dir, { address: "127.0.0.1:9999", cluster: [], defaultAddress: noDefault }),
    new AppError('address "127.0.0.1:9001" in info.yaml does not match "127.0.0.1:9999"'),
  );
});

test("the bootstrap node with a join marker is refused", async () => {
  const dir = await freshDir();
  await openAppDirectory(dir, {
    address: "127.0.0.1:9001",
    cluster: [],
    defaultAddress: noDefault,
  });
  await writeFile(join(dir, "join"), "");
  await assert.rejects(
    openAppDirectory(dir, { address: undefined, cluster: [], defaultAddress: noDefault }),
    new AppError("bootstrap node can't join a cluster"),
  );
});

test("info.yaml without cluster.yaml, or the reverse, is inconsistent", async () => {
  const dir = await freshDir();
  await openAppDirectory(dir, {
    address: "127.0.0.1:9001",
    cluster: [],
    defaultAddress: noDefault,
  });
  await rm(join(dir, "cluster.yaml"));
  await assert.rejects(
    openAppDirectory(dir, { address: undefined, cluster: [], defaultAddress: noDefault }),
    new AppError("inconsistent info.yaml and cluster.yaml"),
  );
  const other = await freshDir();
  await writeFile(join(other, "cluster.yaml"), "- ID: 1\n  Address: 127.0.0.1:9001\n  Role: 0\n");
  await assert.rejects(
    openAppDirectory(other, { address: "127.0.0.1:9002", cluster: [], defaultAddress: noDefault }),
    new AppError("inconsistent info.yaml and cluster.yaml"),
  );
  // The failed start took back the info.yaml it had written.
  assert.deepEqual(await readdir(other), ["cluster.yaml"]);
});

test("info.yaml as go-dqlite 1.11 wrote it (keys sorted) is read", () => {
  assert.deepEqual(parseInfo("Address: 127.0.0.1:9001\nID: 3297041220608546238\nRole: 0\n"), {
    id: BOOTSTRAP_ID,
    address: "127.0.0.1:9001",
  });
  assert.deepEqual(parseInfo("id: 18446744073709551615\naddress: '[::1]:9001'\n"), {
    id: 0xffff_ffff_ffff_ffffn,
    address: "[::1]:9001",
  });
  assert.throws(() => parseInfo("- a\n"), AppError);
  assert.throws(() => parseInfo("Address: x:1\n"), AppError);
  assert.throws(() => parseInfo("ID: -1\nAddress: x:1\n"), AppError);
});

test("info.yaml quotes addresses YAML 1.1 would read as something else", () => {
  const text = formatInfo({ id: 5n, address: "yes" });
  assert.equal(parseInfo(text).address, "yes");
  assert.match(text, /Address: "yes"|Address: 'yes'/);
});

test("voters must be odd and at least 3", () => {
  for (const voters of [1, 2, 4, 0, -3, 3.5]) {
    assert.throws(
      () => resolveOptions({ voters }),
      new AppError(`invalid voters ${voters}: must be an odd number greater than 1`),
    );
  }
  assert.equal(resolveOptions({ voters: 5 }).voters, 5);
  assert.equal(resolveOptions({}).voters, 3);
  assert.equal(resolveOptions({}).standbys, 3);
  assert.equal(resolveOptions({}).rolesAdjustmentFrequencyMs, 30_000);
  assert.throws(() => resolveOptions({ standbys: -1 }), RangeError);
  assert.throws(() => resolveOptions({ rolesAdjustmentFrequencyMs: 0 }), RangeError);
  // The address is the node's lasting identity: a port the kernel picks cannot be one.
  assert.throws(() => resolveOptions({ address: "127.0.0.1:0" }), RangeError);
});

test("App.create refuses bad voters before touching the directory", async () => {
  const dir = await freshDir();
  await assert.rejects(App.create(dir, { voters: 4, address: "127.0.0.1:1" }), AppError);
  assert.deepEqual(await readdir(dir), []);
});

test("App.create takes back its files when the node cannot start", async () => {
  const dir = await freshDir();
  // Port 1 on a documentation address cannot be bound here.
  await assert.rejects(App.create(dir, { address: "192.0.2.123:1" }), /start node/);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith(".yaml") || f === "join"),
    [],
  );
});
