// One client connection to one node: the handshake, then strict request/response lock-step. A
// mutex queues concurrent callers; a request that is abandoned half-way (abort, timeout, protocol
// error) kills the connection, since nobody could tell its late answer from the next one.
import type { Duplex } from "node:stream";
import {
  decodeResponse,
  encodeHandshake,
  encodeRequest,
  type Frame,
  type Request,
  type Response,
  type ResponseDecodeOptions,
  StreamDecoder,
} from "../wire/index.js";
import type { Deadline } from "./deadline.js";
import type { DialFunction } from "./dial.js";
import { ConnectionError, DqliteError, failureError } from "./errors.js";

/** Callers queued for one connection beyond this are refused rather than piled up. */
const MAX_LOCK_WAITERS = 1024;
/**
 * Unread bytes above which the socket is paused while nobody waits for a message (a result the
 * caller iterates slowly). A reader waiting for a message bigger than this resumes it.
 */
const PAUSE_ABOVE_BYTES = 1 << 20;

export interface ConnectionOptions {
  /** Largest response accepted (header + body); default: the wire codec's 64 MiB. */
  maxMessageSizeBytes?: number;
}

interface LockWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface FrameReader {
  resolve(frame: Frame): void;
  reject(error: unknown): void;
}

export class Connection {
  /** The address dialled, exactly as given (leader identity is compared on it). */
  readonly address: string;
  readonly #stream: Duplex;
  readonly #decoder: StreamDecoder;
  // Sent in front of the first request, so a fresh connection costs one packet less.
  #handshake: Uint8Array | undefined = encodeHandshake();
  #failure: ConnectionError | undefined;
  #locked = false;
  readonly #lockWaiters: LockWaiter[] = [];
  #reader: FrameReader | undefined;
  #paused = false;

  constructor(address: string, stream: Duplex, options: ConnectionOptions = {}) {
    this.address = address;
    this.#stream = stream;
    this.#decoder = new StreamDecoder({ maxMessageSizeBytes: options.maxMessageSizeBytes });
    stream.on("data", this.#onData);
    stream.on("error", (error: Error) =>
      this.#fail(`connection error: ${error.message}`, { cause: error }),
    );
    stream.on("end", () => this.#fail("connection closed by the server"));
    stream.on("close", () => this.#fail("connection closed"));
  }

  /** Dials `address` and prepares the handshake (dqlite never answers it). */
  static async open(
    address: string,
    dial: DialFunction,
    deadline: Deadline,
    options?: ConnectionOptions,
  ): Promise<Connection> {
    const stream = await dial(address, deadline.signal);
    const reason = deadline.reason;
    if (reason !== undefined) {
      stream.destroy();
      throw reason;
    }
    return new Connection(address, stream, options);
  }

  /** True once the connection can no longer be used. */
  get broken(): boolean {
    return this.#failure !== undefined;
  }

  /** One request, one response; Failure responses become SqliteError. */
  async call(
    request: Request,
    deadline: Deadline,
    decodeOptions?: ResponseDecodeOptions,
  ): Promise<Response> {
    await this.lock(deadline);
    try {
      this.send(request);
      return checkFailure(await this.receive(deadline, decodeOptions));
    } finally {
      this.unlock();
    }
  }

  /** Waits for exclusive use of the connection; pair with `unlock`. */
  lock(deadline: Deadline): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#unsentError());
    const reason = deadline.reason;
    if (reason !== undefined) return Promise.reject(reason);
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    if (this.#lockWaiters.length >= MAX_LOCK_WAITERS) {
      return Promise.reject(
        new DqliteError(`more than ${MAX_LOCK_WAITERS} requests queued on one connection`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const stop = deadline.watch((why) => {
        const index = this.#lockWaiters.indexOf(waiter);
        if (index >= 0) this.#lockWaiters.splice(index, 1);
        reject(why);
      });
      const waiter: LockWaiter = {
        resolve: () => {
          stop();
          resolve();
        },
        reject: (error) => {
          stop();
          reject(error);
        },
      };
      this.#lockWaiters.push(waiter);
    });
  }

  unlock(): void {
    if (!this.#locked) throw new Error("assertion: unlock of a connection that is not locked");
    const next = this.#lockWaiters.shift();
    if (next === undefined) this.#locked = false;
    else next.resolve();
  }

  /** Writes one request (the lock must be held). Throws ConnectionError when already broken. */
  send(request: Request): void {
    if (!this.#locked) throw new Error("assertion: send without holding the connection lock");
    if (this.#failure !== undefined) throw this.#unsentError();
    const message = encodeRequest(request);
    const handshake = this.#handshake;
    if (handshake === undefined) {
      this.#stream.write(message);
      return;
    }
    this.#handshake = undefined;
    const both = new Uint8Array(handshake.length + message.length);
    both.set(handshake);
    both.set(message, handshake.length);
    this.#stream.write(both);
  }

  /** The next response (the lock must be held); a Failure is returned, not thrown. */
  async receive(deadline: Deadline, decodeOptions?: ResponseDecodeOptions): Promise<Response> {
    return this.decode(await this.receiveFrame(deadline), decodeOptions);
  }

  /** Decodes a message received here; one that does not decode kills the connection. */
  decode(frame: Frame, decodeOptions?: ResponseDecodeOptions): Response {
    try {
      return decodeResponse(frame, decodeOptions);
    } catch (error) {
      this.#fail(`undecodable response: ${(error as Error).message}`, { cause: error });
      throw this.#sentError();
    }
  }

  /** The next raw message (the lock must be held). Aborting kills the connection. */
  receiveFrame(deadline: Deadline): Promise<Frame> {
    if (!this.#locked) throw new Error("assertion: receive without holding the connection lock");
    if (this.#reader !== undefined) throw new Error("assertion: two readers on one connection");
    let frame: Frame | undefined;
    try {
      frame = this.#nextFrame();
    } catch {
      return Promise.reject(this.#sentError());
    }
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#failure !== undefined) return Promise.reject(this.#sentError());
    // The message is not complete: its bytes must flow in, whatever is buffered already.
    this.#resume();
    return new Promise<Frame>((resolve, reject) => {
      const stop = deadline.watch((why) => {
        this.#reader = undefined;
        this.#fail("request abandoned");
        reject(why);
      });
      this.#reader = {
        resolve: (next) => {
          stop();
          resolve(next);
        },
        reject: (error) => {
          stop();
          reject(error);
        },
      };
    });
  }

  /** Closes the socket; pending and later requests fail with ConnectionError. */
  close(): void {
    this.#fail("connection closed by the client");
  }

  /** Marks the connection unusable after a protocol violation found by a caller. */
  poison(reason: string): void {
    this.#fail(reason);
  }

  #nextFrame(): Frame | undefined {
    let frame: Frame | undefined;
    try {
      frame = this.#decoder.next();
    } catch (error) {
      this.#fail(`bad message from the server: ${(error as Error).message}`, { cause: error });
      throw error;
    }
    if (frame !== undefined && this.#decoder.bufferedBytes < PAUSE_ABOVE_BYTES) this.#resume();
    return frame;
  }

  readonly #onData = (chunk: Uint8Array): void => {
    this.#decoder.push(chunk);
    const reader = this.#reader;
    if (reader !== undefined) {
      let frame: Frame | undefined;
      try {
        frame = this.#nextFrame();
      } catch {
        return; // #fail rejected the reader
      }
      if (frame !== undefined) {
        this.#reader = undefined;
        reader.resolve(frame);
      }
    }
    if (
      this.#reader === undefined &&
      !this.#paused &&
      this.#decoder.bufferedBytes >= PAUSE_ABOVE_BYTES
    ) {
      this.#paused = true;
      this.#stream.pause();
    }
  };

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#stream.resume();
  }

  #fail(message: string, options?: ErrorOptions): void {
    if (this.#failure !== undefined) return;
    this.#failure = new ConnectionError(this.address, message, false, options);
    this.#stream.destroy();
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.reject(this.#sentError());
    for (const waiter of this.#lockWaiters.splice(0)) waiter.reject(this.#unsentError());
  }

  // The request could not be written: the server never saw it.
  #unsentError(): ConnectionError {
    const failure = this.#failure!;
    return new ConnectionError(this.address, failureText(failure), false, { cause: failure });
  }

  // The request was written, its answer never came: the outcome is unknown.
  #sentError(): ConnectionError {
    const failure = this.#failure!;
    return new ConnectionError(this.address, failureText(failure), true, { cause: failure });
  }
}

function failureText(failure: ConnectionError): string {
  return failure.message.slice(failure.address.length + 2);
}

/** Throws the SqliteError a Failure response stands for; returns any other response. */
export function checkFailure(response: Response): Response {
  if (response.type === "failure") throw failureError(response.code, response.message);
  return response;
}

/**
 * Narrows a response to the type the request expects. A Failure throws SqliteError; anything else
 * breaks the protocol, so the connection is closed.
 */
export function expectResponse<T extends Response["type"]>(
  connection: Connection,
  response: Response,
  type: T,
): Extract<Response, { type: T }> {
  if (response.type === type) return response as Extract<Response, { type: T }>;
  checkFailure(response);
  connection.poison(`expected a ${type} response, got ${response.type}`);
  throw new ConnectionError(
    connection.address,
    `protocol error: expected a ${type} response, got ${response.type}`,
    true,
  );
}
