// u64 little-endian fields as JavaScript numbers. Terms, indexes and lengths in libraft's formats
// are u64 but stay far below 2^53 in practice; a larger value can only come from corrupt or hostile
// bytes, so reading one throws instead of silently losing precision. Node ids are read as bigint.

const TWO_32 = 0x1_0000_0000;
/** Largest high word of a u64 that still fits a double exactly (2^53 - 1 overall). */
const MAX_SAFE_HIGH = 0x1f_ffff;

export class U64RangeError extends RangeError {
  override name = "U64RangeError";
}

export function readU64(view: DataView, offset: number): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  if (high > MAX_SAFE_HIGH) {
    throw new U64RangeError(
      `u64 at offset ${offset} exceeds 2^53 (high word 0x${high.toString(16)})`,
    );
  }
  return high * TWO_32 + low;
}

export function writeU64(view: DataView, offset: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new U64RangeError(`cannot encode ${value} as u64`);
  }
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function pad8(length: number): number {
  return Math.ceil(length / 8) * 8;
}
