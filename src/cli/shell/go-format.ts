// Go's text forms of plain values, as the go-dqlite shell prints them through fmt and
// encoding/json: `%v` of float64 and []byte, `%q` of a string, and json.Marshal + json.Indent
// with a tab. Only what the shell needs; every rule here was checked against Go's output.

/** `%v` of a float64: shortest digits that round-trip, exponent form below 1e-4 or from 1e6. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  // JavaScript's toExponential() without a precision gives the same shortest round-trip digits
  // as Go's strconv with precision -1.
  const [mantissa, exponentText] = value.toExponential().split("e");
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const exponent = Number(exponentText);
  const sign = negative ? "-" : "";
  // Go's 'g' with the shortest precision switches to the exponent form at the precision 6.
  if (exponent < -4 || exponent >= 6) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    const expSign = exponent < 0 ? "-" : "+";
    const expDigits = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${digits[0]}${fraction}e${expSign}${expDigits}`;
  }
  const point = exponent + 1;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `%v` of a []byte: the decimal bytes in brackets, `[1 2 3]`. */
export function formatGoBytes(bytes: Uint8Array): string {
  return `[${bytes.join(" ")}]`;
}

/** `%q` of a string (strconv.Quote): double quotes, Go escapes, printable runes kept. */
export function quoteGo(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    switch (char) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (isGoPrintable(char)) out += char;
    else if (code < 0x80) out += `\\x${hex(code, 2)}`;
    else if (code < 0x10000) out += `\\u${hex(code, 4)}`;
    else out += `\\U${hex(code, 8)}`;
  }
  return `${out}"`;
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const NOT_PRINTABLE = /[\p{C}\p{Z}]/u;

function isGoPrintable(char: string): boolean {
  return char === " " || !NOT_PRINTABLE.test(char);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/** A JSON value with Go's shapes: bigint for uint64/int64 (printed exactly), ordered objects. */
export type GoJson =
  | bigint
  | number
  | string
  | boolean
  | null
  | readonly GoJson[]
  | { readonly [key: string]: GoJson };

/** json.Marshal then json.Indent(prefix "", indent "\t"), as the shell prints cluster data. */
export function formatGoJsonIndented(value: GoJson, depth = 0): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return formatJsonNumber(value);
    case "boolean":
      return String(value);
    case "string":
      return quoteJson(value);
  }
  const inner = "\t".repeat(depth + 1);
  const outer = "\t".repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => inner + formatGoJsonIndented(item, depth + 1));
    return `[\n${items.join(",\n")}\n${outer}]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: GoJson });
  if (entries.length === 0) return "{}";
  const members = entries.map(
    ([key, item]) => `${inner}${quoteJson(key)}: ${formatGoJsonIndented(item, depth + 1)}`,
  );
  return `{\n${members.join(",\n")}\n${outer}}`;
}

function formatJsonNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`JSON cannot hold ${value}`);
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : String(value);
}

// encoding/json escapes HTML-significant characters and the two JavaScript line separators.
function quoteJson(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || char === "<" || char === ">" || char === "&") {
      out += `\\u${hex(code, 4)}`;
    } else if (code === 0x2028 || code === 0x2029) out += `\\u${hex(code, 4)}`;
    else out += char;
  }
  return `${out}"`;
}
