// Dates as go-dqlite formats them for parameters and parses them from ISO8601 row values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIso8601, parseIso8601 } from "../../src/client/iso8601.js";

test("dates are formatted with Go's layout in UTC, trailing fraction zeros dropped", () => {
  assert.equal(formatIso8601(new Date("2024-01-02T03:04:05Z")), "2024-01-02 03:04:05+00:00");
  assert.equal(formatIso8601(new Date("2024-01-02T03:04:05.120Z")), "2024-01-02 03:04:05.12+00:00");
  assert.equal(
    formatIso8601(new Date("0099-12-31T23:59:59.001Z")),
    "0099-12-31 23:59:59.001+00:00",
  );
  assert.throws(() => formatIso8601(new Date(Number.NaN)), RangeError);
  assert.throws(() => formatIso8601(new Date("+010000-01-01T00:00:00Z")), RangeError);
});

test("every layout go-dqlite tries is parsed, in UTC unless an offset is given", () => {
  const cases: [string, string][] = [
    ["2024-01-02 03:04:05.123456789+02:00", "2024-01-02T01:04:05.123Z"],
    ["2024-01-02T03:04:05-01:30", "2024-01-02T04:34:05.000Z"],
    ["2024-01-02 03:04:05.5", "2024-01-02T03:04:05.500Z"],
    ["2024-01-02T03:04:05.5", "2024-01-02T03:04:05.500Z"],
    ["2024-01-02 03:04:05", "2024-01-02T03:04:05.000Z"],
    ["2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"],
    ["2024-01-02 03:04", "2024-01-02T03:04:00.000Z"],
    ["2024-01-02T03:04", "2024-01-02T03:04:00.000Z"],
    ["2024-01-02", "2024-01-02T00:00:00.000Z"],
    // One trailing Z is stripped; Go's hour accepts one digit.
    ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"],
    ["2024-01-02 3:04:05", "2024-01-02T03:04:05.000Z"],
    ["0001-01-01 00:00:00", "0001-01-01T00:00:00.000Z"],
  ];
  for (const [text, iso] of cases) assert.equal(parseIso8601(text)?.toISOString(), iso, text);
});

test("texts no layout accepts are refused", () => {
  for (const text of [
    "",
    "2024-1-02",
    "2024-01-02 03:04+00:00",
    "2024-13-01",
    "2023-02-29",
    "2024-01-02 24:00:00",
    "2024-01-02 03:60:00",
    "2024-01-02 03:04:05ZZ",
    "2024-01-02 03:04:05 +00:00",
    "yesterday",
  ]) {
    assert.equal(parseIso8601(text), undefined, text);
  }
  assert.equal(parseIso8601("2024-02-29")?.toISOString(), "2024-02-29T00:00:00.000Z");
});

test("a formatted date parses back to the same instant", () => {
  for (const ms of [0, 1, 1_700_000_000_123, -1_000_000_000_000, 253402300799999]) {
    const date = new Date(ms);
    assert.equal(parseIso8601(formatIso8601(date))?.getTime(), ms);
  }
});
