// Go's text/tabwriter layout, as the go-dqlite shell configures it (minwidth 0, tabwidth 8,
// padding 1, padchar '\t') and with spaces.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TabWriter } from "../../src/cli/shell/tab-writer.js";

const SHELL = { minWidth: 0, tabWidth: 8, padding: 1, padChar: "\t" };

function layout(text: string, options = SHELL): string {
  const writer = new TabWriter(options);
  writer.write(text);
  return writer.flush();
}

test("short cells pad to the next tab stop with one tab, trailing tab included", () => {
  assert.equal(
    layout("id\tname\t\n1\talice\t\n22\tbob\t\n"),
    "id\tname\t\n1\talice\t\n22\tbob\t\n",
  );
});

test("a column wider than a tab stop rounds up to whole tabs, padding shorter cells with more", () => {
  // 18 characters + 1 padding = 19, rounded up to 24: "id" needs 3 tabs, the long cell 1.
  assert.equal(
    layout("id\tx\t\naveryverylongvalue\ty\t\n"),
    "id\t\t\tx\t\naveryverylongvalue\ty\t\n",
  );
});

test("a 7-character cell fits one tab stop; an 8-character cell needs the next", () => {
  assert.equal(layout("abcdefg\t\nab\t\n"), "abcdefg\t\nab\t\n");
  assert.equal(layout("abcdefgh\t\nab\t\n"), "abcdefgh\t\nab\t\t\n");
});

test("Go's elastic tab stop example lays out the same", () => {
  const options = { minWidth: 0, tabWidth: 8, padding: 0, padChar: "\t" };
  assert.equal(
    layout("a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n", options),
    "a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n",
  );
});

test("widths count code points, not UTF-16 units or bytes", () => {
  // "ééééééé" is 7 runes (14 bytes): it still fits one tab stop.
  assert.equal(layout("ééééééé\t\n𝄞\t\n"), "ééééééé\t\n𝄞\t\n");
  assert.equal(layout("a b\tc\t\nxyz\td\t\n", { ...SHELL, padChar: " " }), "a b c \nxyz d \n");
});

test("a newline inside a cell ends the line, and the columns follow the cells that remain", () => {
  // The row "1", "a\nb" is two lines: "1<tab>a" and "b<tab>"; only the header has column 1.
  assert.equal(layout("x\ty\t\n1\ta\nb\t\n"), "x\ty\t\n1\ta\nb\t\n");
});

test("a line without tabs ends the blocks above it", () => {
  const options = { minWidth: 0, tabWidth: 0, padding: 1, padChar: " " };
  // Without the bare line the second column would be 4 wide for both rows.
  assert.equal(layout("a\tb\t\nline\nabc\tb\t\n", options), "a b \nline\nabc b \n");
  assert.equal(layout("a\tb\t\nabc\tb\t\n", options), "a   b \nabc b \n");
});

test("no columns at all give empty lines", () => {
  assert.equal(layout("\n"), "\n");
  assert.equal(layout("\n\n"), "\n\n");
});

test("text after the last newline is written as it is", () => {
  assert.equal(layout("a\tb\ttail"), "a\tb\ttail");
  assert.equal(layout("ab\tc\t\ndef"), "ab\tc\t\ndef");
});

test("the writer can be reused after a flush", () => {
  const writer = new TabWriter(SHELL);
  writer.write("a\t\n");
  assert.equal(writer.flush(), "a\t\n");
  writer.write("abcdefgh\t\n");
  assert.equal(writer.flush(), "abcdefgh\t\n");
});
