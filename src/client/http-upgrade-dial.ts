// Dialling a node that is reached through an HTTP server (go-dqlite's external connections, as
// LXD does it): open the connection, ask for `Upgrade: dqlite`, wait for `101 Switching
// Protocols`, then the socket carries dqlite's bytes like any other.
import type { Socket } from "node:net";
import { dialTcp } from "./dial.js";
import { ConnectionError } from "./errors.js";

/** How `httpUpgradeDial` reaches the HTTP server. */
export interface HttpUpgradeDialOptions {
  /** The request path (default "/"). */
  path?: string;
  /** More request headers (e.g. authentication); Host, Connection and Upgrade are set. */
  headers?: Readonly<Record<string, string>>;
  /** Opens the connection before the request (default: TCP, or `@name` unix); e.g. `tlsDial`. */
  connect?: (address: string, signal: AbortSignal) => Promise<Socket>;
}

/** An HTTP response head longer than this is not a 101 from a dqlite server. */
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * A dial function for nodes behind an HTTP server: each dial sends `GET <path>` with
 * `Upgrade: dqlite` and resolves with the socket once the server answers 101.
 */
export function httpUpgradeDial(
  options: HttpUpgradeDialOptions = {},
): (address: string, signal: AbortSignal) => Promise<Socket> {
  const path = options.path ?? "/";
  if (!path.startsWith("/") || /[\s]/.test(path)) {
    throw new TypeError(`path must start with "/" and hold no spaces, got ${JSON.stringify(path)}`);
  }
  const extra = Object.entries(options.headers ?? {});
  for (const [name, value] of extra) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(value)) {
      throw new TypeError(`bad HTTP header ${JSON.stringify(name)}`);
    }
  }
  const connect = options.connect ?? dialTcp;
  return async (address, signal) => {
    const socket = await connect(address, signal);
    try {
      const host = address.startsWith("@") ? "localhost" : address;
      let request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: dqlite\r\n`;
      for (const [name, value] of extra) request += `${name}: ${value}\r\n`;
      socket.write(`${request}\r\n`);
      await readSwitchingProtocols(socket, address, signal);
      return socket;
    } catch (error) {
      socket.destroy();
      throw error;
    }
  };
}

// Reads the response head; anything after it is put back for the dqlite reader. It reads with
// 'readable' and read(), not 'data': once the listener is gone the socket is back in its initial
// mode, so whoever adds a 'data' listener next gets every byte.
function readSwitchingProtocols(socket: Socket, address: string, signal: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error?: unknown): void => {
      socket.off("readable", onReadable);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const fail = (message: string, cause?: unknown): void =>
      finish(new ConnectionError(address, `HTTP upgrade: ${message}`, false, { cause }));
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf(HEAD_END);
        if (end < 0) {
          if (received.length <= MAX_RESPONSE_HEAD_BYTES) continue;
          fail("response head too long");
          return;
        }
        const statusLine = received.subarray(0, received.indexOf("\r\n")).toString("latin1");
        if (!/^HTTP\/1\.[01] 101(?: |$)/.test(statusLine)) {
          fail(`expected 101 Switching Protocols, got "${statusLine}"`);
          return;
        }
        finish();
        const rest = received.subarray(end + HEAD_END.length);
        if (rest.length > 0) socket.unshift(rest);
        return;
      }
    };
    const onError = (error: Error): void => fail(error.message, error);
    const onClose = (): void => fail("connection closed before the response");
    const onAbort = (): void => finish(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.on("readable", onReadable);
    socket.once("error", onError);
    socket.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
