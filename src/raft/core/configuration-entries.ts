// The CHANGE entries written offline, before a node runs: bootstrap and forced recovery.

import { checkConfiguration, voterCount } from "./configuration.js";
import { encodeConfiguration } from "./configuration-codec.js";
import { RaftError } from "./errors.js";
import { type Configuration, type Entry, EntryType } from "./types.js";

function checkHasVoter(configuration: Configuration): void {
  checkConfiguration(configuration);
  if (voterCount(configuration) === 0) {
    throw new RaftError("badConfiguration", "a configuration needs at least one voter");
  }
}

/** The first entry of a bootstrapped log (libraft: index 1, term 1, with metadata term 1). */
export function bootstrapEntry(configuration: Configuration): Entry {
  checkHasVoter(configuration);
  return { index: 1, term: 1, type: EntryType.Change, data: encodeConfiguration(configuration) };
}

/**
 * The entry libraft's recovery (`raft_recover`, dqlite's ReconfigureMembership) appends after the
 * last entry (or the snapshot when the log is empty): the forced configuration, with term 1 as
 * libraft hard-codes. On the next start the core adopts it like any appended configuration.
 */
export function recoveryEntry(lastIndex: number, configuration: Configuration): Entry {
  checkHasVoter(configuration);
  if (!Number.isSafeInteger(lastIndex) || lastIndex < 0) {
    throw new RangeError(`bad last index ${lastIndex}`);
  }
  return {
    index: lastIndex + 1,
    term: 1,
    type: EntryType.Change,
    data: encodeConfiguration(configuration),
  };
}
