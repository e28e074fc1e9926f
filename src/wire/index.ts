// Public API of the dqlite client wire protocol codec.
export {
  BOOTSTRAP_ID,
  DEFAULT_MAX_MESSAGE_SIZE_BYTES,
  ErrorCode,
  HEADER_SIZE_BYTES,
  HEARTBEAT_TIMEOUT_MS,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_LEGACY,
  RequestType,
  ResponseType,
  ROWS_DONE_MARKER,
  ROWS_PART_MARKER,
  ROWS_PART_SIZE_BYTES,
  Role,
  ValueType,
} from "./constants.js";
export {
  WireDecodeError,
  type WireDecodeErrorKind,
  WireEncodeError,
  type WireEncodeErrorKind,
} from "./errors.js";
export {
  decodeHandshake,
  decodeHeader,
  encodeHandshake,
  encodeHeader,
  type Header,
  type ProtocolVersion,
} from "./header.js";
export type * from "./messages.js";
export { type DecodeOptions, decodeRequest, encodeRequest } from "./request-codec.js";
export {
  decodeResponse,
  encodeResponse,
  type ResponseDecodeOptions,
  type ResponseEncodeOptions,
} from "./response-codec.js";
export { RowsWriter, type RowsWriterOptions } from "./rows.js";
export { StreamDecoder, type StreamDecoderOptions } from "./stream-decoder.js";
