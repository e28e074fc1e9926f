// Opening a byte stream to a node. The default speaks TCP (`host:port`, `[v6]:port`) and Linux
// abstract unix sockets (`@name`), like go-dqlite; a custom dial function adds TLS, HTTP upgrade...
import { connect, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { ConnectionError } from "./errors.js";

/**
 * Opens a connection to `address`. Must reject (and release what it opened) when `signal` aborts.
 * The stream carries raw dqlite bytes: the client writes the handshake itself.
 */
export type DialFunction = (address: string, signal: AbortSignal) => Promise<Duplex>;

/** Where an address points: a TCP host and port, or a unix socket path. */
export type Endpoint = { host: string; port: number } | { path: string };

/** Parses `host:port`, `[v6]:port` or `@abstract-name` (TypeError when it is none of them). */
export function parseAddress(address: string): Endpoint {
  if (address.startsWith("@")) {
    if (address.length === 1) throw new TypeError(`empty abstract socket name in "${address}"`);
    // Node reaches the abstract namespace through a leading NUL byte.
    return { path: `\0${address.slice(1)}` };
  }
  const colon = address.lastIndexOf(":");
  if (colon <= 0) throw new TypeError(`address "${address}" is not host:port`);
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new TypeError(`address "${address}" has no valid port`);
  }
  return { host, port };
}

/** The default dial function: TCP with Nagle off, or an abstract unix socket. */
export const dialTcp = (address: string, signal: AbortSignal): Promise<Socket> => {
  const endpoint = parseAddress(address);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Socket>((resolve, reject) => {
    const socket: Socket = connect(endpoint);
    const cleanUp = (): void => {
      signal.removeEventListener("abort", onAbort);
      socket.off("connect", onConnect);
      socket.off("error", onError);
    };
    const onAbort = (): void => {
      cleanUp();
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (error: Error): void => {
      cleanUp();
      socket.destroy();
      reject(
        new ConnectionError(address, `dial failed: ${error.message}`, false, { cause: error }),
      );
    };
    const onConnect = (): void => {
      cleanUp();
      if (socket instanceof Socket && "host" in endpoint) socket.setNoDelay(true);
      resolve(socket);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
};
