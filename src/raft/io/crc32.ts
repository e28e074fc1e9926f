// The CRC-32 of libraft's disk format (segment batches, snapshot .meta): polynomial 0x04C11DB7
// processed MSB-first, initial value 0 (or the previous CRC when chaining), no final xor. This is
// not zlib's CRC-32. Check value: "123456789" → 0x89A1897F.
//
// Slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration with
// independent lookups, several times faster than the byte-at-a-time loop on segment-sized inputs.

const POLY = 0x04c11db7;

const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0];
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ POLY : crc << 1;
    t0[i] = crc >>> 0;
  }
  // tables[k][i] is the CRC of byte i followed by k zero bytes.
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1];
    const next = tables[k];
    for (let i = 0; i < 256; i++) next[i] = ((prev[i] << 8) ^ t0[prev[i] >>> 24]) >>> 0;
  }
  return tables;
})();

/** libraft's CRC-32 of `bytes`, continuing from `init` (0 for a fresh checksum). */
export function crc32(bytes: Uint8Array, init = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = init >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  while (i < end8) {
    const c = crc ^ ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]);
    crc =
      t7[c >>> 24] ^
      t6[(c >>> 16) & 0xff] ^
      t5[(c >>> 8) & 0xff] ^
      t4[c & 0xff] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
    i += 8;
  }
  while (i < bytes.length) {
    crc = (crc << 8) ^ t0[((crc >>> 24) ^ bytes[i]) & 0xff];
    i++;
  }
  return crc >>> 0;
}
