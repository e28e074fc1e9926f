// The simulated state machine: a running hash of the commands applied, so two nodes that applied
// different commands (or the same in another order) end in different states.
import type { Entry, SnapshotData } from "../core/types.js";

/** FNV-1a over bytes, continuing from `hash`. */
export function fnv1a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A digest naming one entry (term, type and data). */
export function entryDigest(entry: Entry): number {
  let h = fnv1a(entry.data);
  h = Math.imul(h ^ entry.term, 0x01000193) >>> 0;
  return Math.imul(h ^ entry.type, 0x01000193) >>> 0;
}

export class SimFsm {
  lastIndex = 0;
  hash = 0;
  commands = 0;

  apply(entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) {
      throw new Error(`FSM applied ${entry.index} after ${this.lastIndex}`);
    }
    this.lastIndex = entry.index;
    if (entry.type === 1) {
      this.hash = Math.imul(this.hash ^ fnv1a(entry.data), 0x01000193) >>> 0;
      this.commands++;
    }
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.lastIndex, true);
    view.setUint32(8, this.hash, true);
    view.setFloat64(16, this.commands, true);
    return bytes;
  }

  restore(data: SnapshotData): void {
    // The simulation's snapshots are a few bytes, always in memory.
    if (!(data instanceof Uint8Array)) throw new TypeError("simulated snapshots are bytes");
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.lastIndex = view.getFloat64(0, true);
    this.hash = view.getUint32(8, true);
    this.commands = view.getFloat64(16, true);
  }
}
