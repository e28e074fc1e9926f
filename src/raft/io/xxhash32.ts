// xxHash32 (seed 0 by default): the checksum of LZ4 frames (header byte, blocks, content).

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number) =>
  b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
const round = (acc: number, lane: number) =>
  Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);

export function xxhash32(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  let i = 0;
  let acc: number;
  if (length >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = length - 16;
    while (i <= limit) {
      v1 = round(v1, u32(bytes, i));
      v2 = round(v2, u32(bytes, i + 4));
      v3 = round(v3, u32(bytes, i + 8));
      v4 = round(v4, u32(bytes, i + 12));
      i += 16;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + P5) | 0;
  }
  acc = (acc + length) | 0;
  while (i + 4 <= length) {
    acc = Math.imul(rotl((acc + Math.imul(u32(bytes, i), P3)) | 0, 17), P4);
    i += 4;
  }
  while (i < length) {
    acc = Math.imul(rotl((acc + Math.imul(bytes[i], P5)) | 0, 11), P1);
    i++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, P2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, P3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}
