// httpUpgradeDial against raw servers: the request it sends, bytes that follow the 101 reaching
// the next reader, and the ways an upgrade fails.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { ConnectionError, httpUpgradeDial } from "../../src/client/index.js";

async function rawServer(onSocket: (socket: Socket, request: string) => void): Promise<{
  server: Server;
  address: string;
}> {
  const server = createServer((socket) => {
    let text = "";
    socket.on("data", function onData(chunk) {
      text += chunk.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      onSocket(socket, text);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const info = server.address();
  if (info === null || typeof info === "string") throw new Error("no port");
  return { server, address: `127.0.0.1:${info.port}` };
}

test("sends the upgrade request and hands the bytes after the 101 to the next reader", async () => {
  let seen = "";
  const { server, address } = await rawServer((socket, request) => {
    seen = request;
    // The answer and the first dqlite bytes in one write.
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: dqlite\r\n\r\nDQLITE-BYTES");
  });
  try {
    const dial = httpUpgradeDial({ path: "/db", headers: { Authorization: "Bearer x" } });
    const socket = await dial(address, AbortSignal.timeout(5000));
    const first = await new Promise<string>((resolve) =>
      socket.once("data", (chunk: Buffer) => resolve(chunk.toString())),
    );
    assert.equal(first, "DQLITE-BYTES");
    assert.equal(
      seen,
      `GET /db HTTP/1.1\r\nHost: ${address}\r\nConnection: Upgrade\r\nUpgrade: dqlite\r\nAuthorization: Bearer x\r\n\r\n`,
    );
    socket.destroy();
  } finally {
    server.close();
  }
});

test("a refusal, a hang-up or an abort fail the dial", async () => {
  const { server, address } = await rawServer((socket, request) => {
    if (request.startsWith("GET /refuse")) socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    else if (request.startsWith("GET /close")) socket.destroy();
    // "/silent": no answer at all.
  });
  try {
    await assert.rejects(
      httpUpgradeDial({ path: "/refuse" })(address, AbortSignal.timeout(5000)),
      (error: Error) =>
        error instanceof ConnectionError &&
        /expected 101 Switching Protocols, got "HTTP\/1.1 403 Forbidden"/.test(error.message),
    );
    await assert.rejects(
      httpUpgradeDial({ path: "/close" })(address, AbortSignal.timeout(5000)),
      ConnectionError,
    );
    const controller = new AbortController();
    const reason = new Error("given up");
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(
      httpUpgradeDial({ path: "/silent" })(address, controller.signal),
      (error) => error === reason,
    );
  } finally {
    server.close();
  }
});

test("bad paths and headers are refused before any dial", () => {
  assert.throws(() => httpUpgradeDial({ path: "no-slash" }), TypeError);
  assert.throws(() => httpUpgradeDial({ path: "/a b" }), TypeError);
  assert.throws(() => httpUpgradeDial({ headers: { "X-Bad": "a\r\nInjected: 1" } }), TypeError);
  assert.throws(() => httpUpgradeDial({ headers: { "Bad Name": "x" } }), TypeError);
});
