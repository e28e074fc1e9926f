// Data directories written by Debian's dqlite (libraft 0.15), see test/fixtures/raft-datadir:
// they load with the expected content, and what we would write for the same content is the
// same bytes.
import assert from "node:assert/strict";
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { decodeConfiguration } from "../../../src/raft/core/configuration-codec.js";
import { type Entry, EntryType, RaftRole } from "../../../src/raft/core/types.js";
import { crc32 } from "../../../src/raft/io/crc32.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import { isLz4Frame, lz4Compress, lz4Decompress } from "../../../src/raft/io/lz4-frame.js";
import { decodeMetadata, encodeMetadata } from "../../../src/raft/io/metadata-format.js";
import { batchBytes, encodeBatch, readBatch } from "../../../src/raft/io/segment-format.js";
import { snapshotBytes } from "../../../src/raft/io/snapshot-data.js";
import {
  decodeSnapshotMeta,
  encodeSnapshotMeta,
} from "../../../src/raft/io/snapshot-meta-format.js";
import { entries as makeEntries, plain, withTempDir } from "./storage-helpers.js";

const FIXTURES = new URL("../../fixtures/raft-datadir/", import.meta.url).pathname;
const LEADER_ID = 0x2dc171858c3155ben;

async function loadCopy(fixture: string, dir: string) {
  const copy = join(dir, fixture);
  cpSync(join(FIXTURES, fixture), copy, { recursive: true });
  const storage = new DiskStorage(copy);
  const state = await storage.load();
  return { copy, storage, state };
}

/** The FRAMES command of engine-internals §2.3, headers only. */
function decodeFrames(data: Uint8Array) {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  assert.equal(buffer[0], 1, "command format");
  const nul = buffer.indexOf(0, 8);
  const filename = buffer.toString("utf8", 8, nul);
  let offset = 8 + Math.ceil((nul - 8 + 1) / 8) * 8;
  const txId = buffer.readBigUInt64LE(offset);
  const isCommit = buffer[offset + 12];
  offset += 16;
  const pageCount = buffer.readUInt32LE(offset);
  const pageSize = buffer.readUInt16LE(offset + 4);
  offset += 8;
  const pages = Array.from({ length: pageCount }, (_, i) =>
    Number(buffer.readBigUInt64LE(offset + 8 * i)),
  );
  return {
    type: buffer[1],
    filename,
    txId,
    isCommit,
    pageSize,
    pages,
    expectedBytes: offset + 8 * pageCount + pageSize * pageCount,
  };
}

test("the leader's directory loads: term, every entry from 1 to 1108, the LZ4 snapshot at 1024", () =>
  withTempDir(async (dir) => {
    const { storage, state } = await loadCopy("leader", dir);
    await storage.close();
    assert.deepEqual(state.hardState, { term: 1, votedFor: 0n });
    assert.equal(state.startIndex, 1);
    assert.equal(state.entries.length, 1108);
    assert.ok(state.entries.every((entry, i) => entry.index === i + 1));

    const [bootstrap] = state.entries;
    assert.equal(bootstrap.type, EntryType.Change);
    assert.deepEqual(decodeConfiguration(bootstrap.data), [
      { id: LEADER_ID, address: "127.0.0.1:29101", role: RaftRole.Voter },
    ]);
    const changes = state.entries.filter((e) => e.type === EntryType.Change);
    const last = decodeConfiguration(changes.at(-1)!.data);
    assert.equal(last.length, 3);
    assert.ok(last.every((server) => server.role === RaftRole.Voter));
    assert.deepEqual(state.lastConfiguration?.configuration, last);

    let frames = 0;
    for (const entry of state.entries.filter((e) => e.type === EntryType.Command)) {
      assert.equal(entry.data[0], 1, "command envelope format");
      assert.ok([1, 2, 3, 4].includes(entry.data[1]), `command type ${entry.data[1]}`);
      if (entry.data[1] !== 2) continue;
      const command = decodeFrames(entry.data);
      frames++;
      assert.equal(command.filename, "demo");
      assert.equal(command.txId, 0n);
      assert.equal(command.isCommit, 1);
      assert.equal(command.pageSize, 4096);
      assert.ok(command.pages.length >= 1 && command.pages.every((p) => p >= 1));
      assert.equal(entry.data.length, command.expectedBytes);
    }
    assert.ok(frames >= 1100, `${frames} FRAMES commands`);

    const snapshot = state.snapshot!;
    assert.equal(snapshot.meta.index, 1024);
    assert.equal(snapshot.meta.term, 1);
    assert.deepEqual(snapshot.meta.configuration, last);
    // §2.5: header, one database "demo", main image sized by page 1's page count, then the WAL.
    const bytes = await snapshotBytes(snapshot.data);
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(data.readBigUInt64LE(0), 1n);
    assert.equal(data.readBigUInt64LE(8), 1n);
    assert.equal(data.toString("utf8", 16, 20), "demo");
    const mainSize = Number(data.readBigUInt64LE(24));
    const walSize = Number(data.readBigUInt64LE(32));
    const main = data.subarray(40, 40 + mainSize);
    assert.equal(main.toString("latin1", 0, 15), "SQLite format 3");
    assert.equal(main.readUInt32BE(28) * 4096, mainSize);
    const wal = data.subarray(40 + mainSize, 40 + mainSize + walSize);
    assert.ok([0x377f0682, 0x377f0683].includes(wal.readUInt32BE(0)));
    assert.equal((walSize - 32) % (24 + 4096), 0);
    assert.equal(data.length, 40 + mainSize + walSize);
  }));

test("the crashed follower's open segment loads, matches the leader's entries, and is finalized", () =>
  withTempDir(async (dir) => {
    const leader = await loadCopy("leader", dir);
    await leader.storage.close();
    const { copy, storage, state } = await loadCopy("crashed-follower", dir);
    await storage.close();
    assert.equal(state.snapshot?.meta.index, 1024);
    assert.equal(state.startIndex, 990);
    const lastIndex = state.startIndex + state.entries.length - 1;
    assert.ok(lastIndex > 1026, `follower has entries up to ${lastIndex}`);
    assert.deepEqual(plain(state.entries), plain(leader.state.entries.slice(989, lastIndex)));
    const names = readdirSync(copy).sort();
    assert.ok(!names.some((n) => n.startsWith("open-")), names.join(" "));
    assert.ok(names.includes(`0000000000001026-${String(lastIndex).padStart(16, "0")}`));
  }));

/**
 * libraft leaves the 3 unused bytes after each entry type uninitialised on disk too (the header
 * CRC covers whatever they held), so compare with those bytes zeroed and the header CRC
 * recomputed; everything else, data CRC included, must be identical.
 */
function normalizeBatch(batch: Uint8Array): Uint8Array {
  const out = batch.slice();
  const view = new DataView(out.buffer);
  const n = Number(view.getBigUint64(8, true));
  for (let i = 0; i < n; i++) out.fill(0, 16 + 16 * i + 9, 16 + 16 * i + 12);
  view.setUint32(0, crc32(out.subarray(8, 16 + 16 * n)), true);
  return out;
}

test("re-encoding every batch of the real segments gives their bytes (unused bytes aside)", () => {
  let batches = 0;
  let dirty = 0;
  for (const fixture of ["leader", "crashed-follower"]) {
    for (const name of readdirSync(join(FIXTURES, fixture)).filter((n) =>
      /^(\d{16}-\d{16}|open-\d+)$/.test(n),
    )) {
      const bytes = new Uint8Array(readFileSync(join(FIXTURES, fixture, name)));
      if (bytes.length === 0) continue;
      let offset = 8;
      while (offset < bytes.length) {
        const batch = readBatch(bytes, offset, 1);
        assert.ok(batch.ok, `${fixture}/${name} at ${offset}: ${batch.ok || batch.reason}`);
        const theirs = bytes.subarray(offset, batch.end);
        const ours = new Uint8Array(batchBytes(batch.entries));
        encodeBatch(batch.entries, ours, 0);
        assert.deepEqual(ours, normalizeBatch(theirs), `${fixture}/${name} batch at ${offset}`);
        if (!Buffer.from(ours).equals(theirs)) dirty++;
        offset = batch.end;
        batches++;
      }
    }
  }
  assert.ok(batches > 1000, `${batches} batches compared`);
  assert.ok(dirty < batches, `${dirty} of ${batches} batches had non-zero unused bytes`);
});

test("our bootstrap segment, metadata and snapshot .meta equal libraft's bytes", () =>
  withTempDir(async (dir) => {
    const leader = join(FIXTURES, "leader");
    const bootstrapBytes = readFileSync(join(leader, "0000000000000001-0000000000000001"));
    const ours = new DiskStorage(join(dir, "ours"));
    await ours.load();
    await ours.bootstrap([{ id: LEADER_ID, address: "127.0.0.1:29101", role: RaftRole.Voter }]);
    await ours.close();
    assert.deepEqual(
      readFileSync(join(dir, "ours", "0000000000000001-0000000000000001")),
      bootstrapBytes,
    );
    assert.deepEqual(
      readFileSync(join(dir, "ours", "metadata1")),
      readFileSync(join(leader, "metadata1")),
    );

    const metadata = readFileSync(join(leader, "metadata1"));
    const decoded = decodeMetadata(metadata);
    assert.ok(typeof decoded !== "string");
    assert.deepEqual(Buffer.from(encodeMetadata(decoded)), metadata);
    for (const fixture of ["leader", "crashed-follower"]) {
      const metaName = readdirSync(join(FIXTURES, fixture)).find((n) => n.endsWith(".meta"))!;
      const meta = readFileSync(join(FIXTURES, fixture, metaName));
      const parsed = decodeSnapshotMeta(meta);
      assert.ok(typeof parsed !== "string", String(parsed));
      assert.equal(parsed.configurationIndex, 6);
      assert.deepEqual(Buffer.from(encodeSnapshotMeta(parsed)), meta);
    }
  }));

test("the real LZ4 snapshot decompresses; our compression of it decompresses to the same bytes", () => {
  const leader = join(FIXTURES, "leader");
  const name = readdirSync(leader).find((n) => n.startsWith("snapshot-") && !n.endsWith(".meta"))!;
  const frame = new Uint8Array(readFileSync(join(leader, name)));
  assert.ok(isLz4Frame(frame));
  const content = lz4Decompress(frame);
  const ours = lz4Compress(content);
  assert.ok(ours.length < content.length / 4, `${ours.length} of ${content.length}`);
  assert.deepEqual(lz4Decompress(ours), content);
  const corrupted = frame.slice();
  corrupted[corrupted.length - 10] ^= 0x55;
  assert.throws(() => lz4Decompress(corrupted));
});

test("our storage continues a real directory: append, snapshot, restart", () =>
  withTempDir(async (dir) => {
    const { copy, storage, state } = await loadCopy("leader", dir);
    const next = state.startIndex + state.entries.length;
    const more: Entry[] = makeEntries(next, next + 99, 2);
    await storage.setHardState({ term: 2, votedFor: LEADER_ID });
    for (let i = 0; i < more.length; i += 10) await storage.append(more.slice(i, i + 10));
    await storage.putSnapshot(
      { meta: { ...state.snapshot!.meta, index: next + 50, term: 2 }, data: state.snapshot!.data },
      8192,
    );
    await storage.close();
    const again = new DiskStorage(copy);
    const reloaded = await again.load();
    await again.close();
    assert.deepEqual(reloaded.hardState, { term: 2, votedFor: LEADER_ID });
    assert.equal(reloaded.snapshot?.meta.index, next + 50);
    assert.deepEqual(plain(reloaded.entries.slice(-100)), plain(more));
    assert.deepEqual(plain(reloaded.entries.slice(0, 1108)), plain(state.entries));
  }));
