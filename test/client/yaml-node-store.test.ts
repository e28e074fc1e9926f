// The YAML node store: the shapes go-dqlite 1.11 and current go-dqlite write (client-protocol.md
// §14.2), u64 ids without precision loss, atomic writes with mode 0600.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DqliteError } from "../../src/client/errors.js";
import { MemoryNodeStore, roleName, toRole } from "../../src/client/node-store.js";
import {
  formatNodeStoreYaml,
  parseNodeStoreYaml,
  YamlNodeStore,
} from "../../src/client/yaml-node-store.js";
import { Role } from "../../src/wire/index.js";

async function tempDir(): Promise<string> {
  return await mkdtemp(join(tmpdir(), "yaml-store-"));
}

// go-dqlite 1.11 marshals through JSON: keys come out sorted.
const WRITTEN_BY_1_11 = `- Address: 127.0.0.1:9001
  ID: 3297041220608546238
  Role: 0
- Address: 127.0.0.1:9002
  ID: 720368636996183371
  Role: 2
`;

// Current go-dqlite (yaml.v2 with tags): ID, Address, Role.
const WRITTEN_BY_HEAD = `- ID: 3297041220608546238
  Address: 127.0.0.1:9001
  Role: 0
- ID: 720368636996183371
  Address: 127.0.0.1:9002
  Role: 2
`;

const NODES = [
  { id: 3297041220608546238n, address: "127.0.0.1:9001", role: Role.Voter },
  { id: 720368636996183371n, address: "127.0.0.1:9002", role: Role.Spare },
];

test("both go-dqlite shapes are read, ids as exact bigints", () => {
  assert.deepEqual(parseNodeStoreYaml(WRITTEN_BY_1_11), NODES);
  assert.deepEqual(parseNodeStoreYaml(WRITTEN_BY_HEAD), NODES);
});

test("we write the current go-dqlite shape byte for byte", () => {
  assert.equal(formatNodeStoreYaml(NODES), WRITTEN_BY_HEAD);
  assert.equal(formatNodeStoreYaml([]), "[]\n");
});

test("the largest u64 id survives a round trip", () => {
  const nodes = [{ id: 2n ** 64n - 1n, address: "n1:1", role: Role.StandBy }];
  assert.deepEqual(parseNodeStoreYaml(formatNodeStoreYaml(nodes)), nodes);
  assert.throws(() => formatNodeStoreYaml([{ ...nodes[0], id: 2n ** 64n }]), RangeError);
});

test("addresses YAML would misread are quoted", () => {
  const nodes = ["@dqlite-1", "yes", "1:20", "[::1]:9001", "", "null", "a #b"].map(
    (address, i) => ({ id: BigInt(i + 1), address, role: Role.Voter }),
  );
  const text = formatNodeStoreYaml(nodes);
  assert.match(text, /Address: "@dqlite-1"/);
  assert.match(text, /Address: "yes"/);
  assert.deepEqual(parseNodeStoreYaml(text), nodes);
});

test("missing keys are zero values, key case and unknown keys do not matter", () => {
  assert.deepEqual(parseNodeStoreYaml("- address: a:1\n  extra: x\n"), [
    { id: 0n, address: "a:1", role: Role.Voter },
  ]);
  assert.deepEqual(parseNodeStoreYaml(""), []);
  assert.deepEqual(parseNodeStoreYaml("[]\n"), []);
});

test("malformed files are refused with DqliteError", () => {
  for (const text of [
    "ID: 1\n",
    "- 1\n",
    "- ID: -1\n",
    "- ID: 18446744073709551616\n",
    "- ID: abc\n",
    "- Address: 12\n",
    "- Role: 3\n",
    "- [unclosed\n",
  ]) {
    assert.throws(() => parseNodeStoreYaml(text), DqliteError, text);
  }
});

test("a missing file is an empty store; set writes atomically with mode 0600", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "cluster.yaml");
    const store = await YamlNodeStore.open(path);
    assert.deepEqual(await store.get(), []);
    await store.set(NODES);
    assert.equal(await readFile(path, "utf8"), WRITTEN_BY_HEAD);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ["cluster.yaml"], "no temporary file left behind");
    assert.deepEqual(await (await YamlNodeStore.open(path)).get(), NODES);
    // get hands out copies.
    const copy = await store.get();
    copy[0].address = "changed";
    assert.equal((await store.get())[0].address, "127.0.0.1:9001");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("concurrent sets leave the file with the last one", async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, "cluster.yaml");
    await writeFile(path, WRITTEN_BY_1_11);
    const store = await YamlNodeStore.open(path);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.set([{ id: BigInt(i + 1), address: `n:${i}`, role: Role.Voter }]),
      ),
    );
    assert.deepEqual(parseNodeStoreYaml(await readFile(path, "utf8")), [
      { id: 10n, address: "n:9", role: Role.Voter },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the memory store takes bare addresses and role names map both ways", async () => {
  const store = new MemoryNodeStore(["a:1", { id: 5n, address: "b:2", role: Role.StandBy }]);
  assert.deepEqual(await store.get(), [
    { id: 0n, address: "a:1", role: Role.Voter },
    { id: 5n, address: "b:2", role: Role.StandBy },
  ]);
  assert.equal(roleName(Role.StandBy), "stand-by");
  assert.equal(toRole("spare"), Role.Spare);
  assert.throws(() => toRole("leader" as never), RangeError);
  assert.throws(() => toRole(3 as Role), RangeError);
});
