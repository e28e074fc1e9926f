import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConnectionError,
  LeadershipLostError,
  NotLeaderError,
  SqliteError,
  TransactionLostError,
} from "../../../src/client/index.js";
import { Refusal, statementFailure, transactionFailure } from "./outcome.js";

test("a transaction that failed before COMMIT was sent certainly did not happen", () => {
  for (const error of [new LeadershipLostError(10506, "leadership lost"), new Error("timeout")]) {
    assert.equal(transactionFailure(error, false, false).type, "fail");
  }
});

test("a failed COMMIT is unknown unless the client knows it rolled back", () => {
  assert.equal(transactionFailure(new TransactionLostError("unknown"), true, false).type, "info");
  assert.equal(transactionFailure(new Error("aborted"), true, false).type, "info");
  assert.equal(
    transactionFailure(new TransactionLostError("rolled-back"), true, false).type,
    "fail",
  );
  assert.equal(
    transactionFailure(new NotLeaderError(10250, "not leader"), true, false).type,
    "fail",
  );
  assert.equal(transactionFailure(new Refusal("insufficient funds"), true, false).type, "fail");
});

test("reads never change anything, so a failed read is a fail", () => {
  assert.equal(transactionFailure(new TransactionLostError("unknown"), true, true).type, "fail");
  assert.equal(statementFailure(new LeadershipLostError(10506, "x"), true).type, "fail");
});

test("a single statement is unknown once it may have reached the leader", () => {
  assert.equal(statementFailure(new ConnectionError("n1", "reset", true), false).type, "info");
  assert.equal(statementFailure(new ConnectionError("n1", "refused", false), false).type, "fail");
  assert.equal(statementFailure(new LeadershipLostError(10506, "x"), false).type, "info");
  assert.equal(statementFailure(new NotLeaderError(10250, "x"), false).type, "fail");
  assert.equal(statementFailure(new SqliteError(5, "database is locked"), false).type, "fail");
  assert.equal(statementFailure(new SqliteError(10, "disk I/O error"), false).type, "info");
});
