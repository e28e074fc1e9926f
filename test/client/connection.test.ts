// One connection: handshake bytes, lock-step requests for concurrent callers, the dial function,
// abstract unix sockets, and clean errors when the socket goes away.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { Connection } from "../../src/client/connection.js";
import { Deadline } from "../../src/client/deadline.js";
import { dialTcp, parseAddress } from "../../src/client/dial.js";
import { ConnectionError, DqliteError, TimeoutError } from "../../src/client/errors.js";
import {
  decodeRequest,
  encodeResponse,
  type Request,
  StreamDecoder,
} from "../../src/wire/index.js";
import { FakeNode } from "./fake-server.js";

function signal(timeoutMs = 5000): Deadline {
  return new Deadline(undefined, timeoutMs);
}

test("the first request goes out right after the handshake word", { timeout: 20_000 }, async () => {
  const received: Buffer[] = [];
  const server = createServer((socket) => {
    socket.on("data", (chunk) => {
      received.push(chunk);
      socket.write(encodeResponse({ type: "node", id: 1n, address: "x" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const connection = await Connection.open(`127.0.0.1:${port}`, dialTcp, signal());
  try {
    const response = await connection.call({ type: "leader" }, signal());
    assert.deepEqual(response, { type: "node", id: 1n, address: "x" });
    assert.equal(
      Buffer.concat(received).toString("hex"),
      "0100000000000000" + "0100000000000000" + "0000000000000000",
    );
  } finally {
    connection.close();
    server.close();
  }
});

test("concurrent callers are answered one at a time, in order", { timeout: 20_000 }, async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const node = await FakeNode.start(async (request) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    inFlight--;
    return request.type === "weight"
      ? { type: "metadata", failureDomain: 0n, weight: request.weight }
      : undefined;
  });
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        connection.call({ type: "weight", weight: BigInt(i) }, signal()),
      ),
    );
    assert.deepEqual(
      answers.map((a) => (a as { weight: bigint }).weight),
      Array.from({ length: 20 }, (_, i) => BigInt(i)),
    );
    assert.equal(maxInFlight, 1, "the server never saw two requests at once");
  } finally {
    connection.close();
    await node.close();
  }
});

test("a connection lost mid-request fails that request and the queued ones", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start((request, connection) => {
    if (request.type === "leader") connection.destroy();
    return undefined;
  });
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    const first = connection.call({ type: "leader" }, signal());
    const queued = connection.call({ type: "leader" }, signal());
    const [a, b] = await Promise.allSettled([first, queued]);
    assert.equal(a.status, "rejected");
    assert.equal(b.status, "rejected");
    const sent = (a as PromiseRejectedResult).reason;
    const unsent = (b as PromiseRejectedResult).reason;
    assert.ok(sent instanceof ConnectionError && sent.requestSent === true, String(sent));
    assert.ok(unsent instanceof ConnectionError && unsent.requestSent === false, String(unsent));
    assert.equal(connection.broken, true);
    await assert.rejects(connection.call({ type: "leader" }, signal()), ConnectionError);
  } finally {
    await node.close();
  }
});

test("a request past its deadline fails with TimeoutError and kills the connection", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start(() => undefined);
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    await assert.rejects(connection.call({ type: "leader" }, signal(50)), TimeoutError);
    assert.equal(connection.broken, true);
  } finally {
    await node.close();
  }
});

test("a caller that gives up while queued leaves the connection usable", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start(async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { type: "empty" };
  });
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    const first = connection.call({ type: "weight", weight: 1n }, signal());
    const controller = new AbortController();
    const queued = connection.call(
      { type: "weight", weight: 2n },
      new Deadline(controller.signal, 5000),
    );
    controller.abort(new Error("no longer needed"));
    await assert.rejects(queued, /no longer needed/);
    assert.deepEqual(await first, { type: "empty" });
    assert.equal(connection.broken, false);
    assert.deepEqual(await connection.call({ type: "weight", weight: 3n }, signal()), {
      type: "empty",
    });
    assert.deepEqual(
      node.requestsOf("weight").map((r) => r.weight),
      [1n, 3n],
    );
  } finally {
    connection.close();
    await node.close();
  }
});

test("a response the codec refuses breaks the connection with ConnectionError", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start((_request, connection) => {
    // A Node response whose body is one word of garbage: no NUL-terminated address.
    connection.send(Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]));
    return undefined;
  });
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    await assert.rejects(connection.call({ type: "leader" }, signal()), ConnectionError);
    assert.equal(connection.broken, true);
  } finally {
    await node.close();
  }
});

test("a message over the size limit breaks the connection", { timeout: 20_000 }, async () => {
  const node = await FakeNode.start(() => ({
    type: "files",
    files: [{ name: "db", data: new Uint8Array(4096) }],
  }));
  const connection = await Connection.open(node.address, dialTcp, signal(), {
    maxMessageSizeBytes: 1024,
  });
  try {
    await assert.rejects(connection.call({ type: "dump", name: "db" }, signal()), ConnectionError);
  } finally {
    await node.close();
  }
});

test("dial refuses an unreachable address with ConnectionError (not sent)", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start();
  const address = node.address;
  await node.close();
  const error = await dialTcp(address, signal().signal).catch((e) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.equal(error.requestSent, false);
});

test("addresses: host:port, [v6]:port and @abstract", () => {
  assert.deepEqual(parseAddress("127.0.0.1:9001"), { host: "127.0.0.1", port: 9001 });
  assert.deepEqual(parseAddress("[::1]:9001"), { host: "::1", port: 9001 });
  assert.deepEqual(parseAddress("node-1.example:80"), { host: "node-1.example", port: 80 });
  assert.deepEqual(parseAddress("@dqlite-1"), { path: "\0dqlite-1" });
  for (const bad of ["127.0.0.1", ":9001", "host:", "host:0", "host:65536", "host:x", "@"]) {
    assert.throws(() => parseAddress(bad), TypeError, bad);
  }
});

test("an @name address reaches a Linux abstract unix socket", { timeout: 20_000 }, async () => {
  const name = `dqlite-ts-test-${process.pid}-${Date.now()}`;
  const requests: Request[] = [];
  const server = createServer((socket: Socket) => {
    const decoder = new StreamDecoder({ handshake: true });
    socket.on("data", (chunk) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
        requests.push(decodeRequest(frame));
        socket.write(encodeResponse({ type: "empty" }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(`\0${name}`, resolve));
  const connection = await Connection.open(`@${name}`, dialTcp, signal());
  try {
    assert.deepEqual(await connection.call({ type: "weight", weight: 9n }, signal()), {
      type: "empty",
    });
    assert.deepEqual(requests, [{ type: "weight", weight: 9n }]);
  } finally {
    connection.close();
    server.close();
  }
});

test("too many callers queued on one connection are refused", { timeout: 20_000 }, async () => {
  const node = await FakeNode.start(() => undefined);
  const connection = await Connection.open(node.address, dialTcp, signal());
  try {
    // One caller holds the connection and 1024 wait: the next one is refused.
    const never = new Deadline(undefined, Number.POSITIVE_INFINITY);
    const pending = Array.from({ length: 1026 }, () =>
      connection.call({ type: "leader" }, never).catch((e) => e),
    );
    const last = await pending[1025];
    assert.ok(last instanceof DqliteError && /queued/.test(last.message), String(last));
  } finally {
    connection.close();
    await node.close();
  }
});
