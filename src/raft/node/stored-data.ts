// A leader's AppendEntries can carry stand-ins for entries whose data the core no longer keeps in
// memory (see the core's `logDataInMemoryBytes`). Before it leaves the node, their data is read
// back from storage, and checked to be the same entries (index, term and size). The driver reads
// asynchronously; the simulator reads its disk model directly. Both fill the message here.
import type { AppendEntries, Entry, Message } from "../core/types.js";
import { isDataDropped } from "../core/types.js";

/** True when `message` carries stand-ins that must be filled from storage before sending. */
export function needsStoredData(message: Message): message is AppendEntries {
  return message.type === "appendEntries" && message.entries.some(isDataDropped);
}

/** The index range to read from storage: from the first entry through the last stand-in. */
export function storedRange(message: AppendEntries): { fromIndex: number; toIndex: number } {
  const entries = message.entries;
  let last = entries.length - 1;
  while (last > 0 && !isDataDropped(entries[last])) last--;
  return { fromIndex: entries[0].index, toIndex: entries[last].index };
}

/**
 * The message with every stand-in replaced by its stored entry (`stored` starts at the first
 * entry's index), or null when storage no longer has them as they were (compacted behind a
 * snapshot meanwhile): the message is then dropped, as if lost, and the leader's usual retry
 * sends the follower what it needs.
 */
export function fillStoredData(
  message: AppendEntries,
  stored: readonly Entry[],
): AppendEntries | null {
  const filled = message.entries.slice();
  for (let i = 0; i < filled.length; i++) {
    const want = filled[i];
    if (!isDataDropped(want)) continue;
    const got = stored[i];
    if (
      got === undefined ||
      got.index !== want.index ||
      got.term !== want.term ||
      got.data.length !== want.droppedDataBytes
    ) {
      return null;
    }
    filled[i] = got;
  }
  return { ...message, entries: filled };
}

/**
 * As `fillStoredData`, from a whole stored log held in memory (contiguous entries, as the
 * simulator's disk model and the core tests' keep): null when the first entry is not there.
 */
export function fillFromStoredLog(
  message: AppendEntries,
  log: readonly Entry[],
): AppendEntries | null {
  const at = log.findIndex((e) => e.index === storedRange(message).fromIndex);
  return at < 0 ? null : fillStoredData(message, log.slice(at, at + message.entries.length));
}

/** Reads the stand-ins' data from `storage` and fills the message (null: drop it). */
export async function withStoredData(
  message: AppendEntries,
  storage: { readEntries(fromIndex: number, toIndex: number): Promise<Entry[]> },
): Promise<AppendEntries | null> {
  const { fromIndex, toIndex } = storedRange(message);
  try {
    return fillStoredData(message, await storage.readEntries(fromIndex, toIndex));
  } catch {
    return null;
  }
}
