import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeConfiguration } from "../../../src/raft/core/configuration-codec.js";
import { bootstrapEntry, recoveryEntry } from "../../../src/raft/core/configuration-entries.js";
import { RaftError, RaftLoadError } from "../../../src/raft/core/errors.js";
import type { LoadedState } from "../../../src/raft/core/options.js";
import { Raft } from "../../../src/raft/core/raft.js";
import { type Entry, EntryType, RaftRole } from "../../../src/raft/core/types.js";

const three = [1, 2, 3].map((i) => ({ id: BigInt(i), address: `n${i}`, role: RaftRole.Voter }));

function start(id: bigint, loaded: LoadedState): Raft {
  return new Raft({ id, loaded, now: () => 0, random: (min) => min });
}

const command = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Command,
  data: new Uint8Array(8),
});

test("a bootstrapped log is committed at index 1, a fresh node knows nothing", () => {
  const raft = start(2n, {
    hardState: { term: 1, votedFor: 0n },
    entries: [bootstrapEntry(three)],
  });
  assert.deepEqual(
    [raft.state, raft.commitIndex, raft.lastIndex, raft.configuration.length],
    ["follower", 1, 1, 3],
  );
  const fresh = start(4n, { hardState: { term: 0, votedFor: 0n }, entries: [] });
  assert.deepEqual([fresh.commitIndex, fresh.lastIndex, fresh.configuration.length], [0, 0, 0]);
});

test("after a snapshot the configuration is the snapshot's, then any CHANGE entry after it", () => {
  const later = [...three, { id: 4n, address: "n4", role: RaftRole.Spare }];
  const raft = start(1n, {
    hardState: { term: 3, votedFor: 1n },
    snapshot: { index: 10, term: 2, configuration: three, configurationIndex: 1 },
    entries: [
      command(9, 2),
      command(10, 2),
      command(11, 3),
      { index: 12, term: 3, type: EntryType.Change, data: encodeConfiguration(later) },
    ],
  });
  assert.deepEqual(
    [raft.commitIndex, raft.lastApplied, raft.lastIndex, raft.termAt(9)],
    [10, 10, 12, 2],
  );
  assert.equal(raft.configurationIndex, 12);
  assert.equal(raft.committedConfigurationIndex, 1);
  assert.equal(raft.configuration.length, 4);
});

test("entries that end before the snapshot are ignored", () => {
  const raft = start(1n, {
    hardState: { term: 3, votedFor: 0n },
    snapshot: { index: 10, term: 2, configuration: three, configurationIndex: 1 },
    entries: [command(5, 2), command(6, 2)],
  });
  assert.deepEqual([raft.lastIndex, raft.termAt(10), raft.termAt(6)], [10, 2, 0]);
});

test("inconsistent state from disk is refused with a typed error", () => {
  const cases: LoadedState[] = [
    { hardState: { term: 1, votedFor: 0n }, entries: [command(2, 1)] },
    { hardState: { term: 1, votedFor: 0n }, entries: [bootstrapEntry(three), command(3, 1)] },
    {
      hardState: { term: 1, votedFor: 0n },
      snapshot: { index: 10, term: 2, configuration: three, configurationIndex: 1 },
      entries: [command(12, 2)],
    },
    {
      hardState: { term: 1, votedFor: 0n },
      snapshot: { index: 10, term: 2, configuration: three, configurationIndex: 1 },
      entries: [command(10, 1)],
    },
  ];
  for (const loaded of cases) assert.throws(() => start(1n, loaded), RaftLoadError);
});

test("the recovery entry is the forced configuration after the last index, with term 1", () => {
  const entry = recoveryEntry(41, three);
  assert.deepEqual([entry.index, entry.term, entry.type], [42, 1, EntryType.Change]);
  assert.deepEqual(entry.data, encodeConfiguration(three));
  const raft = start(1n, {
    hardState: { term: 7, votedFor: 0n },
    snapshot: { index: 41, term: 7, configuration: [three[0]], configurationIndex: 1 },
    entries: [entry],
  });
  assert.equal(raft.configurationIndex, 42);
  assert.equal(raft.configuration.length, 3);
  assert.throws(() => recoveryEntry(1, []), RaftError);
  assert.throws(() => recoveryEntry(1, [three[0], three[0]]), RaftError);
  assert.throws(
    () => recoveryEntry(1, [{ ...three[0], role: RaftRole.Spare }]),
    (e: unknown) => e instanceof RaftError && e.code === "badConfiguration",
  );
});

test("options are checked", () => {
  const loaded: LoadedState = { hardState: { term: 0, votedFor: 0n }, entries: [] };
  const base = { loaded, now: () => 0, random: (min: number) => min };
  assert.throws(() => new Raft({ ...base, id: 0n }), RangeError);
  assert.throws(
    () => new Raft({ ...base, id: 1n, electionTimeoutMs: 100, heartbeatTimeoutMs: 100 }),
    RangeError,
  );
  assert.throws(() => new Raft({ ...base, id: 1n, random: () => 5 }), /random\(\)/);
});
