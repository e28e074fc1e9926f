// DiskStorage specifics: the files it leaves, group commit, and what startup does with torn,
// damaged or half-finished directories.
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadDataDir } from "../../../src/raft/io/data-dir-loader.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import { DurableDir, newDiskStats } from "../../../src/raft/io/durable-fs.js";
import { decodeMetadata } from "../../../src/raft/io/metadata-format.js";
import { batchBytes, readSegmentBatches } from "../../../src/raft/io/segment-format.js";
import { writeSnapshot } from "../../../src/raft/io/snapshot-files.js";
import { CorruptDataError } from "../../../src/raft/io/storage.js";
import { CONFIGURATION, entries, plain, snapshot, withTempDir } from "./storage-helpers.js";

const SEGMENT_BYTES = 64 * 1024;
const LOAD_OPTIONS = { autoRecovery: true, maxSnapshotBytes: 1 << 20, maxBatchesPerSegment: 1000 };
const FIRST_SEGMENT = "0000000000000001-0000000000000001";
const segmentFiles = (dir: string) =>
  readdirSync(dir).filter((n) => /^(\d+-\d+|open-\d+)$/.test(n));

async function loaded(dir: string, options = {}) {
  const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES, ...options });
  const state = await storage.load();
  await storage.close();
  return state;
}

test("bootstrap writes metadata1 (version 1, term 1) and the 80-byte closed segment 1-1", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.bootstrap([CONFIGURATION[0]]);
    await storage.close();
    assert.equal(statSync(join(dir, "0000000000000001-0000000000000001")).size, 80);
    assert.deepEqual(decodeMetadata(readFileSync(join(dir, "metadata1"))), {
      version: 1,
      term: 1,
      votedFor: 0n,
    });
    assert.equal(existsSync(join(dir, "metadata2")), false);
    assert.deepEqual(segmentFiles(dir), ["0000000000000001-0000000000000001"]);
  }));

test("hard state writes alternate between metadata1 and metadata2 with rising versions", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.setHardState({ term: 1, votedFor: 0n });
    await storage.setHardState({ term: 2, votedFor: 0n });
    await storage.setHardState({ term: 2, votedFor: 5n });
    await storage.close();
    assert.deepEqual(decodeMetadata(readFileSync(join(dir, "metadata1"))), {
      version: 3,
      term: 2,
      votedFor: 5n,
    });
    assert.deepEqual(decodeMetadata(readFileSync(join(dir, "metadata2"))), {
      version: 2,
      term: 2,
      votedFor: 0n,
    });
    assert.deepEqual((await loaded(dir)).hardState, { term: 2, votedFor: 5n });
  }));

test("metadata: a short file is a crash and is deleted; equal versions are corrupt", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir);
    await storage.load();
    await storage.setHardState({ term: 7, votedFor: 1n });
    await storage.close();
    writeFileSync(join(dir, "metadata2"), new Uint8Array(10));
    assert.deepEqual((await loaded(dir)).hardState, { term: 7, votedFor: 1n });
    assert.equal(existsSync(join(dir, "metadata2")), false);
    cpSync(join(dir, "metadata1"), join(dir, "metadata2"));
    await assert.rejects(loaded(dir), CorruptDataError);
  }));

test("closing finalizes the open segment into <first>-<last> whose batches decode", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 5));
    await storage.append(entries(6, 9));
    await storage.close();
    assert.deepEqual(segmentFiles(dir), ["0000000000000001-0000000000000009"]);
    const bytes = readFileSync(join(dir, "0000000000000001-0000000000000009"));
    assert.equal(bytes.length, 8 + batchBytes(entries(1, 5)) + batchBytes(entries(6, 9)));
    const read = readSegmentBatches(bytes, 1, 10);
    assert.equal(read.stop, undefined);
    assert.deepEqual(plain(read.entries), plain(entries(1, 9)));
  }));

test("appends issued while a write is in flight share one durable write (group commit)", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: 1024 * 1024 });
    await storage.load();
    await storage.append(entries(1, 1));
    const before = { ...storage.stats };
    await Promise.all(Array.from({ length: 200 }, (_, i) => storage.append(entries(i + 2, i + 2))));
    const writes = storage.stats.appendWrites - before.appendWrites;
    assert.ok(writes < 20, `200 appends took ${writes} writes`);
    // One sync per write, plus at most the two of the spare segment prepared meanwhile.
    assert.ok(storage.stats.syncs - before.syncs <= writes + 2);
    await storage.close();
    assert.deepEqual(plain((await loaded(dir)).entries), plain(entries(1, 201)));
  }));

for (const inline of [true, false]) {
  test(`appends ${inline ? "written inline" : "through the thread pool"}, switched midway, load back in order with group commit`, () =>
    withTempDir(async (dir) => {
      const storage = new DiskStorage(dir, { segmentSizeBytes: 64 * 1024 });
      await storage.load();
      storage.setInlineAppends(inline);
      const before = { ...storage.stats };
      const first = Array.from({ length: 100 }, (_, i) => storage.append(entries(i + 1, i + 1)));
      storage.setInlineAppends(!inline);
      await Promise.all([
        ...first,
        ...Array.from({ length: 100 }, (_, i) => storage.append(entries(i + 101, i + 101))),
      ]);
      const writes = storage.stats.appendWrites - before.appendWrites;
      assert.ok(writes < 40, `200 appends took ${writes} writes`);
      await storage.close();
      assert.deepEqual(plain((await loaded(dir)).entries), plain(entries(1, 200)));
    }));
}

test("full segments roll over; an entry bigger than a segment gets a segment of its own", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: 4096 });
    await storage.load();
    for (let i = 1; i <= 100; i += 5) await storage.append(entries(i, i + 4, 1, 8));
    await storage.append(entries(101, 101, 1, 1024)); // 8 KiB
    await storage.append(entries(102, 110, 1, 8));
    await storage.close();
    const names = segmentFiles(dir);
    assert.ok(names.length >= 4, names.join(" "));
    let next = 1;
    for (const name of names) {
      const [first, last] = name.split("-").map(Number);
      assert.equal(first, next, `segments are contiguous: ${names.join(" ")}`);
      next = last + 1;
    }
    assert.equal(next, 111);
    assert.ok(names.includes("0000000000000101-0000000000000101"));
    assert.deepEqual(
      plain((await loaded(dir)).entries),
      plain([...entries(1, 100, 1, 8), ...entries(101, 101, 1, 1024), ...entries(102, 110, 1, 8)]),
    );
  }));

test("snapshots: only the two newest are kept, and compressed ones are LZ4 frames that load back", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, {
      segmentSizeBytes: SEGMENT_BYTES,
      compressSnapshots: true,
    });
    await storage.load();
    await storage.append(entries(1, 30));
    for (const index of [10, 20, 30]) await storage.putSnapshot(snapshot(index, 1, 100_000), 100);
    await storage.close();
    const snapshots = readdirSync(dir)
      .filter((n) => n.startsWith("snapshot-"))
      .sort();
    assert.equal(snapshots.length, 4);
    assert.deepEqual(
      snapshots.map((n) => n.split("-")[2]).sort(),
      ["20", "20.meta".split(".")[0], "30", "30"].sort(),
    );
    const data = snapshots.find((n) => n.startsWith("snapshot-1-30-") && !n.endsWith(".meta"))!;
    assert.deepEqual([...readFileSync(join(dir, data)).subarray(0, 4)], [0x04, 0x22, 0x4d, 0x18]);
    assert.ok(statSync(join(dir, data)).size < 100_000);
    assert.deepEqual((await loaded(dir)).snapshot, snapshot(30, 1, 100_000));
  }));

test("startup deletes tmp- files and half-written snapshots, and leaves unknown files alone", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 3));
    await storage.putSnapshot(snapshot(3, 1), 10);
    await storage.close();
    writeFileSync(join(dir, "tmp-0000000000000004-0000000000000009"), "x");
    writeFileSync(join(dir, "snapshot-1-2-5.meta"), "orphan meta");
    writeFileSync(join(dir, "snapshot-1-1-5"), "orphan data");
    writeFileSync(join(dir, "cluster.yaml"), "- keep me");
    const state = await loaded(dir);
    assert.equal(state.snapshot?.meta.index, 3);
    const names = readdirSync(dir);
    assert.ok(
      !names.some(
        (n) =>
          n.startsWith("tmp-") || n.startsWith("snapshot-1-2-") || n.startsWith("snapshot-1-1-"),
      ),
    );
    assert.ok(names.includes("cluster.yaml"));
  }));

/**
 * Writes batches without closing, then copies the directory as a crash would leave it (every
 * resolved append is on disk, the open segment is still open-N). Returns the copy's path and the
 * byte range of the last batch in its open segment.
 */
async function crashedDirectory(dir: string) {
  const live = join(dir, "live");
  const storage = new DiskStorage(live, { segmentSizeBytes: SEGMENT_BYTES });
  await storage.load();
  await storage.bootstrap(CONFIGURATION);
  const batches = [entries(2, 4, 1), entries(5, 5, 1, 5), entries(6, 6, 1, 1)];
  for (const batch of batches) await storage.append(batch);
  const crashed = join(dir, "crashed");
  cpSync(live, crashed, { recursive: true });
  await storage.close();
  const open = readdirSync(crashed).filter((n) => n.startsWith("open-"));
  const withData = open.find((n) => readFileSync(join(crashed, n)).readUInt32LE(0) === 1)!;
  const end = 8 + batches.reduce((n, b) => n + batchBytes(b), 0);
  return { crashed, openName: withData, lastBatch: { start: end - batchBytes(batches[2]), end } };
}

test("a crash leaves open-N segments that load and become closed segments", () =>
  withTempDir(async (dir) => {
    const { crashed } = await crashedDirectory(dir);
    const state = await loaded(crashed);
    assert.deepEqual(
      plain(state.entries.slice(1)),
      plain([...entries(2, 4), ...entries(5, 5, 1, 5), ...entries(6, 6, 1, 1)]),
    );
    assert.deepEqual(segmentFiles(crashed), [
      "0000000000000001-0000000000000001",
      "0000000000000002-0000000000000006",
    ]);
  }));

test("a last batch torn at any byte, with a zeroed, cut or garbage tail, is dropped and nothing else", () =>
  withTempDir(async (dir) => {
    const { crashed, openName, lastBatch } = await crashedDirectory(dir);
    const original = readFileSync(join(crashed, openName));
    const expected = plain([...entries(2, 4), ...entries(5, 5, 1, 5)]);
    let runs = 0;
    for (let cut = lastBatch.start; cut < lastBatch.end; cut++) {
      for (const tail of ["zeros", "cut", "garbage"] as const) {
        const copy = join(dir, `torn-${cut}-${tail}`);
        mkdirSync(copy);
        cpSync(join(crashed, FIRST_SEGMENT), join(copy, FIRST_SEGMENT));
        const torn = Buffer.from(original);
        if (tail === "zeros") torn.fill(0, cut);
        if (tail === "garbage")
          for (let i = cut; i < Math.min(torn.length, lastBatch.end + 64); i++)
            torn[i] = (i * 131 + 7) & 0xff;
        writeFileSync(join(copy, openName), tail === "cut" ? torn.subarray(0, cut) : torn);
        // The loader alone: a storage would also prepare and delete a spare segment per run.
        const state = await loadDataDir(new DurableDir(copy, newDiskStats()), LOAD_OPTIONS);
        assert.deepEqual(plain(state.entries.slice(1)), expected, `cut at ${cut} (${tail})`);
        assert.deepEqual(segmentFiles(copy), [
          "0000000000000001-0000000000000001",
          "0000000000000002-0000000000000005",
        ]);
        runs++;
      }
    }
    assert.equal(runs, (lastBatch.end - lastBatch.start) * 3);
  }));

test("damage before valid data in an open segment is a CorruptDataError naming file and offset", () =>
  withTempDir(async (dir) => {
    const { crashed, openName } = await crashedDirectory(dir);
    const bytes = readFileSync(join(crashed, openName));
    bytes[8 + 20] ^= 0xff; // inside the first batch's entry headers
    writeFileSync(join(crashed, openName), bytes);
    await assert.rejects(loaded(crashed), (error: unknown) => {
      assert.ok(error instanceof CorruptDataError);
      assert.equal(error.file, join(crashed, openName));
      assert.equal(error.offset, 8);
      assert.match(error.message, /header checksum mismatch, and valid data follows/);
      return true;
    });
  }));

test("a damaged closed segment is a CorruptDataError with its offset", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 4));
    await storage.append(entries(5, 9));
    await storage.close();
    const name = "0000000000000001-0000000000000009";
    const bytes = readFileSync(join(dir, name));
    const second = 8 + batchBytes(entries(1, 4));
    bytes[bytes.length - 1] ^= 1; // last byte of the second batch's data
    writeFileSync(join(dir, name), bytes);
    await assert.rejects(loaded(dir), (error: unknown) => {
      assert.ok(error instanceof CorruptDataError);
      assert.equal(error.offset, second);
      assert.match(error.message, /data checksum mismatch/);
      return true;
    });
  }));

test("auto-recovery quarantines a damaged segment only when the snapshot covers it", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: 4096 });
    await storage.load();
    for (let i = 1; i <= 100; i += 10) await storage.append(entries(i, i + 9, 1, 8));
    await storage.putSnapshot(snapshot(90, 1), 80);
    await storage.close();
    const [oldest, newer] = segmentFiles(dir);
    const [, oldestLast] = oldest.split("-").map(Number);
    assert.ok(oldestLast < 90);
    const damage = (name: string) => {
      const bytes = readFileSync(join(dir, name));
      bytes[30] ^= 0xff;
      writeFileSync(join(dir, name), bytes);
    };
    const backup = join(dir, "..", `${oldest}.backup`);
    cpSync(join(dir, newer), backup);
    damage(newer); // holds entries up to or past... check which
    const [, newerLast] = newer.split("-").map(Number);
    if (newerLast > 90) await assert.rejects(loaded(dir), CorruptDataError);
    cpSync(backup, join(dir, newer));

    damage(oldest);
    await assert.rejects(loaded(dir, { autoRecovery: false }), CorruptDataError);
    const state = await loaded(dir);
    assert.equal(state.startIndex, oldestLast + 1);
    assert.equal(state.entries.at(-1)?.index, 100);
    assert.ok(readdirSync(dir).some((n) => n.startsWith("corrupt-") && n.endsWith(oldest)));
  }));

test("a truncation interrupted after writing its result keeps the shorter segment", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 10));
    await storage.close();
    const longer = "0000000000000001-0000000000000010";
    const saved = readFileSync(join(dir, longer));
    const again = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await again.load();
    await again.truncate(6);
    await again.close();
    writeFileSync(join(dir, longer), saved); // as if the old segment had not been removed yet
    const state = await loaded(dir);
    assert.deepEqual(plain(state.entries), plain(entries(1, 5)));
    assert.deepEqual(segmentFiles(dir), ["0000000000000001-0000000000000005"]);
  }));

test("entries contradicting the snapshot (an interrupted install) are discarded; agreeing ones kept", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 50, 1));
    await storage.close();
    const disk = new DurableDir(dir, newDiskStats());
    await writeSnapshot(disk, snapshot(30, 1), 1, false);
    assert.equal((await loaded(dir)).entries.length, 50);
    await writeSnapshot(disk, snapshot(40, 2), 2, false);
    const state = await loaded(dir);
    assert.equal(state.snapshot?.meta.index, 40);
    assert.equal(state.startIndex, 41);
    assert.deepEqual(state.entries, []);
    assert.deepEqual(segmentFiles(dir), []);
  }));

test("a missing closed segment right after the snapshot is reported, not papered over", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 10));
    await storage.putSnapshot(snapshot(5, 1), 100);
    await storage.close();
    const again = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await again.load();
    await again.append(entries(11, 20));
    await again.close();
    truncateSync(join(dir, "0000000000000001-0000000000000010"), 0);
    await assert.rejects(loaded(dir, { autoRecovery: false }), CorruptDataError);
  }));

test("a snapshot over entries still in the open segment, then a crash, loads with the right indexes", () =>
  withTempDir(async (dir) => {
    // No closed segment at all (a node that joined empty), everything in open-1.
    const live = join(dir, "live");
    const storage = new DiskStorage(live, { segmentSizeBytes: SEGMENT_BYTES });
    await storage.load();
    await storage.append(entries(1, 100));
    await storage.putSnapshot(snapshot(90, 1), 5);
    await storage.append(entries(101, 110));
    const crashed = join(dir, "crashed");
    cpSync(live, crashed, { recursive: true });
    await storage.close();
    const state = await loaded(crashed);
    assert.equal(state.snapshot?.meta.index, 90);
    assert.ok(state.startIndex <= 86);
    assert.deepEqual(plain(state.entries), plain(entries(state.startIndex, 110)));
  }));

test("a damaged snapshot (.meta checksum, LZ4 content) is a CorruptDataError naming the file", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir, {
      segmentSizeBytes: SEGMENT_BYTES,
      compressSnapshots: true,
    });
    await storage.load();
    await storage.append(entries(1, 10));
    await storage.putSnapshot(snapshot(10, 1, 50_000), 100);
    await storage.close();
    const meta = readdirSync(dir).find((n) => n.endsWith(".meta"))!;
    const data = meta.slice(0, -".meta".length);
    const damage = (name: string, at: number) => {
      const bytes = readFileSync(join(dir, name));
      const saved = Buffer.from(bytes);
      bytes[at] ^= 0x40;
      writeFileSync(join(dir, name), bytes);
      return () => writeFileSync(join(dir, name), saved);
    };
    let restore = damage(meta, 40);
    await assert.rejects(loaded(dir), (error: unknown) => {
      assert.ok(error instanceof CorruptDataError);
      assert.equal(error.file, join(dir, meta));
      assert.match(error.message, /checksum mismatch/);
      return true;
    });
    restore();
    restore = damage(data, statSync(join(dir, data)).size - 20);
    await assert.rejects(loaded(dir), (error: unknown) => {
      assert.ok(error instanceof CorruptDataError);
      assert.equal(error.file, join(dir, data));
      assert.match(error.message, /LZ4/);
      return true;
    });
    restore();
    assert.equal((await loaded(dir)).snapshot?.meta.index, 10);
  }));
