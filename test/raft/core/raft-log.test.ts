import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { entrySizeBytes, RaftLog } from "../../../src/raft/core/raft-log.js";
import { type Entry, EntryType } from "../../../src/raft/core/types.js";

const entry = (index: number, term: number, size = 8): Entry => ({
  index,
  term,
  type: EntryType.Command,
  data: new Uint8Array(size),
});

function logOf(terms: number[]): RaftLog {
  const log = new RaftLog();
  for (const [i, term] of terms.entries()) log.append(entry(i + 1, term));
  return log;
}

test("an empty log knows nothing but index 0", () => {
  const log = new RaftLog();
  assert.deepEqual([log.lastIndex, log.lastTerm, log.termAt(0), log.termAt(1)], [0, 0, 0, 0]);
});

test("terms by index, truncation and appends after it", () => {
  const log = logOf([1, 1, 2, 2, 3]);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((i) => log.termAt(i)),
    [1, 1, 2, 2, 3, 0],
  );
  log.truncate(4);
  assert.equal(log.lastIndex, 3);
  log.append(entry(4, 5));
  assert.deepEqual([log.lastIndex, log.lastTerm], [4, 5]);
  assert.throws(() => log.append(entry(6, 5)), /append 6 after 4/);
});

test("slices stop at a byte budget but always carry one entry", () => {
  const log = logOf([1, 1, 1, 1]);
  assert.equal(log.slice(1, 4).length, 4);
  assert.equal(log.slice(1, 4, 2 * 24).length, 2, "24 bytes each: 8 of data, 16 of header");
  assert.equal(log.slice(1, 4, 1).length, 1);
  assert.equal(log.slice(3, 9).length, 2);
});

test("compaction keeps the trailing entries and the snapshot's term", () => {
  const log = logOf([1, 1, 2, 2, 2, 3, 3, 3]);
  log.compact(6, 2);
  assert.deepEqual([log.snapshotIndex, log.snapshotTerm, log.firstIndex], [6, 3, 5]);
  assert.deepEqual(
    [4, 5, 6, 7, 8].map((i) => log.termAt(i)),
    [0, 2, 3, 3, 3],
  );
  log.compact(8, 0);
  assert.deepEqual([log.firstIndex, log.length, log.lastIndex, log.lastTerm], [9, 0, 8, 3]);
  log.append(entry(9, 4));
  assert.equal(log.termAt(9), 4);
});

test("compaction also bounds the bytes of trailing entries kept (the snapshot's term stays)", () => {
  const log = logOf([1, 1, 2, 2, 2, 3, 3, 3]); // 8 bytes of data each
  log.compact(6, 5, 16);
  assert.deepEqual([log.snapshotIndex, log.snapshotTerm, log.firstIndex], [6, 3, 5]);
  log.compact(7, 5, 7);
  assert.deepEqual([log.snapshotIndex, log.snapshotTerm, log.firstIndex], [7, 3, 8]);
  assert.equal(log.termAt(7), 3, "the snapshot's own term is still known");
  assert.equal(log.get(8)?.index, 8, "entries after the snapshot are never dropped");
});

test("entries dropped by compaction are no longer reachable from the log", async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const log = new RaftLog();
  const dropped: WeakRef<Uint8Array>[] = [];
  for (let i = 1; i <= 20; i++) {
    const e = entry(i, 1, 1024);
    if (i <= 10) dropped.push(new WeakRef(e.data));
    log.append(e);
  }
  log.compact(12, 2);
  assert.equal(log.firstIndex, 11);
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(dropped.filter((ref) => ref.deref() !== undefined).length, 0);
  assert.equal(log.get(11)?.data.length, 1024, "kept entries stay");
});

test("a long-lived log keeps working after many compactions", () => {
  const log = new RaftLog();
  for (let i = 1; i <= 10_000; i++) {
    log.append(entry(i, 1));
    if (i % 100 === 0) log.compact(i - 10, 5);
  }
  assert.equal(log.lastIndex, 10_000);
  assert.equal(log.firstIndex, 9986);
  assert.equal(log.get(9990)?.index, 9990);
});

test("restore replaces everything by a snapshot point", () => {
  const log = logOf([1, 1, 2]);
  log.restore(50, 7);
  assert.deepEqual([log.lastIndex, log.lastTerm, log.termAt(3), log.length], [50, 7, 0, 0]);
  log.append(entry(51, 7));
  assert.equal(log.lastIndex, 51);
});

test("entries loaded from before a snapshot sit in the log behind it", () => {
  const log = new RaftLog(10, 2, 8);
  for (let i = 8; i <= 12; i++) log.append(entry(i, 2));
  assert.deepEqual(
    [log.firstIndex, log.lastIndex, log.termAt(8), log.snapshotIndex],
    [8, 12, 2, 10],
  );
});

test("the snapshot and committed entries cannot be truncated", () => {
  const log = logOf([1, 1, 1]);
  log.compact(2, 5);
  assert.throws(() => log.truncate(2), /at or below snapshot/);
});

test("dropping data keeps the newest bytes, and the terms and sizes of all", () => {
  const log = new RaftLog();
  for (let i = 1; i <= 6; i++) log.append(entry(i, 1, 64));
  assert.equal(log.heldBytes, 6 * 64);
  // Only entries up to 4 may go (applied and durable), and 128 bytes stay.
  log.dropData(4, 128);
  assert.equal(log.droppedThrough, 4);
  assert.equal(log.heldBytes, 2 * 64);
  for (let i = 1; i <= 4; i++) {
    const stand = log.get(i)!;
    assert.equal(stand.data.length, 0, `entry ${i} holds no data`);
    assert.equal(stand.droppedDataBytes, 64);
    assert.equal(stand.term, 1);
    assert.equal(entrySizeBytes(stand), 64 + 16, "flow control still counts its real size");
  }
  assert.equal(log.get(5)!.data.length, 64);
  assert.equal(log.get(5)!.droppedDataBytes, undefined);
  // The window: nothing more goes while the held bytes fit.
  log.dropData(6, 128);
  assert.equal(log.droppedThrough, 4);
  log.dropData(6, 0);
  assert.deepEqual([log.droppedThrough, log.heldBytes], [6, 0]);
});

test("a stand-in is a new object: an entry handed out earlier keeps its data", () => {
  const log = new RaftLog();
  const first = entry(1, 1, 16);
  log.append(first);
  const handedOut = log.slice(1, 1)[0];
  log.dropData(1, 0);
  assert.equal(handedOut, first);
  assert.equal(first.data.length, 16);
  assert.notEqual(log.get(1), first);
});

test("configuration and barrier entries keep their data when commands' is dropped", () => {
  const log = new RaftLog();
  log.append({ index: 1, term: 1, type: EntryType.Change, data: new Uint8Array(24) });
  log.append({ index: 2, term: 1, type: EntryType.Barrier, data: new Uint8Array(8) });
  log.append(entry(3, 1, 32));
  log.dropData(3, 0);
  assert.deepEqual(
    [1, 2, 3].map((i) => [log.get(i)!.data.length, log.get(i)!.droppedDataBytes]),
    [
      [24, undefined],
      [8, undefined],
      [0, 32],
    ],
  );
  assert.equal(log.heldBytes, 0, "below the watermark nothing counts as held");
});

test("held bytes follow truncation, compaction and restore", () => {
  const log = new RaftLog();
  for (let i = 1; i <= 8; i++) log.append(entry(i, 1, 8 * i));
  const total = (from: number, to: number) => {
    let n = 0;
    for (let i = from; i <= to; i++) n += 8 * i;
    return n;
  };
  log.dropData(3, 0);
  assert.equal(log.heldBytes, total(4, 8));
  assert.throws(() => log.truncate(3), /dropped data/);
  log.truncate(7);
  assert.equal(log.heldBytes, total(4, 6));
  log.append(entry(7, 2, 800));
  assert.equal(log.heldBytes, total(4, 6) + 800);
  // Compaction past the watermark forgets held entries too.
  log.compact(5, 0);
  assert.deepEqual([log.firstIndex, log.droppedThrough, log.heldBytes], [6, 5, 48 + 800]);
  log.restore(20, 3);
  assert.deepEqual([log.heldBytes, log.droppedThrough], [0, 20]);
  log.append(entry(21, 3, 40));
  assert.equal(log.heldBytes, 40);
});
