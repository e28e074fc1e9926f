// listenerGone: the probe behind fast failover, against real loopback listeners.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { dialTcp } from "../../../src/raft/io/dial.js";
import { listenerGone } from "../../../src/raft/io/probe.js";

async function listen(onConnection: (socket: Socket, server: Server) => void): Promise<{
  server: Server;
  address: string;
}> {
  const server = createServer((socket) => onConnection(socket, server));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { server, address: `127.0.0.1:${port}` };
}

test("an address that refuses connections is gone", async () => {
  const { server, address } = await listen(() => {});
  await new Promise((resolve) => server.close(resolve));
  assert.equal(await listenerGone(dialTcp, address, { timeoutMs: 1000 }), true);
});

test("a listener that accepts and keeps the connection is alive", async () => {
  const sockets: Socket[] = [];
  const { server, address } = await listen((socket) => sockets.push(socket));
  try {
    assert.equal(await listenerGone(dialTcp, address, { timeoutMs: 1000 }), false);
    assert.equal(sockets.length, 1, "one connection was enough to tell");
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a dying process's listener (accepts, resets, then closes) is gone", async () => {
  // What the probe meets when it races a SIGKILL: the backlog still completes a handshake, the
  // kernel then resets the connection and closes the listening socket.
  const { address } = await listen((socket, server) => {
    server.close();
    socket.resetAndDestroy();
  });
  assert.equal(await listenerGone(dialTcp, address, { timeoutMs: 1000 }), true);
});

test("a listener that keeps dropping connections is not taken for gone", async () => {
  let accepted = 0;
  const { server, address } = await listen((socket) => {
    accepted++;
    socket.destroy();
  });
  try {
    assert.equal(await listenerGone(dialTcp, address, { timeoutMs: 1000, attempts: 3 }), false);
    assert.equal(accepted, 3);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a dial that times out says nothing about the process", async () => {
  const dial = (_address: string, signal: AbortSignal) =>
    new Promise<Socket>((_resolve, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
    );
  const keepAlive = setTimeout(() => {}, 5000); // AbortSignal.timeout's timer does not hold the loop
  try {
    assert.equal(await listenerGone(dial, "10.255.255.1:9", { timeoutMs: 50 }), false);
  } finally {
    clearTimeout(keepAlive);
  }
});
