// PeerSender's reconnect backoff, on a mocked clock: doubling from the minimum up to the maximum
// while the peer refuses, back to the minimum after a connection succeeded.
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { mock, test } from "node:test";
import { PeerSender } from "../../../src/raft/io/peer-sender.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("reconnects back off exponentially to the maximum, and start over after a success", async () => {
  const accepted: Socket[] = [];
  const server = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
  const attempts: number[] = [];
  let accept = false;
  const sender = new PeerSender(`127.0.0.1:${port}`, {
    handshake: new Uint8Array(1),
    dial: (_address) => {
      attempts.push(Date.now());
      if (!accept) {
        return Promise.reject(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
      }
      accept = false;
      return new Promise((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => resolve(socket));
        socket.once("error", reject);
      });
    },
    connectTimeoutMs: 10_000,
    minBackoffMs: 100,
    maxBackoffMs: 800,
    maxQueuedMessages: 16,
    maxQueuedBytes: 1 << 20,
    maxQueuedWhileDown: 3,
    socketBufferBytes: 1 << 20,
    random: () => 1, // no jitter: each wait is the full step
    onDrop: () => {},
    onConnected: () => {},
  });
  /** Advances the mocked clock 1 ms at a time (real I/O runs in between) until `done`. */
  const advanceUntil = async (done: () => boolean) => {
    for (let step = 0; !done(); step++) {
      assert.ok(step < 50_000, "never happened");
      for (let i = 0; i < 3; i++) await flush();
      if (!done()) mock.timers.tick(1);
    }
  };
  /** Lets real I/O run, the mocked clock standing still, until `done`. */
  const waitFor = async (done: () => boolean) => {
    for (let step = 0; !done(); step++) {
      assert.ok(step < 50_000, "never happened");
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  try {
    sender.send([new Uint8Array(8)]);
    await advanceUntil(() => attempts.length === 6);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    assert.deepEqual(gaps, [100, 200, 400, 800, 800]);

    accept = true;
    await advanceUntil(() => sender.connected);
    await waitFor(() => accepted.length === 1);
    accepted[0].destroy(); // the peer goes away again
    await waitFor(() => !sender.connected);
    const lostAt = Date.now();
    sender.send([new Uint8Array(8)]);
    await advanceUntil(() => attempts.length === 8);
    assert.equal(attempts[7] - lostAt, 100, "a success resets the backoff to the minimum");
  } finally {
    sender.close();
    mock.timers.reset();
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
