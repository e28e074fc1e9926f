// The node's one listening socket: TCP for "host:port", a Linux abstract unix socket for "@name".
// Clients and raft peers share it; a gateway tells them apart by the first request (CONNECT).
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";

export interface ListenAddress {
  /** The address as configured ("127.0.0.1:0" or "@name"). */
  readonly requested: string;
  /** The address actually bound, with the real port when port 0 was asked for. */
  readonly bound: string;
}

/** Splits "host:port" (IPv6 as "[addr]:port"); a missing port is an error. */
export function parseHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new Error(`bad address "${address}": expected host:port or @name`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`bad address "${address}": port out of range`);
  return { host: match[1] ?? match[2] ?? "", port };
}

export class Listener {
  readonly #server: Server;
  /** Every accepted socket still open, whoever owns it now (gateway or raft). */
  readonly #sockets = new Set<Socket>();
  #bound = "";

  /**
   * With `tls`, every connection must complete a TLS handshake first (mutual when the options
   * ask for client certificates); failed handshakes go to `onTlsError`.
   */
  constructor(
    onSocket: (socket: Socket) => void,
    tls?: TlsOptions,
    onTlsError?: (error: Error) => void,
  ) {
    const accept = (socket: Socket) => {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      onSocket(socket);
    };
    if (tls === undefined) {
      this.#server = createServer({ noDelay: true }, accept);
    } else {
      const server = createTlsServer(tls, accept);
      server.on("tlsClientError", (error, socket) => {
        socket.destroy();
        onTlsError?.(error);
      });
      this.#server = server;
    }
  }

  get address(): string {
    return this.#bound;
  }

  async listen(address: string): Promise<ListenAddress> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      if (address.startsWith("@")) {
        // Node reaches the abstract namespace through a leading NUL byte.
        this.#server.listen({ path: `\0${address.slice(1)}` }, resolve);
      } else {
        const { host, port } = parseHostPort(address);
        this.#server.listen({ host, port }, resolve);
      }
    }).finally(() => this.#server.removeAllListeners("error"));
    const info = this.#server.address();
    if (info !== null && typeof info === "object") {
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      this.#bound = `${host}:${info.port}`;
    } else {
      this.#bound = address;
    }
    return { requested: address, bound: this.#bound };
  }

  /** Stops accepting and closes every accepted connection. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
