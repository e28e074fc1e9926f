// Incremental decoder for a stream of raft messages (one inbound peer connection): bytes arrive in
// arbitrary chunks, whole messages come out. Headers are parsed straight from the received chunks
// when they lie in one; payloads are copied once into their own buffer so that entries kept in the
// raft log do not pin the socket's read buffers. Memory is bounded: a header or payload larger
// than the configured limits is an error before anything is allocated for it, and a payload is
// only allocated as its bytes actually arrive.
import type { Message, NodeId } from "../core/types.js";
import { readU64, viewOf } from "./little-endian.js";
import {
  type DecodedHeader,
  decodeHeader,
  MessageDecodeError,
  PREAMBLE_BYTES,
} from "./message-codec.js";
import type { SpoolWriter } from "./snapshot-spool.js";

export interface MessageDecoderOptions {
  /** The sender, as announced by its CONNECT hand-off. */
  from: NodeId;
  /** This node. */
  to: NodeId;
  /** Largest header accepted (libraft HEAD: 4 MiB). */
  maxHeaderBytes?: number;
  /** Largest payload accepted in memory: AppendEntries data or a whole snapshot. */
  maxPayloadBytes?: number;
  /**
   * Where snapshots of at least `thresholdBytes` are received instead of memory (up to
   * `maxBytes`); without it every payload is received in memory.
   */
  spool?: { thresholdBytes: number; maxBytes: number; create(sizeBytes: number): SpoolWriter };
}

const DEFAULT_MAX_HEADER_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

type State =
  | { kind: "preamble" }
  | { kind: "header"; type: number; headerBytes: number }
  | { kind: "payload"; decoded: DecodedHeader; payload: Uint8Array; filled: number }
  | { kind: "spool"; decoded: DecodedHeader; writer: SpoolWriter; filled: number };

/** First allocation for a payload; it doubles as bytes arrive, up to the announced size. */
const INITIAL_PAYLOAD_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

export class MessageDecoder {
  readonly #from: NodeId;
  readonly #to: NodeId;
  readonly #maxHeaderBytes: number;
  readonly #maxPayloadBytes: number;
  readonly #spool: MessageDecoderOptions["spool"];
  /** A preamble or header split across chunks, being filled (null when none is pending). */
  #partial: Uint8Array | null = null;
  #partialFilled = 0;
  #state: State = { kind: "preamble" };

  constructor(options: MessageDecoderOptions) {
    this.#from = options.from;
    this.#to = options.to;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#spool = options.spool;
  }

  /** The connection is gone: a snapshot being received into a file is deleted. */
  close(): void {
    const state = this.#state;
    this.#state = { kind: "preamble" };
    if (state.kind === "spool") state.writer.abandon();
  }

  /** Bytes held while waiting for the rest of a message. */
  get bufferedBytes(): number {
    const state = this.#state;
    return this.#partialFilled + (state.kind === "payload" ? state.filled : 0);
  }

  /** Bytes of the message being received into a spool file so far. */
  get spooledBytes(): number {
    return this.#state.kind === "spool" ? this.#state.filled : 0;
  }

  /**
   * Feeds received bytes; returns the messages they complete, in order. Throws MessageDecodeError
   * on malformed input, after which the decoder must not be used again. Does not keep references
   * to `chunk`.
   */
  push(chunk: Uint8Array): Message[] {
    const messages: Message[] = [];
    let input = chunk;
    while (input.length > 0) {
      const state = this.#state;
      if (state.kind === "payload") {
        input = this.#fillPayload(state, input, messages);
        continue;
      }
      if (state.kind === "spool") {
        input = this.#fillSpool(state, input, messages);
        continue;
      }
      const wanted = state.kind === "preamble" ? PREAMBLE_BYTES : state.headerBytes;
      let bytes: Uint8Array;
      if (this.#partial === null && input.length >= wanted) {
        bytes = input.subarray(0, wanted);
        input = input.subarray(wanted);
      } else {
        this.#partial ??= new Uint8Array(wanted);
        const take = Math.min(input.length, wanted - this.#partialFilled);
        this.#partial.set(input.subarray(0, take), this.#partialFilled);
        this.#partialFilled += take;
        input = input.subarray(take);
        if (this.#partialFilled < wanted) break;
        bytes = this.#partial;
        this.#partial = null;
        this.#partialFilled = 0;
      }
      if (state.kind === "preamble") this.#onPreamble(bytes);
      else this.#onHeader(state.type, bytes, messages);
    }
    return messages;
  }

  #fillPayload(
    state: Extract<State, { kind: "payload" }>,
    input: Uint8Array,
    messages: Message[],
  ): Uint8Array {
    const total = state.decoded.payloadBytes;
    if (state.filled === 0 && input.length >= total) {
      // The whole payload is here: one copy, no zero-filled buffer first.
      // ArrayBuffer#slice copies (a Buffer's own slice() would only make a view of the chunk).
      const copy = input.buffer.slice(input.byteOffset, input.byteOffset + total) as ArrayBuffer;
      messages.push(state.decoded.complete(new Uint8Array(copy)));
      this.#state = { kind: "preamble" };
      return input.subarray(total);
    }
    const take = Math.min(input.length, total - state.filled);
    if (state.filled + take > state.payload.length) {
      const grown = new Uint8Array(
        Math.min(
          total,
          Math.max(state.filled + take, state.payload.length * 2, INITIAL_PAYLOAD_BYTES),
        ),
      );
      grown.set(state.payload.subarray(0, state.filled));
      state.payload = grown;
    }
    state.payload.set(input.subarray(0, take), state.filled);
    state.filled += take;
    if (state.filled === total) {
      messages.push(state.decoded.complete(state.payload));
      this.#state = { kind: "preamble" };
    }
    return input.subarray(take);
  }

  #fillSpool(
    state: Extract<State, { kind: "spool" }>,
    input: Uint8Array,
    messages: Message[],
  ): Uint8Array {
    const take = Math.min(input.length, state.decoded.payloadBytes - state.filled);
    try {
      state.writer.write(input.subarray(0, take));
      state.filled += take;
      if (state.filled === state.decoded.payloadBytes) {
        this.#state = { kind: "preamble" };
        messages.push(state.decoded.completeStreamed!(state.writer.finish()));
      }
    } catch (error) {
      if (error instanceof MessageDecodeError) throw error;
      this.close();
      // The connection is dropped like for bad input; the leader sends the snapshot again.
      throw new MessageDecodeError(`cannot receive the snapshot: ${(error as Error).message}`);
    }
    return input.subarray(take);
  }

  #onPreamble(bytes: Uint8Array): void {
    const view = viewOf(bytes);
    let type: number;
    let headerBytes: number;
    try {
      type = readU64(view, 0);
      headerBytes = readU64(view, 8);
    } catch (error) {
      throw new MessageDecodeError((error as Error).message);
    }
    if (type < 1 || type > 6) throw new MessageDecodeError(`unknown message type ${type}`);
    if (headerBytes === 0) throw new MessageDecodeError("message header length is zero");
    if (headerBytes > this.#maxHeaderBytes) {
      throw new MessageDecodeError(
        `message header of ${headerBytes} bytes exceeds the limit of ${this.#maxHeaderBytes}`,
      );
    }
    this.#state = { kind: "header", type, headerBytes };
  }

  #onHeader(type: number, bytes: Uint8Array, messages: Message[]): void {
    const decoded = decodeHeader(type, bytes, this.#from, this.#to);
    const spool = this.#spool;
    if (
      spool !== undefined &&
      decoded.completeStreamed !== undefined &&
      decoded.payloadBytes >= spool.thresholdBytes
    ) {
      if (decoded.payloadBytes > spool.maxBytes) {
        throw new MessageDecodeError(
          `snapshot of ${decoded.payloadBytes} bytes exceeds the limit of ${spool.maxBytes}`,
        );
      }
      let writer: SpoolWriter;
      try {
        writer = spool.create(decoded.payloadBytes);
      } catch (error) {
        throw new MessageDecodeError(`cannot receive the snapshot: ${(error as Error).message}`);
      }
      this.#state = { kind: "spool", decoded, writer, filled: 0 };
      return;
    }
    if (decoded.payloadBytes > this.#maxPayloadBytes) {
      throw new MessageDecodeError(
        `message payload of ${decoded.payloadBytes} bytes exceeds the limit of ${this.#maxPayloadBytes}`,
      );
    }
    if (decoded.payloadBytes === 0) {
      messages.push(decoded.complete(new Uint8Array(0)));
      this.#state = { kind: "preamble" };
      return;
    }
    // The buffer is allocated when bytes arrive that do not hold the whole payload.
    this.#state = { kind: "payload", decoded, payload: EMPTY, filled: 0 };
  }
}
