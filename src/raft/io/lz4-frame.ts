// The LZ4 frame format (lz4_Frame_format.md v1.6.x), enough for libraft's compressed snapshots:
// libraft 0.15 with liblz4 writes one frame, 64 KiB linked blocks, content size and content
// checksum on. The decoder takes any single frame (linked or independent blocks, with or without
// block/content checksums, content size or not); the encoder writes independent 64 KiB blocks
// with a greedy hash-chain-free matcher, the content size and the content checksum, which
// liblz4 (and so libraft) reads back.
import { xxhash32 } from "./xxhash32.js";

const MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
const ENCODE_BLOCK_BYTES = 64 * 1024;
const MIN_MATCH = 4;
/** The last match must start this far before the end of a block (LZ4 block format rule). */
const MF_LIMIT = 12;
/** The last bytes of a block are always literals. */
const LAST_LITERALS = 5;
const HASH_BITS = 14;

export class Lz4FormatError extends Error {
  override name = "Lz4FormatError";
}

/** Whether `bytes` start with the LZ4 frame magic (libraft's test for a compressed snapshot). */
export function isLz4Frame(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && readU32(bytes, 0) === MAGIC;
}

/**
 * Decodes one LZ4 frame. `maxBytes` bounds the output so that a hostile or corrupt size field
 * cannot make us allocate without limit.
 */
export function lz4Decompress(frame: Uint8Array, maxBytes: number = 2 ** 31): Uint8Array {
  if (!isLz4Frame(frame)) throw new Lz4FormatError("missing LZ4 frame magic");
  if (frame.length < 7) throw new Lz4FormatError("truncated frame header");
  const flags = frame[4];
  const bd = frame[5];
  if (flags >> 6 !== 1) throw new Lz4FormatError(`unsupported frame version ${flags >> 6}`);
  const blockChecksums = (flags & 0x10) !== 0;
  const hasContentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  const hasDictId = (flags & 0x01) !== 0;
  const blockMaxBytes = BLOCK_MAX_BYTES[(bd >> 4) & 7];
  if (blockMaxBytes === undefined) throw new Lz4FormatError(`bad block size id ${(bd >> 4) & 7}`);
  if (hasDictId) throw new Lz4FormatError("frames with a dictionary are not supported");
  let offset = 6;
  let contentSize = -1;
  if (hasContentSize) {
    if (frame.length < offset + 9) throw new Lz4FormatError("truncated frame header");
    const low = readU32(frame, offset);
    const high = readU32(frame, offset + 4);
    contentSize = high * 2 ** 32 + low;
    if (contentSize > maxBytes) {
      throw new Lz4FormatError(`content size ${contentSize} exceeds the limit of ${maxBytes}`);
    }
    offset += 8;
  }
  const headerChecksum = (xxhash32(frame.subarray(4, offset)) >>> 8) & 0xff;
  if (frame[offset] !== headerChecksum) throw new Lz4FormatError("frame header checksum mismatch");
  offset += 1;

  let out = new Uint8Array(contentSize >= 0 ? contentSize : Math.min(maxBytes, blockMaxBytes));
  let produced = 0;
  for (;;) {
    if (offset + 4 > frame.length) throw new Lz4FormatError("truncated block size");
    const word = readU32(frame, offset);
    offset += 4;
    if (word === 0) break;
    const stored = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMaxBytes)
      throw new Lz4FormatError(`block of ${size} bytes exceeds ${blockMaxBytes}`);
    if (offset + size + (blockChecksums ? 4 : 0) > frame.length)
      throw new Lz4FormatError("truncated block");
    const block = frame.subarray(offset, offset + size);
    offset += size;
    if (blockChecksums) {
      if (xxhash32(block) !== readU32(frame, offset))
        throw new Lz4FormatError("block checksum mismatch");
      offset += 4;
    }
    if (contentSize < 0 && produced + blockMaxBytes > out.length && out.length < maxBytes) {
      // No announced size: grow by doubling, never past the limit (decoding checks every write).
      const grown = new Uint8Array(
        Math.min(maxBytes, Math.max(out.length * 2, produced + blockMaxBytes)),
      );
      grown.set(out.subarray(0, produced));
      out = grown;
    }
    if (stored) {
      if (produced + size > out.length) throw new Lz4FormatError("content longer than announced");
      out.set(block, produced);
      produced += size;
    } else {
      produced = decodeBlock(block, out, produced);
    }
  }
  if (contentSize >= 0 && produced !== contentSize) {
    throw new Lz4FormatError(`content has ${produced} bytes, header announced ${contentSize}`);
  }
  const content = out.subarray(0, produced);
  if (contentChecksum) {
    if (offset + 4 > frame.length) throw new Lz4FormatError("truncated content checksum");
    if (xxhash32(content) !== readU32(frame, offset))
      throw new Lz4FormatError("content checksum mismatch");
    offset += 4;
  }
  if (offset !== frame.length)
    throw new Lz4FormatError(`${frame.length - offset} bytes after the frame`);
  return content;
}

/** Decodes one compressed block into `out` at `start` (earlier output may be referenced). */
function decodeBlock(block: Uint8Array, out: Uint8Array, start: number): number {
  let i = 0;
  let o = start;
  const end = block.length;
  for (;;) {
    if (i >= end) throw new Lz4FormatError("block ends inside a sequence");
    const token = block[i++];
    let literals = token >>> 4;
    if (literals === 15) {
      let more: number;
      do {
        if (i >= end) throw new Lz4FormatError("block ends inside a literal length");
        more = block[i++];
        literals += more;
      } while (more === 255);
    }
    if (i + literals > end) throw new Lz4FormatError("literals run past the block");
    if (o + literals > out.length) throw new Lz4FormatError("content longer than announced");
    out.set(block.subarray(i, i + literals), o);
    i += literals;
    o += literals;
    if (i === end) return o;
    if (i + 2 > end) throw new Lz4FormatError("block ends inside a match offset");
    const distance = block[i] | (block[i + 1] << 8);
    i += 2;
    if (distance === 0 || distance > o)
      throw new Lz4FormatError(`match offset ${distance} is out of range`);
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let more: number;
      do {
        if (i >= end) throw new Lz4FormatError("block ends inside a match length");
        more = block[i++];
        length += more;
      } while (more === 255);
    }
    if (o + length > out.length) throw new Lz4FormatError("content longer than announced");
    let from = o - distance;
    if (distance >= length) {
      out.copyWithin(o, from, from + length);
      o += length;
    } else {
      // Overlapping copy repeats the last `distance` bytes: byte by byte is the definition.
      for (let k = 0; k < length; k++) out[o++] = out[from++];
    }
  }
}

/** Encodes `content` as one LZ4 frame: independent 64 KiB blocks, content size and checksum. */
export function lz4Compress(content: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(content.length / ENCODE_BLOCK_BYTES));
  // Worst case: every block stored raw with its size word, plus header, end mark and checksum.
  const out = new Uint8Array(15 + content.length + 4 * blocks + 8);
  writeU32(out, 0, MAGIC);
  out[4] = 0x40 | 0x20 | 0x08 | 0x04; // version 1, independent blocks, content size, content checksum
  out[5] = 4 << 4; // 64 KiB blocks
  writeU32(out, 6, content.length % 2 ** 32);
  writeU32(out, 10, Math.floor(content.length / 2 ** 32));
  out[14] = (xxhash32(out.subarray(4, 14)) >>> 8) & 0xff;
  let offset = 15;
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < content.length; start += ENCODE_BLOCK_BYTES) {
    const block = content.subarray(start, Math.min(content.length, start + ENCODE_BLOCK_BYTES));
    const sizeAt = offset;
    offset += 4;
    const written = encodeBlock(block, out, offset, table);
    if (written >= 0 && written < block.length) {
      writeU32(out, sizeAt, written);
      offset += written;
    } else {
      writeU32(out, sizeAt, (block.length | 0x80000000) >>> 0);
      out.set(block, offset);
      offset += block.length;
    }
  }
  writeU32(out, offset, 0);
  offset += 4;
  writeU32(out, offset, xxhash32(content));
  offset += 4;
  return out.slice(0, offset);
}

/**
 * Greedy LZ4 block encoder. Writes into `out` at `at`; returns the compressed size, or -1 when
 * the result would not be smaller than the input (the caller then stores the block raw).
 */
function encodeBlock(src: Uint8Array, out: Uint8Array, at: number, table: Int32Array): number {
  const length = src.length;
  const limit = at + length; // never produce more than the raw size
  let o = at;
  let anchor = 0;
  table.fill(-1);
  const matchLimit = length - MF_LIMIT;
  let i = 0;
  while (i < matchLimit) {
    const sequence = readU32(src, i);
    const slot = Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS);
    const candidate = table[slot];
    table[slot] = i;
    if (candidate < 0 || i - candidate > 0xffff || readU32(src, candidate) !== sequence) {
      i++;
      continue;
    }
    let matchEnd = i + MIN_MATCH;
    let from = candidate + MIN_MATCH;
    const maxEnd = length - LAST_LITERALS;
    while (matchEnd < maxEnd && src[matchEnd] === src[from]) {
      matchEnd++;
      from++;
    }
    o = writeSequence(src, anchor, i, out, o, limit, i - candidate, matchEnd - i);
    if (o < 0) return -1;
    i = matchEnd;
    anchor = i;
  }
  o = writeSequence(src, anchor, length, out, o, limit, 0, 0);
  return o < 0 ? -1 : o - at;
}

/** Writes literals src[anchor, end) then (if matchLength > 0) a match; -1 if `limit` is reached. */
function writeSequence(
  src: Uint8Array,
  anchor: number,
  end: number,
  out: Uint8Array,
  o: number,
  limit: number,
  distance: number,
  matchLength: number,
): number {
  const literals = end - anchor;
  const extra = matchLength > 0 ? matchLength - MIN_MATCH : 0;
  const needed = 1 + Math.floor(literals / 255) + 1 + literals + 2 + Math.floor(extra / 255) + 1;
  if (o + needed > limit) return -1;
  const tokenAt = o++;
  let token = Math.min(literals, 15) << 4;
  if (literals >= 15) o = writeLength(out, o, literals - 15);
  out.set(src.subarray(anchor, end), o);
  o += literals;
  if (matchLength > 0) {
    out[o++] = distance & 0xff;
    out[o++] = distance >>> 8;
    token |= Math.min(extra, 15);
    if (extra >= 15) o = writeLength(out, o, extra - 15);
  }
  out[tokenAt] = token;
  return o;
}

function writeLength(out: Uint8Array, o: number, remaining: number): number {
  while (remaining >= 255) {
    out[o++] = 255;
    remaining -= 255;
  }
  out[o++] = remaining;
  return o;
}

function readU32(bytes: Uint8Array, i: number): number {
  return (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, i: number, value: number): void {
  bytes[i] = value & 0xff;
  bytes[i + 1] = (value >>> 8) & 0xff;
  bytes[i + 2] = (value >>> 16) & 0xff;
  bytes[i + 3] = (value >>> 24) & 0xff;
}
