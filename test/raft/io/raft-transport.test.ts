// RaftTransport over real loopback sockets, with listenForPeers playing the Node's listener.
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EntryType, type Message, type NodeId } from "../../../src/raft/core/types.js";
import { encodeConnectHandshake } from "../../../src/raft/io/connect-handshake.js";
import { listenForPeers } from "../../../src/raft/io/connect-listener.js";
import { RaftTransport, type RaftTransportOptions } from "../../../src/raft/io/raft-transport.js";

interface Node {
  id: NodeId;
  address: string;
  transport: RaftTransport;
  server: Server;
  received: Message[];
}

async function startNode(
  id: NodeId,
  listenAt = "127.0.0.1:0",
  options: Partial<RaftTransportOptions> = {},
): Promise<Node> {
  const received: Message[] = [];
  let transport: RaftTransport | null = null;
  const server = await listenForPeers(listenAt, {
    accept: (socket, ...rest) => {
      if (transport === null) socket.destroy();
      else transport.accept(socket, ...rest);
    },
  });
  const bound = server.address();
  const address =
    typeof bound === "object" && bound !== null ? `127.0.0.1:${bound.port}` : listenAt;
  transport = new RaftTransport({ id, address, onMessage: (m) => received.push(m), ...options });
  return { id, address, transport, server, received };
}

async function stopNode(node: Node) {
  node.transport.close();
  await new Promise<void>((resolve) => node.server.close(() => resolve()));
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function appendEntries(from: NodeId, to: NodeId, index: number, bytes = 64): Message {
  return {
    type: "appendEntries",
    from,
    to,
    term: 2,
    prevLogIndex: index - 1,
    prevLogTerm: 2,
    leaderCommit: index - 1,
    entries: [
      { term: 2, index, type: EntryType.Command, data: new Uint8Array(bytes).fill(index & 0xff) },
    ],
  };
}

test("messages arrive in order, whole, attributed to the sender named by its CONNECT", async () => {
  const a = await startNode(1n);
  const b = await startNode(2n);
  try {
    const sent: Message[] = [];
    for (let i = 1; i <= 500; i++) {
      const message = appendEntries(1n, 2n, i, i % 50 === 0 ? 256 * 1024 : 64);
      sent.push(message);
      a.transport.send(message, b.address);
    }
    const vote: Message = {
      type: "requestVote",
      from: 1n,
      to: 2n,
      term: 3,
      candidateId: 1n,
      lastLogIndex: 500,
      lastLogTerm: 2,
      disruptLeader: true,
      preVote: false,
    };
    a.transport.send(vote, b.address);
    await until(() => b.received.length === 501, "501 messages");
    assert.deepEqual(b.received, [...sent, vote]);
    assert.equal(a.transport.stats.connects, 1);
    assert.equal(b.transport.stats.inboundConnections, 1);
    assert.equal(a.transport.stats.dropped, 0);
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});

test("a connection starts with the protocol word and a CONNECT naming the sender", async () => {
  const chunks: Buffer[] = [];
  const raw = createServer((socket) => socket.on("data", (chunk) => chunks.push(chunk)));
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const port = (raw.address() as { port: number }).port;
  const transport = new RaftTransport({
    id: 0x2dc171858c3155ben,
    address: "127.0.0.1:9001",
    onMessage: () => {},
  });
  try {
    const result: Message = {
      type: "appendEntriesResult",
      from: 0x2dc171858c3155ben,
      to: 5n,
      term: 1,
      rejected: 0,
      lastLogIndex: 4,
    };
    transport.send(result, `127.0.0.1:${port}`);
    await until(() => Buffer.concat(chunks).length >= 40 + 40, "handshake and message");
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, 80);
    assert.deepEqual(
      bytes.subarray(0, 40),
      Buffer.from(encodeConnectHandshake(0x2dc171858c3155ben, "127.0.0.1:9001")),
    );
    assert.equal(bytes.readBigUInt64LE(40), 2n);
    assert.equal(bytes.readBigUInt64LE(48), 24n);
  } finally {
    transport.close();
    raw.close();
  }
});

test("abstract unix socket addresses (@name) work both ways", async () => {
  const name = `@raft-transport-test-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  const b = await startNode(2n, name);
  const a = await startNode(1n);
  try {
    a.transport.send(appendEntries(1n, 2n, 1), name);
    await until(() => b.received.length === 1, "a message over the abstract socket");
    assert.equal(b.received[0].from, 1n);
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});

test("a dead peer neither blocks other peers nor grows its queue", async () => {
  const a = await startNode(1n, "127.0.0.1:0", { minBackoffMs: 20, maxBackoffMs: 50 });
  const b = await startNode(2n);
  const dead = await startNode(3n);
  const deadAddress = dead.address;
  await stopNode(dead);
  try {
    for (let i = 1; i <= 200; i++) {
      a.transport.send(appendEntries(1n, 3n, i), deadAddress);
      a.transport.send(appendEntries(1n, 2n, i), b.address);
    }
    await until(() => b.received.length === 200, "all messages to the live peer");
    assert.ok(a.transport.stats.dropped >= 197, `dropped ${a.transport.stats.dropped}`);
    assert.equal(a.transport.isConnected(3n), false);
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});

test("after the peer drops the connection, the sender reconnects and later messages arrive", async () => {
  const a = await startNode(1n, "127.0.0.1:0", { minBackoffMs: 10, maxBackoffMs: 40 });
  const sockets: Socket[] = [];
  const received: Message[] = [];
  const b = new RaftTransport({ id: 2n, address: "b", onMessage: (m) => received.push(m) });
  const server = await listenForPeers("127.0.0.1:0", {
    accept: (socket, ...rest) => {
      sockets.push(socket);
      b.accept(socket, ...rest);
    },
  });
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    a.transport.send(appendEntries(1n, 2n, 1), address);
    await until(() => received.length === 1, "first message");
    sockets[0].destroy();
    await until(() => !a.transport.isConnected(2n), "the sender to notice");
    // Keep sending, as raft would (heartbeats): some are lost while down, later ones arrive.
    let index = 2;
    await until(() => {
      a.transport.send(appendEntries(1n, 2n, index++), address);
      return received.length > 1 && a.transport.isConnected(2n);
    }, "reconnection");
    const marker = appendEntries(1n, 2n, 10_000);
    a.transport.send(marker, address);
    await until(
      () =>
        received.at(-1)?.type === "appendEntries" &&
        (received.at(-1) as { prevLogIndex: number }).prevLogIndex === 9_999,
      "marker",
    );
    assert.equal(a.transport.stats.connects, 2);
    // Whatever arrived decoded whole, in order.
    const indexes = received.map((m) => (m.type === "appendEntries" ? m.entries[0].index : -1));
    assert.deepEqual(
      indexes,
      [...indexes].sort((x, y) => x - y),
    );
  } finally {
    a.transport.close();
    b.close();
    await stopNode(a);
    server.close();
  }
});

test("a peer that stops reading costs at most its bounded queue", async () => {
  const stalled: Socket[] = [];
  const raw = createServer((socket) => {
    socket.pause(); // never reads: the kernel buffers fill, then ours
    stalled.push(socket);
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(raw.address() as { port: number }).port}`;
  const a = await startNode(1n, "127.0.0.1:0", {
    maxQueuedBytes: 2 * 1024 * 1024,
    maxQueuedMessages: 100,
  });
  const b = await startNode(2n);
  try {
    for (let i = 1; i <= 400; i++) {
      a.transport.send(appendEntries(1n, 9n, i, 128 * 1024), address); // 50 MiB offered in total
      if (i % 40 === 0) await sleep(5);
    }
    a.transport.send(appendEntries(1n, 2n, 1), b.address);
    await until(() => b.received.length === 1, "the healthy peer's message");
    assert.ok(a.transport.stats.dropped > 200, `dropped ${a.transport.stats.dropped}`);
    const held = process.memoryUsage().arrayBuffers;
    assert.ok(held < 40 * 1024 * 1024, `array buffers held: ${held}`);
  } finally {
    await stopNode(a);
    await stopNode(b);
    for (const socket of stalled) socket.destroy();
    raw.close();
  }
});

test("undecodable bytes from a peer close that connection only", async () => {
  const errors: Error[] = [];
  const b = await startNode(2n, "127.0.0.1:0", { onError: (error) => errors.push(error) });
  const a = await startNode(1n);
  try {
    const port = Number(b.address.split(":")[1]);
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect(port, "127.0.0.1", () => resolve(s));
    });
    socket.write(Buffer.from(encodeConnectHandshake(7n, "127.0.0.1:1")));
    const garbage = Buffer.alloc(16);
    garbage.writeBigUInt64LE(99n, 0);
    garbage.writeBigUInt64LE(8n, 8);
    socket.write(garbage);
    await new Promise<void>((resolve) => socket.on("close", () => resolve()));
    assert.ok(errors.some((e) => /unknown message type 99/.test(e.message)));
    a.transport.send(appendEntries(1n, 2n, 1), b.address);
    await until(() => b.received.length === 1, "a good peer still gets through");
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});
