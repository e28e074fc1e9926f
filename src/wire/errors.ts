// Typed errors for bytes from outside (decode) and for values that cannot be put on the wire (encode).

/** What is wrong with bytes that could not be decoded. */
export type WireDecodeErrorKind =
  /** The handshake word is neither version 1 nor the legacy word. */
  | "bad-version"
  /** The header announces a message larger than the decoder's limit. */
  | "too-large"
  /** The header's type code is not a known request/response. */
  | "unknown-type"
  /** The header's schema byte is not one this type has. */
  | "unknown-schema"
  /** A field, a count or a length runs past the end of the body. */
  | "truncated"
  /** A text field has no terminating NUL inside the body. */
  | "missing-nul"
  /** A text field is not valid UTF-8 (JS strings cannot carry it unchanged, so it is refused). */
  | "invalid-utf8"
  /** A tuple holds a type code that is not allowed there (6-8, >= 12, or 9 as a parameter). */
  | "bad-value-type"
  /** A Rows message does not end with the PART or DONE marker. */
  | "bad-marker"
  /** The body has bytes left over after its last field. */
  | "trailing-bytes"
  /** A u64 field holds a value too large for what it counts or names. */
  | "out-of-range";

/** Bytes received from a peer do not form a valid message. */
export class WireDecodeError extends Error {
  override name = "WireDecodeError";
  /** What is wrong, for callers that answer differently (reply with Failure or close). */
  readonly kind: WireDecodeErrorKind;

  constructor(kind: WireDecodeErrorKind, message: string) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

/** What is wrong with a value that cannot be encoded. */
export type WireEncodeErrorKind =
  /** Text with a NUL character (the wire uses NUL as the terminator). */
  | "nul-in-text"
  /** More parameters than the tuple schema can count (255 for schema 0). */
  | "too-many-params"
  /** A value does not fit its field (e.g. a non-integer or out-of-range INTEGER). */
  | "bad-value"
  /** A message would be larger than the header's u32 word count allows. */
  | "too-large"
  /** Dump file data whose size is not a multiple of 8 (it is not padded on the wire). */
  | "misaligned-file";

/** A message or value cannot be represented on the wire. */
export class WireEncodeError extends Error {
  override name = "WireEncodeError";
  readonly kind: WireEncodeErrorKind;

  constructor(kind: WireEncodeErrorKind, message: string) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}
