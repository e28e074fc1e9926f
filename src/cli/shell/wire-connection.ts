// One raw dqlite connection for the shell's SQL: requests out, responses in, strictly one after
// the other. The shell reads rows as wire cells (type code + value) because it must print them
// exactly as go-dqlite's driver would, which the client's SQL API (JavaScript values) cannot give.
import type { Duplex } from "node:stream";
import type { DialFunction } from "../../client/index.js";
import {
  decodeResponse,
  encodeHandshake,
  encodeRequest,
  type Frame,
  type Request,
  type Response,
  StreamDecoder,
} from "../../wire/index.js";

/** Unread bytes above which the socket is paused until the reader catches up. */
const PAUSE_ABOVE_BYTES = 1 << 20;

/** The connection failed (closed, reset, undecodable bytes, or abandoned mid-request). */
export class WireConnectionError extends Error {
  override name = "WireConnectionError";
}

export class WireConnection {
  readonly address: string;
  readonly #stream: Duplex;
  readonly #decoder = new StreamDecoder();
  #handshake: Uint8Array | undefined = encodeHandshake();
  #failure: Error | undefined;
  #reader: { resolve(frame: Frame): void; reject(error: Error): void } | undefined;

  private constructor(address: string, stream: Duplex) {
    this.address = address;
    this.#stream = stream;
    stream.on("data", (chunk: Buffer) => {
      this.#decoder.push(chunk);
      if (this.#decoder.bufferedBytes > PAUSE_ABOVE_BYTES) stream.pause();
      this.#deliver();
    });
    stream.on("error", (error: Error) => this.#fail(`connection error: ${error.message}`));
    stream.on("end", () => this.#fail("connection closed by the server"));
    stream.on("close", () => this.#fail("connection closed"));
  }

  /** Dials `address`; the handshake goes out with the first request. */
  static async open(address: string, dial: DialFunction, signal: AbortSignal) {
    const stream = await dial(address, signal);
    if (signal.aborted) {
      stream.destroy();
      throw signal.reason;
    }
    return new WireConnection(address, stream);
  }

  /** True once the connection can no longer be used. */
  get broken(): boolean {
    return this.#failure !== undefined;
  }

  /** Sends a request and waits for its (first) response. */
  async call(request: Request, signal: AbortSignal): Promise<Response> {
    this.send(request);
    return await this.receive(signal);
  }

  /** Sends a request without waiting. */
  send(request: Request): void {
    if (this.#failure !== undefined) throw this.#failure;
    const body = encodeRequest(request);
    if (this.#handshake !== undefined) {
      this.#stream.write(this.#handshake);
      this.#handshake = undefined;
    }
    this.#stream.write(body);
  }

  /**
   * The next response (a request's answer, or the next Rows message of a result). Abandoning it
   * (abort) kills the connection: its late answer could not be told from the next one.
   */
  async receive(signal: AbortSignal): Promise<Response> {
    if (this.#failure !== undefined) throw this.#failure;
    if (signal.aborted) {
      this.#fail("request abandoned");
      throw signal.reason;
    }
    const frame = this.#takeFrame() ?? (await this.#waitFrame(signal));
    try {
      return decodeResponse(frame);
    } catch (error) {
      this.#fail(`undecodable response: ${(error as Error).message}`);
      throw this.#failure;
    }
  }

  close(): void {
    this.#fail("connection closed");
  }

  #takeFrame(): Frame | undefined {
    let frame: Frame | undefined;
    try {
      frame = this.#decoder.next();
    } catch (error) {
      this.#fail(`undecodable response: ${(error as Error).message}`);
      throw this.#failure;
    }
    if (this.#decoder.bufferedBytes <= PAUSE_ABOVE_BYTES && this.#stream.isPaused()) {
      this.#stream.resume();
    }
    return frame;
  }

  #waitFrame(signal: AbortSignal): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const onAbort = (): void => {
        this.#reader = undefined;
        this.#fail("request abandoned");
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#reader = {
        resolve: (frame) => {
          signal.removeEventListener("abort", onAbort);
          resolve(frame);
        },
        reject: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
    });
  }

  #deliver(): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    let frame: Frame | undefined;
    try {
      frame = this.#takeFrame();
    } catch (error) {
      this.#reader = undefined;
      reader.reject(error as Error);
      return;
    }
    if (frame === undefined) return;
    this.#reader = undefined;
    reader.resolve(frame);
  }

  #fail(message: string): void {
    if (this.#failure !== undefined) return;
    this.#failure = new WireConnectionError(`${this.address}: ${message}`);
    this.#stream.destroy();
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.reject(this.#failure);
  }
}
