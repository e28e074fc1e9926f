// UTF-8 for text fields. Policy: strict both ways. A JS string cannot hold invalid UTF-8 or lone
// surrogates unchanged, and silently substituting U+FFFD would alter data that gets replicated, so
// invalid bytes are a decode error and ill-formed strings an encode error. A BOM is kept as U+FEFF.
import { Buffer } from "node:buffer";
import { WireDecodeError, WireEncodeError } from "./errors.js";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

// Below this length a JS loop beats a call into TextEncoder for ASCII text.
const SHORT_TEXT_LENGTH = 64;

/** A Buffer over the same memory, for Node's fast one-byte string decoding. */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes bytes[start, end) as UTF-8; throws WireDecodeError("invalid-utf8"). */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    throw new WireDecodeError("invalid-utf8", `text at byte ${start} is not valid UTF-8`);
  }
}

/** Largest number of bytes `writeUtf8` can produce for `text`. */
export function maxUtf8Length(text: string): number {
  return text.length * 3;
}

/**
 * Writes `text` as UTF-8 at `offset` (the caller guarantees maxUtf8Length bytes of room) and
 * returns the byte count. Throws WireEncodeError for NUL characters and lone surrogates.
 */
export function writeUtf8(text: string, bytes: Uint8Array, offset: number): number {
  const length = text.length;
  if (length <= SHORT_TEXT_LENGTH) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      if (code === 0) throw nulInText();
      bytes[offset + i] = code;
    }
    if (i === length) return length;
  }
  if (text.includes("\0")) throw nulInText();
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new WireEncodeError(
      "bad-value",
      "text holds a lone surrogate (not representable in UTF-8)",
    );
  }
  const { written } = encoder.encodeInto(text, bytes.subarray(offset));
  return written;
}

function nulInText(): WireEncodeError {
  return new WireEncodeError("nul-in-text", "text contains a NUL character");
}
