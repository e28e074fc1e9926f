// A new leader serves reads only after its barrier. Three in-process Nodes whose raft traffic goes
// through proxies the test can hold, so the dangerous case is set up for certain, not by chance:
// a write is acknowledged by the leader while its follower holds the entry without knowing it is
// committed; the leader dies; that follower is elected. Reading its own state at once would miss
// the acknowledged write. It must first commit an entry of its own term (the barrier), which the
// test holds back: the read waits, and once the barrier goes through it sees the write.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, connect } from "../../src/client/index.js";
import type { Logger } from "../../src/log/logger.js";
import type { Message } from "../../src/raft/core/types.js";
import { dialTcp, parseAddress } from "../../src/raft/io/dial.js";
import { MessageDecoder } from "../../src/raft/io/message-decoder.js";
import { BOOTSTRAP_ID, generateId, Node } from "../../src/server/node.js";
import { freePorts } from "../harness/ports.js";
import { waitFor } from "../harness/processes.js";

/** The raft connections one node opens to another, through a proxy that can hold their bytes. */
class Link {
  readonly #server: Server;
  readonly #connections = new Set<{ down: Socket; up: Socket; held: Buffer[] }>();
  #held = false;
  /** Called with every raft message that passes (decoded from the stream). */
  observe: ((message: Message) => void) | null = null;

  private constructor(
    server: Server,
    readonly from: bigint,
    readonly to: bigint,
  ) {
    this.#server = server;
  }

  static async open(from: bigint, to: bigint, target: string): Promise<Link> {
    const server = createServer();
    const link = new Link(server, from, to);
    server.on("connection", (down) => link.#proxy(down, target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return link;
  }

  get address(): string {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    return `127.0.0.1:${address.port}`;
  }

  /** From now on bytes are kept back (in order) instead of forwarded. */
  hold(): void {
    this.#held = true;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Forwards what was kept back, and everything after it. */
  release(): void {
    this.#held = false;
    for (const connection of this.#connections) {
      for (const chunk of connection.held.splice(0)) connection.up.write(chunk);
    }
  }

  /** Drops what was kept back and closes the link's connections (the sender is gone). */
  cut(): void {
    this.#held = false;
    for (const { down, up, held } of this.#connections) {
      held.length = 0;
      down.destroy();
      up.destroy();
    }
    this.#connections.clear();
  }

  close(): void {
    this.cut();
    this.#server.close();
  }

  #proxy(down: Socket, target: string): void {
    const up = new Socket();
    const connection = { down, up, held: [] as Buffer[] };
    this.#connections.add(connection);
    const drop = () => {
      this.#connections.delete(connection);
      down.destroy();
      up.destroy();
    };
    up.on("error", drop).on("close", drop);
    down.on("error", drop).on("close", drop);
    const { host, port } = parseAddress(target) as { host: string; port: number };
    up.connect(port, host);
    up.setNoDelay(true);
    down.setNoDelay(true);
    up.on("data", (chunk) => down.write(chunk));
    const watch = this.#watcher();
    down.on("data", (chunk: Buffer) => {
      watch(chunk);
      if (this.#held) connection.held.push(chunk);
      else up.write(chunk);
    });
  }

  /** Decodes the stream: the CONNECT handshake (skipped), then raft messages. */
  #watcher(): (chunk: Buffer) => void {
    let handshake = Buffer.alloc(0);
    let decoder: MessageDecoder | null = null;
    return (chunk) => {
      let bytes: Uint8Array = chunk;
      if (decoder === null) {
        handshake = Buffer.concat([handshake, chunk]);
        if (handshake.length < 16) return;
        const length = 16 + handshake.readUInt32LE(8) * 8;
        if (handshake.length < length) return;
        bytes = handshake.subarray(length);
        decoder = new MessageDecoder({ from: this.from, to: this.to });
      }
      let messages: Message[];
      try {
        messages = decoder.push(bytes);
      } catch (error) {
        // The receiving node refuses such bytes too; the test then fails on what it expects.
        console.error(`undecodable raft stream ${this.from} -> ${this.to}`, error);
        decoder = new MessageDecoder({ from: this.from, to: this.to });
        return;
      }
      for (const message of messages) this.observe?.(message);
    };
  }
}

const dirs: string[] = [];
const links: Link[] = [];
after(async () => {
  for (const link of links) link.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test("a new leader does not serve a read before its barrier commits; then it sees every acknowledged write", async () => {
  const base = await mkdtemp(join(tmpdir(), "leader-barrier-"));
  dirs.push(base);
  const addresses = (await freePorts(3)).map((port) => `127.0.0.1:${port}`);
  const ids = [BOOTSTRAP_ID, generateId(addresses[1]), generateId(addresses[2])];
  const link = new Map<string, Link>();
  for (let from = 0; from < 3; from++) {
    for (let to = 0; to < 3; to++) {
      if (from === to) continue;
      const created = await Link.open(ids[from], ids[to], addresses[to]);
      links.push(created);
      link.set(`${from}->${to}`, created);
    }
  }
  const between = (from: number, to: number) => link.get(`${from}->${to}`)!;
  // Node 2 (b) reports when it becomes leader, synchronously, before it sends a single message
  // as leader: the test holds its link to node 3 (c) right then.
  let onLeading: (() => void) | null = null;
  const logger: Logger = {
    debug() {},
    info(_fields, message) {
      if (message === "became leader") onLeading?.();
    },
    warn() {},
    error() {},
  };
  const start = async (i: number) => {
    const node = new Node({
      id: ids[i],
      address: addresses[i],
      dataDir: join(base, `node${i + 1}`),
      // Elections after 1.5 s: a leader holding back its messages for a second keeps leading.
      networkLatencyMs: 100,
      dial: (address, signal) => {
        const to = addresses.indexOf(address);
        return dialTcp(to < 0 ? address : between(i, to).address, signal);
      },
      logger: i === 1 ? logger : undefined,
    });
    await node.start();
    return node;
  };
  const [a, b] = [await start(0), await start(1)];
  let c = await start(2);
  try {
    await waitFor("node 1 to lead", () => (a.state === "leader" ? true : undefined));
    const admin = await Client.findLeader([a.address]);
    await admin.add({ id: b.id, address: b.address, role: "voter" });
    await admin.add({ id: c.id, address: c.address, role: "voter" });
    admin.close();
    const db = await connect({ cluster: [a.address], database: "app", timeoutMs: 30_000 });
    await db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
    await db.exec("INSERT INTO kv VALUES ('before', '1')");
    await waitFor("every node to apply everything", () => {
      const applied = a.raftStats.appliedIndex;
      return b.raftStats.appliedIndex === applied && c.raftStats.appliedIndex === applied
        ? true
        : undefined;
    });

    // Node 3 stops: the leader's quorum is node 2 alone.
    await c.close();
    const last = a.raftStats.appliedIndex;
    // As soon as node 2 acknowledges the next entry, the leader's messages to it are held: it
    // never hears that the entry was committed.
    between(1, 0).observe = (message) => {
      if (
        message.type === "appendEntriesResult" &&
        message.rejected === 0 &&
        message.lastLogIndex > last
      ) {
        between(0, 1).hold();
      }
    };
    await db.exec("INSERT INTO kv VALUES ('acknowledged', '2')");
    await db.close();
    between(1, 0).observe = null;
    assert.ok(between(0, 1).held, "node 2 acknowledged the write");
    assert.ok(b.raftStats.appliedIndex <= last, "node 2 does not know the write is committed");

    // The leader dies with its news for node 2 undelivered.
    await a.close();
    between(0, 1).cut();
    between(0, 2).cut();
    // Node 3 comes back without the entry: only node 2 can be elected, with node 3's vote.
    onLeading = () => between(1, 2).hold();
    c = new Node({
      id: ids[2],
      address: addresses[2],
      dataDir: join(base, "node3"),
      networkLatencyMs: 100,
      dial: (address, signal) => {
        const to = addresses.indexOf(address);
        return dialTcp(to < 0 ? address : between(2, to).address, signal);
      },
    });
    await c.start();
    await waitFor("node 2 to lead", () => (b.state === "leader" ? true : undefined), 20_000);
    assert.ok(between(1, 2).held, "node 2 holds its messages to node 3");
    assert.ok(b.raftStats.appliedIndex <= last, "the new leader has not applied the write yet");

    // A read on the new leader waits: its barrier cannot commit while node 3 hears nothing.
    const reader = await connect({ cluster: [b.address], database: "app", timeoutMs: 30_000 });
    let answered = false;
    const read = reader.query("SELECT k, v FROM kv ORDER BY k").finally(() => {
      answered = true;
    });
    await sleep(500);
    assert.equal(answered, false, "the new leader answered a read before its barrier");
    assert.equal(b.state, "leader");
    between(1, 2).release();
    const { rows } = await read;
    assert.deepEqual(rows, [
      { k: "acknowledged", v: "2" },
      { k: "before", v: "1" },
    ]);
    assert.ok(b.raftStats.appliedIndex > last);
    await reader.close();
  } finally {
    onLeading = null;
    for (const l of links) l.release();
    for (const node of [a, b, c]) await node.close();
  }
});
