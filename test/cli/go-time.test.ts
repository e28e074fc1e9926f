// time.Time values as go-dqlite's driver makes them and Go prints them. Expectations are the
// output of Debian's dqlite shell (go-dqlite 1.11.5) for the same cells.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatGoTime,
  GoTimeParseError,
  parseGoIso8601,
  unixTimeInLocalZone,
} from "../../src/cli/shell/go-time.js";

function iso(text: string): string {
  const time = parseGoIso8601(text);
  assert.ok(time !== null);
  return formatGoTime(time);
}

test("ISO8601 cells parse with go-dqlite's layouts and print in Go's Time.String form", () => {
  const cases: [string, string][] = [
    ["2024-01-02 03:04:05", "2024-01-02 03:04:05 +0000 UTC"],
    ["2024-01-02T03:04:05.5", "2024-01-02 03:04:05.5 +0000 UTC"],
    ["2024-01-02 3:04", "2024-01-02 03:04:00 +0000 UTC"],
    ["2024-01-02", "2024-01-02 00:00:00 +0000 UTC"],
    ["2024-01-02 03:04:05,123", "2024-01-02 03:04:05.123 +0000 UTC"],
    ["2024-01-02 03:04:05.1234567891234", "2024-01-02 03:04:05.123456789 +0000 UTC"],
    ["2024-01-02 03:04:05-05:30", "2024-01-02 03:04:05 -0530 -0530"],
    ["2024-01-02 03:04:05.123456789+02:00", "2024-01-02 03:04:05.123456789 +0200 +0200"],
    ["2024-01-02 03:04:05.000+00:00", "2024-01-02 03:04:05 +0000 UTC"],
    ["2024-01-02   03:04", "2024-01-02 03:04:00 +0000 UTC"],
    ["2024-01-02T03:04:05+00:00Z", "2024-01-02 03:04:05 +0000 UTC"],
    ["2024-01-02T03:04:05Z", "2024-01-02 03:04:05 +0000 UTC"],
    ["0001-01-01", "0001-01-01 00:00:00 +0000 UTC"],
    ["9999-12-31 23:59:59.999999999", "9999-12-31 23:59:59.999999999 +0000 UTC"],
    ["2024-02-29", "2024-02-29 00:00:00 +0000 UTC"],
    ["1969-12-31 23:59:59.5", "1969-12-31 23:59:59.5 +0000 UTC"],
  ];
  for (const [text, expected] of cases) assert.equal(iso(text), expected, text);
});

test("an empty ISO8601 cell is NULL", () => {
  assert.equal(parseGoIso8601(""), null);
});

test("unparsable ISO8601 cells fail with Go's parse error of the last layout", () => {
  const cases: [string, string][] = [
    ["hello", 'parsing time "hello" as "2006-01-02": cannot parse "hello" as "2006"'],
    ["2024-13-01", 'parsing time "2024-13-01": month out of range'],
    ["2024-02-30", 'parsing time "2024-02-30": day out of range'],
    ["2024-01-02 25:00", 'parsing time "2024-01-02 25:00": extra text: " 25:00"'],
    ["2024-01-02 03:60", 'parsing time "2024-01-02 03:60": extra text: " 03:60"'],
    ["2024-01-02x", 'parsing time "2024-01-02x": extra text: "x"'],
    ["2024/01/02", 'parsing time "2024/01/02" as "2006-01-02": cannot parse "/01/02" as "-"'],
    ["2024-1-02", 'parsing time "2024-1-02" as "2006-01-02": cannot parse "1-02" as "01"'],
    [
      "é2024-01-02",
      'parsing time "\\xc3\\xa92024-01-02" as "2006-01-02": cannot parse "\\xc3\\xa92024-01-02" as "2006"',
    ],
    [
      "2024-01-02 03:04:05+0100",
      'parsing time "2024-01-02 03:04:05+0100": extra text: " 03:04:05+0100"',
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseGoIso8601(text), { name: GoTimeParseError.name, message }, text);
  }
});

test("UNIXTIME cells are time.Unix in the local zone", () => {
  const saved = process.env.TZ;
  try {
    process.env.TZ = "UTC";
    assert.equal(formatGoTime(unixTimeInLocalZone(1700000000n)), "2023-11-14 22:13:20 +0000 UTC");
    assert.equal(formatGoTime(unixTimeInLocalZone(-62135596800n)), "0001-01-01 00:00:00 +0000 UTC");
    assert.equal(formatGoTime(unixTimeInLocalZone(253402300799n)), "9999-12-31 23:59:59 +0000 UTC");
    assert.equal(formatGoTime(unixTimeInLocalZone(-1n)), "1969-12-31 23:59:59 +0000 UTC");
    process.env.TZ = "America/New_York";
    assert.equal(formatGoTime(unixTimeInLocalZone(0n)), "1969-12-31 19:00:00 -0500 EST");
    assert.equal(formatGoTime(unixTimeInLocalZone(1720000000n)), "2024-07-03 05:46:40 -0400 EDT");
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test("years beyond four digits and before year one print like Go", () => {
  assert.equal(
    formatGoTime(unixTimeInLocalZoneUtc(253402300800n)),
    "10000-01-01 00:00:00 +0000 UTC",
  );
  assert.equal(
    formatGoTime(unixTimeInLocalZoneUtc(-62135596801n)),
    "0000-12-31 23:59:59 +0000 UTC",
  );
  assert.equal(
    formatGoTime(unixTimeInLocalZoneUtc(-62198755200n)),
    "-0001-01-01 00:00:00 +0000 UTC",
  );
});

function unixTimeInLocalZoneUtc(seconds: bigint) {
  const saved = process.env.TZ;
  process.env.TZ = "UTC";
  try {
    return unixTimeInLocalZone(seconds);
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}
