// Cuts a byte stream into messages. TCP delivers chunks split anywhere; push them in and pull
// whole messages out. A message inside one chunk is returned as a view of it (no copy); only a
// message that straddles chunks is copied, once, when its last byte arrives.
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, HEADER_SIZE_BYTES } from "./constants.js";
import { WireDecodeError } from "./errors.js";
import { decodeHandshake, type ProtocolVersion } from "./header.js";
import type { Frame } from "./messages.js";

export interface StreamDecoderOptions {
  /** The stream starts with the client's handshake word (true on the server side). */
  handshake?: boolean;
  /** Largest message (header + body) accepted, checked as soon as its header is in. */
  maxMessageSizeBytes?: number;
}

/**
 * Incremental decoder for one direction of a connection. Call `push` for each chunk received,
 * then `next` until it returns undefined. Memory held is what was pushed and not yet pulled, so
 * drain after each push. Frames are views of the pushed chunks: do not reuse a chunk's memory
 * while its frames are in use. After a WireDecodeError the decoder stays failed.
 */
export class StreamDecoder {
  readonly #maxMessageSizeBytes: number;
  #expectHandshake: boolean;
  #version: ProtocolVersion | undefined;
  // Chunks from #head on are unconsumed, oldest first; chunk #head is consumed up to #offset.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #buffered = 0;
  // Size of the message at the front once its header has been read (0 = not read yet).
  #pendingSize = 0;
  #failure: WireDecodeError | undefined;

  constructor(options: StreamDecoderOptions = {}) {
    this.#expectHandshake = options.handshake ?? false;
    this.#maxMessageSizeBytes = options.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES;
    if (this.#maxMessageSizeBytes < HEADER_SIZE_BYTES) {
      throw new RangeError(`maxMessageSizeBytes ${this.#maxMessageSizeBytes} is below 8`);
    }
  }

  /** The handshake word once it has been read (server side), else undefined. */
  get version(): ProtocolVersion | undefined {
    return this.#version;
  }

  /** Bytes pushed and not yet returned. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Adds a chunk received from the stream. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next whole message, or undefined if more bytes are needed. Throws WireDecodeError. */
  next(): Frame | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return this.#next();
    } catch (error) {
      if (error instanceof WireDecodeError) this.#failure = error;
      throw error;
    }
  }

  /**
   * Hands over every byte not yet returned and empties the decoder (after a Connect request the
   * rest of the stream belongs to raft).
   */
  takeRemaining(): Uint8Array {
    this.#pendingSize = 0;
    return this.#take(this.#buffered);
  }

  #next(): Frame | undefined {
    if (this.#expectHandshake) {
      if (this.#buffered < HEADER_SIZE_BYTES) return undefined;
      this.#version = decodeHandshake(this.#take(HEADER_SIZE_BYTES));
      this.#expectHandshake = false;
    }
    if (this.#pendingSize === 0) {
      if (this.#buffered < HEADER_SIZE_BYTES) return undefined;
      const words = this.#peekHeader().getUint32(0, true);
      const size = HEADER_SIZE_BYTES + words * 8;
      if (size > this.#maxMessageSizeBytes) {
        throw new WireDecodeError(
          "too-large",
          `message of ${size} bytes exceeds the limit of ${this.#maxMessageSizeBytes}`,
        );
      }
      this.#pendingSize = size;
    }
    if (this.#buffered < this.#pendingSize) return undefined;
    const message = this.#take(this.#pendingSize);
    this.#pendingSize = 0;
    return {
      type: message[4],
      schema: message[5],
      extra: message[6] | (message[7] << 8),
      body: message.subarray(HEADER_SIZE_BYTES),
    };
  }

  #peekHeader(): DataView {
    const first = this.#chunks[this.#head];
    if (first.length - this.#offset >= HEADER_SIZE_BYTES) {
      return new DataView(first.buffer, first.byteOffset + this.#offset, HEADER_SIZE_BYTES);
    }
    const bytes = new Uint8Array(HEADER_SIZE_BYTES);
    let filled = 0;
    let offset = this.#offset;
    for (let i = this.#head; filled < HEADER_SIZE_BYTES; i++) {
      const chunk = this.#chunks[i];
      const count = Math.min(chunk.length - offset, HEADER_SIZE_BYTES - filled);
      bytes.set(chunk.subarray(offset, offset + count), filled);
      filled += count;
      offset = 0;
    }
    return new DataView(bytes.buffer);
  }

  // Removes `size` buffered bytes from the front: a view when they sit in one chunk, else a copy.
  #take(size: number): Uint8Array {
    if (size === 0) return new Uint8Array(0);
    const first = this.#chunks[this.#head];
    if (first.length - this.#offset >= size) {
      const view = first.subarray(this.#offset, this.#offset + size);
      this.#consume(size);
      return view;
    }
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.#chunks[this.#head];
      const count = Math.min(chunk.length - this.#offset, size - filled);
      bytes.set(chunk.subarray(this.#offset, this.#offset + count), filled);
      filled += count;
      this.#consume(count);
    }
    return bytes;
  }

  #consume(size: number): void {
    this.#offset += size;
    this.#buffered -= size;
    if (this.#offset < this.#chunks[this.#head].length) return;
    this.#head++;
    this.#offset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#chunks.length) {
      // Drop consumed chunks in one go rather than shifting the array once per chunk.
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
