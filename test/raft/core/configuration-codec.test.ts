import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfigurationDecodeError,
  decodeConfiguration,
  encodeConfiguration,
} from "../../../src/raft/core/configuration-codec.js";
import { RaftRole } from "../../../src/raft/core/types.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

test("one voter encodes to the 40 bytes libraft writes", () => {
  const bytes = encodeConfiguration([
    { id: 0x2dc171858c3155ben, address: "127.0.0.1:19001", role: RaftRole.Voter },
  ]);
  assert.equal(bytes.length, 40);
  assert.deepEqual(
    bytes,
    hex(`01 0100000000000000 be55318c8571c12d ${Buffer.from("127.0.0.1:19001").toString("hex")} 00 01
         000000000000`),
  );
});

test("three servers with 15-character addresses take 88 bytes and round-trip", () => {
  const configuration = [
    { id: 1n, address: "127.0.0.1:19001", role: RaftRole.Voter },
    { id: 2n, address: "127.0.0.1:19002", role: RaftRole.Standby },
    { id: 0xffffffffffffffffn, address: "127.0.0.1:19003", role: RaftRole.Spare },
  ];
  const bytes = encodeConfiguration(configuration);
  assert.equal(bytes.length, 88);
  assert.deepEqual(decodeConfiguration(bytes), configuration);
});

test("bad input gives a typed error", () => {
  const good = encodeConfiguration([{ id: 7n, address: "a:1", role: RaftRole.Voter }]);
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.of(2, ...good.subarray(1)),
    good.subarray(0, 12),
    Uint8Array.of(...good.subarray(0, good.indexOf(0x31) + 1)),
    (() => {
      const b = Uint8Array.from(good);
      b[1] = 0xff;
      return b;
    })(),
  ];
  for (const bytes of cases)
    assert.throws(() => decodeConfiguration(bytes), ConfigurationDecodeError);
});
