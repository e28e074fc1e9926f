// Snapshots as streams: written to and read from snapshot files chunk by chunk, sent over the
// transport chunk by chunk and received into a spool file, with the bytes of libraft's format.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Message, NodeId, Snapshot, SnapshotStream } from "../../../src/raft/core/types.js";
import { listenForPeers } from "../../../src/raft/io/connect-listener.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import { encodeMessage, encodeOutgoing } from "../../../src/raft/io/message-codec.js";
import { MessageDecoder } from "../../../src/raft/io/message-decoder.js";
import { RaftTransport } from "../../../src/raft/io/raft-transport.js";
import {
  chunkedSnapshot,
  coalesceChunks,
  fileSnapshot,
  snapshotBytes,
} from "../../../src/raft/io/snapshot-data.js";
import { SnapshotSpool } from "../../../src/raft/io/snapshot-spool.js";
import { CONFIGURATION, entries, withTempDir } from "./storage-helpers.js";

function pattern(sizeBytes: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) bytes[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return bytes;
}

/** `bytes` as a stream of uneven chunks (pages and odd pieces). */
function streamOf(bytes: Uint8Array, released: { count: number } = { count: 0 }): SnapshotStream {
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = [4096, 24, 40, 100_000, 1][i % 5];
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunkedSnapshot(chunks, () => {
    released.count++;
  });
}

function installSnapshot(data: Snapshot["data"]): Message {
  return {
    type: "installSnapshot",
    from: 1n,
    to: 2n,
    term: 3,
    snapshot: {
      meta: { index: 90, term: 2, configuration: CONFIGURATION, configurationIndex: 1 },
      data,
    },
  };
}

test("coalescing regroups small chunks into large writes without changing the bytes", async () => {
  const bytes = pattern(3 * 1024 * 1024 + 77);
  const pieces: Uint8Array[] = [];
  for await (const piece of coalesceChunks(streamOf(bytes).chunks(), 1024 * 1024)) {
    pieces.push(piece.slice());
  }
  assert.deepEqual(
    pieces.map((p) => p.length),
    [1024 * 1024, 1024 * 1024, 1024 * 1024, 77],
  );
  assert.deepEqual(Buffer.concat(pieces), Buffer.from(bytes));
});

test("a file stream reads its range in chunks, again and again, and can delete its file", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "data");
    const bytes = pattern(2 * 1024 * 1024 + 5);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path, Buffer.concat([Buffer.from("xxxx"), bytes]));
    const stream = fileSnapshot(path, bytes.length, { offset: 4, removeOnRelease: true });
    assert.deepEqual(await snapshotBytes(stream), bytes);
    assert.deepEqual(await snapshotBytes(stream), bytes);
    stream.release();
    await sleep(50);
    assert.equal(existsSync(path), false);
    await assert.rejects(snapshotBytes(stream), /released/);
  }));

test("a streamed snapshot is stored in the same file as the same bytes, and loads as a stream", () =>
  withTempDir(async (dir) => {
    const bytes = pattern(3 * 1024 * 1024 + 4096);
    const meta = { index: 90, term: 2, configuration: CONFIGURATION, configurationIndex: 1 };
    const storage = new DiskStorage(join(dir, "streamed"));
    await storage.load();
    await storage.append(entries(1, 100, 2));
    await storage.putSnapshot({ meta, data: streamOf(bytes) }, 20);
    const loaded = await storage.loadSnapshot();
    await storage.close();
    assert.ok(loaded !== null && !(loaded.data instanceof Uint8Array), "loaded as a stream");
    assert.deepEqual(await snapshotBytes(loaded.data), bytes);

    const reference = new DiskStorage(join(dir, "bytes"));
    await reference.load();
    await reference.append(entries(1, 100, 2));
    await reference.putSnapshot({ meta, data: bytes }, 20);
    await reference.close();
    const files = (sub: string) =>
      readdirSync(join(dir, sub))
        .filter((n) => n.startsWith("snapshot-"))
        .map((n) => readFileSync(join(dir, sub, n)));
    assert.equal(files("streamed").length, 2);
    // Same .meta, same data file (names differ only by their timestamps).
    assert.deepEqual(
      files("streamed").map((f) => f.length),
      files("bytes").map((f) => f.length),
    );
    assert.ok(files("streamed").some((f) => f.equals(Buffer.from(bytes))));
  }));

test("a streamed snapshot that ends early is refused and leaves no snapshot behind", () =>
  withTempDir(async (dir) => {
    const storage = new DiskStorage(dir);
    await storage.load();
    await storage.append(entries(1, 10, 1));
    const short: SnapshotStream = {
      sizeBytes: 10_000,
      async *chunks() {
        yield new Uint8Array(4096);
      },
      release() {},
    };
    const meta = { index: 10, term: 1, configuration: CONFIGURATION, configurationIndex: 1 };
    await assert.rejects(storage.putSnapshot({ meta, data: short }, 5), /ended at 4096/);
    await storage.close().catch(() => {});
    const reopened = new DiskStorage(dir);
    const loaded = await reopened.load();
    await reopened.close();
    assert.equal(loaded.snapshot, null);
  }));

test("an InstallSnapshot with a streamed payload has the bytes of one with the payload in memory", async () => {
  const bytes = pattern(200_000);
  const whole = Buffer.concat(encodeMessage(installSnapshot(bytes)));
  const { pieces, tail } = encodeOutgoing(installSnapshot(streamOf(bytes)));
  assert.ok(tail !== null);
  const streamed = Buffer.concat([...pieces, await snapshotBytes(tail)]);
  assert.deepEqual(streamed, whole);
});

test("the decoder receives a large snapshot into a spool file, and deletes a partial one", () =>
  withTempDir(async (dir) => {
    const spool = new SnapshotSpool(join(dir, "spool"));
    const options = {
      from: 1n,
      to: 2n,
      spool: { thresholdBytes: 1000, maxBytes: 1 << 30, create: (n: number) => spool.create(n) },
    };
    const bytes = pattern(300_000, 7);
    const wire = Buffer.concat(encodeMessage(installSnapshot(bytes)));

    const decoder = new MessageDecoder(options);
    const messages: Message[] = [];
    for (let offset = 0; offset < wire.length; offset += 65_536) {
      messages.push(...decoder.push(wire.subarray(offset, offset + 65_536)));
    }
    assert.equal(messages.length, 1);
    const received = messages[0];
    assert.equal(received.type, "installSnapshot");
    if (received.type !== "installSnapshot") return;
    assert.ok(!(received.snapshot.data instanceof Uint8Array), "received into a file");
    assert.deepEqual(await snapshotBytes(received.snapshot.data), bytes);
    assert.equal(readdirSync(spool.directory).length, 1);
    received.snapshot.data.release();
    await sleep(50);
    assert.equal(readdirSync(spool.directory).length, 0, "released: the file is gone");

    const partial = new MessageDecoder(options);
    partial.push(wire.subarray(0, 100_000));
    assert.equal(readdirSync(spool.directory).length, 1);
    partial.close();
    assert.equal(readdirSync(spool.directory).length, 0, "connection closed: the file is gone");

    const small = new MessageDecoder(options);
    const [inMemory] = small.push(Buffer.concat(encodeMessage(installSnapshot(pattern(512)))));
    assert.ok(inMemory.type === "installSnapshot" && inMemory.snapshot.data instanceof Uint8Array);
  }));

test("a snapshot larger than the socket buffer travels as a stream into the peer's spool", () =>
  withTempDir(async (dir) => {
    const received: Message[] = [];
    let receiver: RaftTransport | null = null;
    const server = await listenForPeers("127.0.0.1:0", {
      accept: (socket, ...rest) => {
        if (receiver === null) socket.destroy();
        else receiver.accept(socket, ...rest);
      },
    });
    const port = (server.address() as { port: number }).port;
    receiver = new RaftTransport({
      id: 2n,
      address: `127.0.0.1:${port}`,
      onMessage: (m) => received.push(m),
      snapshotSpoolDir: join(dir, "spool"),
      spoolThresholdBytes: 1024 * 1024,
    });
    const sender = new RaftTransport({ id: 1n, address: "127.0.0.1:1", onMessage: () => {} });
    try {
      const bytes = pattern(12 * 1024 * 1024 + 123, 3);
      const released = { count: 0 };
      sender.send(installSnapshot(streamOf(bytes, released)), `127.0.0.1:${port}`);
      // A heartbeat queued behind the snapshot arrives after it, whole.
      const heartbeat: Message = {
        type: "appendEntries",
        from: 1n,
        to: 2n as NodeId,
        term: 3,
        prevLogIndex: 90,
        prevLogTerm: 2,
        leaderCommit: 90,
        entries: [],
      };
      sender.send(heartbeat, `127.0.0.1:${port}`);
      const deadline = Date.now() + 20_000;
      while (received.length < 2 && Date.now() < deadline) await sleep(10);
      assert.deepEqual(
        received.map((m) => m.type),
        ["installSnapshot", "appendEntries"],
      );
      const snapshot = received[0].type === "installSnapshot" ? received[0].snapshot : null;
      assert.ok(snapshot !== null && !(snapshot.data instanceof Uint8Array));
      assert.deepEqual(await snapshotBytes(snapshot.data), bytes);
      assert.equal(released.count, 0, "the transport reads the stream, its owner releases it");
      snapshot.data.release();
    } finally {
      sender.close();
      receiver.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }));
