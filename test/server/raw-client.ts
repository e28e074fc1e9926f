// A bare wire-level client for server tests: sends one request, returns the decoded responses.
import { connect, type Socket } from "node:net";
import {
  decodeResponse,
  encodeHandshake,
  encodeRequest,
  type Request,
  type Response,
  StreamDecoder,
} from "../../src/wire/index.js";

export class RawClient {
  readonly socket: Socket;
  readonly #decoder = new StreamDecoder();
  readonly #responses: Response[] = [];
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk) => {
      this.#decoder.push(chunk);
      for (let f = this.#decoder.next(); f; f = this.#decoder.next()) {
        this.#responses.push(decodeResponse(f));
      }
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => {});
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  static async connect(address: string, handshake = true): Promise<RawClient> {
    const [host, port] = address.split(":");
    const socket = connect({ host, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new RawClient(socket);
    if (handshake) socket.write(encodeHandshake());
    return client;
  }

  send(request: Request): void {
    this.socket.write(encodeRequest(request));
  }

  /** The next response; rejects if the connection closes first or nothing comes in time. */
  async next(timeoutMs = 5000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (this.#responses.length === 0) {
      if (this.closed) throw new Error("connection closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no response in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#responses.shift()!;
  }

  async request(request: Request): Promise<Response> {
    this.send(request);
    return this.next();
  }

  /** True if the server closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close() {
    this.socket.destroy();
  }
}
