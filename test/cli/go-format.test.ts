// Go's %v, %q and indented JSON, with expectations taken from Go itself (Debian's dqlite shell,
// go-dqlite 1.11.5, printing the same values).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatGoBytes,
  formatGoFloat,
  formatGoJsonIndented,
  quoteGo,
} from "../../src/cli/shell/go-format.js";

test("floats print in Go's shortest %v form, switching to exponents below 1e-4 and from 1e6", () => {
  const cases: [number, string][] = [
    [2.5, "2.5"],
    [1e20, "1e+20"],
    [1e6, "1e+06"],
    [123456, "123456"],
    [1234567, "1.234567e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [100, "100"],
    [3, "3"],
    [0.1, "0.1"],
    [0.3, "0.3"],
    [1 / 3, "0.3333333333333333"],
    [2 / 3, "0.6666666666666666"],
    [1e21, "1e+21"],
    [123456.7, "123456.7"],
    [999999.9, "999999.9"],
    [0.00012345, "0.00012345"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [-2.5, "-2.5"],
    [100000, "100000"],
    [Number("12345678901234567890"), "1.2345678901234567e+19"],
    [0.000099, "9.9e-05"],
    [4.35, "4.35"],
    [1e100, "1e+100"],
    [33.333333333333336, "33.333333333333336"],
    [Number("9007199254740993"), "9.007199254740992e+15"],
  ];
  for (const [value, expected] of cases) assert.equal(formatGoFloat(value), expected, `${value}`);
});

test("zero, negative zero and the infinities print like Go", () => {
  assert.equal(formatGoFloat(0), "0");
  assert.equal(formatGoFloat(-0), "-0");
  assert.equal(formatGoFloat(Number.POSITIVE_INFINITY), "+Inf");
  assert.equal(formatGoFloat(Number.NEGATIVE_INFINITY), "-Inf");
  assert.equal(formatGoFloat(Number.NaN), "NaN");
});

test("byte slices print as decimal bytes in brackets", () => {
  assert.equal(formatGoBytes(new Uint8Array([1, 2])), "[1 2]");
  assert.equal(formatGoBytes(new Uint8Array([0, 255, 16])), "[0 255 16]");
  assert.equal(formatGoBytes(new Uint8Array()), "[]");
});

test("%q escapes quotes, backslashes and control characters and keeps printable Unicode", () => {
  assert.equal(quoteGo("1.2.3.4:5"), '"1.2.3.4:5"');
  assert.equal(quoteGo('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quoteGo("tab\tnl\ncr\r"), '"tab\\tnl\\ncr\\r"');
  assert.equal(quoteGo("\x00\x07\x7f"), '"\\x00\\a\\x7f"');
  assert.equal(quoteGo("héllo ☃ 𝄞"), '"héllo ☃ 𝄞"');
  assert.equal(quoteGo("\u00a0\u200b\u{e0001}"), '"\\u00a0\\u200b\\U000e0001"');
});

test("indented JSON matches json.Indent with a tab, u64 printed exactly", () => {
  const cluster = [
    { ID: 3297041220608546238n, Address: "127.0.0.1:19401", Role: 0 },
    { ID: 15666340178329762000n, Address: "127.0.0.1:19402", Role: 1 },
  ];
  assert.equal(
    formatGoJsonIndented(cluster),
    '[\n\t{\n\t\t"ID": 3297041220608546238,\n\t\t"Address": "127.0.0.1:19401",\n\t\t"Role": 0\n\t},' +
      '\n\t{\n\t\t"ID": 15666340178329762000,\n\t\t"Address": "127.0.0.1:19402",\n\t\t"Role": 1\n\t}\n]',
  );
  assert.equal(
    formatGoJsonIndented({ FailureDomain: 0n, Weight: 18446744073709551615n }),
    '{\n\t"FailureDomain": 0,\n\t"Weight": 18446744073709551615\n}',
  );
  assert.equal(formatGoJsonIndented([]), "[]");
});

test("JSON strings escape HTML characters as encoding/json does", () => {
  assert.equal(formatGoJsonIndented("<a&b>"), '"\\u003ca\\u0026b\\u003e"');
  assert.equal(formatGoJsonIndented('q"\\\n\u0001\u2028'), '"q\\"\\\\\\n\\u0001\\u2028"');
});
