import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigurationHistory } from "../../../src/raft/core/configuration-history.js";
import { RaftRole } from "../../../src/raft/core/types.js";

const conf = (...ids: number[]) =>
  ids.map((i) => ({ id: BigInt(i), address: `n${i}`, role: RaftRole.Voter }));

test("the newest appended configuration is in force; truncation reverts to the previous one", () => {
  const history = new ConfigurationHistory({ index: 1, configuration: conf(1) });
  history.append(5, conf(1, 2));
  history.append(9, conf(1, 2, 3));
  assert.equal(history.current.index, 9);
  assert.equal(history.truncate(10), false);
  assert.equal(history.truncate(6), true);
  assert.deepEqual(history.current, { index: 5, configuration: conf(1, 2) });
});

test("the configuration at an index, and forgetting what no snapshot needs", () => {
  const history = new ConfigurationHistory({ index: 1, configuration: conf(1) });
  history.append(5, conf(1, 2));
  history.append(9, conf(1, 2, 3));
  assert.equal(history.at(4).index, 1);
  assert.equal(history.at(8).index, 5);
  history.forgetBefore(8);
  assert.equal(history.at(8).index, 5);
  assert.throws(() => history.at(4), /no configuration/);
  assert.throws(() => history.append(9, conf(1)), /not after/);
});
