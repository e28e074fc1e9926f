// The time.Time values go-dqlite's driver hands the shell, and their `%v` text
// ("2006-01-02 15:04:05.999999999 -0700 MST"). UNIXTIME cells are time.Unix(v, 0) in the local
// zone; ISO8601 cells are parsed in UTC with the nine layouts go-dqlite tries, with Go's rules
// and error messages (client-protocol.md §4.8).

/** An instant with nanoseconds, and the zone Go would print it in. */
export class GoTime {
  /** Seconds since the Unix epoch. */
  readonly unixSeconds: bigint;
  /** 0 to 999999999. */
  readonly nanos: number;
  /** The zone's offset east of UTC. */
  readonly offsetSeconds: number;
  /** The zone's abbreviation; "" for an unnamed fixed zone (Go then prints the offset). */
  readonly zoneName: string;

  constructor(unixSeconds: bigint, nanos: number, offsetSeconds: number, zoneName: string) {
    if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
      throw new RangeError(`nanoseconds ${nanos} out of range`);
    }
    this.unixSeconds = unixSeconds;
    this.nanos = nanos;
    this.offsetSeconds = offsetSeconds;
    this.zoneName = zoneName;
  }
}

/** Go's Time.String() without the monotonic part. */
export function formatGoTime(time: GoTime): string {
  const local = time.unixSeconds + BigInt(time.offsetSeconds);
  const days = floorDiv(local, 86_400n);
  const secondOfDay = Number(local - days * 86_400n);
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  const yearText = year < 0n ? `-${pad(-year, 4)}` : pad(year, 4);
  const fraction =
    time.nanos === 0 ? "" : `.${String(time.nanos).padStart(9, "0").replace(/0+$/, "")}`;
  const offset = formatOffset(time.offsetSeconds);
  const zone = time.zoneName === "" ? offset : time.zoneName;
  return (
    `${yearText}-${pad(month, 2)}-${pad(day, 2)} ${pad(hour, 2)}:${pad(minute, 2)}:` +
    `${pad(second, 2)}${fraction} ${offset} ${zone}`
  );
}

// Go's "-0700": sign, hours and minutes; seconds of the offset are not shown.
function formatOffset(offsetSeconds: number): string {
  const minutes = Math.trunc(offsetSeconds / 60);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
}

function pad(value: number | bigint, width: number): string {
  return String(value).padStart(width, "0");
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
function civilFromDays(days: bigint): { year: bigint; month: number; day: number } {
  const z = days + 719_468n;
  const era = floorDiv(z, 146_097n);
  const doe = Number(z - era * 146_097n);
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = BigInt(yoe) + era * 400n + (month <= 2 ? 1n : 0n);
  return { year, month, day };
}

// The inverse, for the dates a layout can hold (years 0000-9999).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** time.Unix(seconds, 0) in the local zone, as go-dqlite decodes a UNIXTIME cell. */
export function unixTimeInLocalZone(seconds: bigint): GoTime {
  const zone = localZoneAt(seconds);
  return new GoTime(seconds, 0, zone.offsetSeconds, zone.name);
}

// JavaScript Dates reach ±8.64e15 ms; beyond that the zone of the nearest representable instant.
const MAX_DATE_SECONDS = 8_640_000_000_000n;

/**
 * The local zone's offset and abbreviation at an instant. Go reads them from the tz database;
 * here they come from Intl, which knows the same offsets. Abbreviations Intl only knows as
 * "GMT+1" become Go's numeric form ("+01"), which matches the tz database for most zones that
 * have no letters; a few named zones (e.g. CET under some locales) can differ.
 */
function localZoneAt(seconds: bigint): { offsetSeconds: number; name: string } {
  const clamped =
    seconds > MAX_DATE_SECONDS
      ? MAX_DATE_SECONDS
      : seconds < -MAX_DATE_SECONDS
        ? -MAX_DATE_SECONDS
        : seconds;
  const date = new Date(Number(clamped) * 1000);
  const offsetSeconds = -date.getTimezoneOffset() * 60;
  return { offsetSeconds, name: zoneAbbreviation(date, offsetSeconds) };
}

function zoneAbbreviation(date: Date, offsetSeconds: number): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone === "UTC" || zone === "Etc/UTC" || zone === "Etc/Universal" || zone === "Universal") {
    return "UTC";
  }
  for (const locale of ["en-US", "en-GB"]) {
    const part = new Intl.DateTimeFormat(locale, { timeZoneName: "short" })
      .formatToParts(date)
      .find((p) => p.type === "timeZoneName")?.value;
    if (part !== undefined && /^[A-Z]{2,5}$/.test(part)) return part;
  }
  const minutes = Math.trunc(offsetSeconds / 60);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const hours = pad(Math.floor(abs / 60), 2);
  return abs % 60 === 0 ? `${sign}${hours}` : `${sign}${hours}${pad(abs % 60, 2)}`;
}

/** A value none of go-dqlite's ISO8601 layouts parses; the message is Go's *time.ParseError. */
export class GoTimeParseError extends Error {
  override name = "GoTimeParseError";
}

// go-dqlite's layouts, in its order. Elements: Y year "2006", M month "01", D day "02", h hour
// "15", m minute "04", s second "05", f fraction ".999999999", z offset "-07:00"; else literal.
const ISO8601_LAYOUTS: readonly string[] = [
  "2006-01-02 15:04:05.999999999-07:00",
  "2006-01-02T15:04:05.999999999-07:00",
  "2006-01-02 15:04:05.999999999",
  "2006-01-02T15:04:05.999999999",
  "2006-01-02 15:04:05",
  "2006-01-02T15:04:05",
  "2006-01-02 15:04",
  "2006-01-02T15:04",
  "2006-01-02",
];

type Element =
  | { kind: "literal"; text: string }
  | { kind: "year" | "month" | "day" | "hour" | "minute" | "second" | "fraction" | "offset" };

const ELEMENT_TEXT: Record<string, Element["kind"]> = {
  "2006": "year",
  "01": "month",
  "02": "day",
  "15": "hour",
  "04": "minute",
  "05": "second",
  ".999999999": "fraction",
  "-07:00": "offset",
};

function splitLayout(layout: string): { text: string; element: Element }[] {
  const out: { text: string; element: Element }[] = [];
  let rest = layout;
  let literal = "";
  while (rest.length > 0) {
    const match = Object.keys(ELEMENT_TEXT).find((text) => rest.startsWith(text));
    if (match === undefined) {
      literal += rest[0];
      rest = rest.slice(1);
      continue;
    }
    if (literal !== "") out.push({ text: literal, element: { kind: "literal", text: literal } });
    literal = "";
    out.push({ text: match, element: { kind: ELEMENT_TEXT[match] } as Element });
    rest = rest.slice(match.length);
  }
  if (literal !== "") out.push({ text: literal, element: { kind: "literal", text: literal } });
  return out;
}

const PARSED_LAYOUTS = ISO8601_LAYOUTS.map((layout) => ({ layout, parts: splitLayout(layout) }));

/**
 * Parses an ISO8601 cell as go-dqlite does: "" is NULL (returns null), one trailing "Z" is
 * dropped, then the first layout that parses wins; if none does, the error of the last one.
 */
export function parseGoIso8601(text: string): GoTime | null {
  if (text === "") return null;
  const value = text.endsWith("Z") ? text.slice(0, -1) : text;
  let failure: GoTimeParseError | undefined;
  for (const { layout, parts } of PARSED_LAYOUTS) {
    const result = parseLayout(layout, parts, value);
    if (result instanceof GoTime) return result;
    failure = result;
  }
  throw failure!;
}

const isDigit = (s: string, i: number): boolean => i < s.length && s[i] >= "0" && s[i] <= "9";

// Go's getnum: one or two digits; `fixed` demands two.
function getNumber(s: string, fixed: boolean): { n: number; rest: string } | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : { n: Number(s[0]), rest: s.slice(1) };
  return { n: Number(s.slice(0, 2)), rest: s.slice(2) };
}

// Go's skip: a space in the layout matches any run of spaces (or the end of the value).
function skipLiteral(value: string, prefix: string): string | undefined {
  while (prefix.length > 0) {
    if (prefix[0] === " ") {
      if (value.length > 0 && value[0] !== " ") return undefined;
      prefix = prefix.replace(/^ +/, "");
      value = value.replace(/^ +/, "");
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return undefined;
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

// Go's parseNanoseconds: digits after the separator, at most 9 used, scaled to nanoseconds.
function parseFraction(value: string, length: number): number {
  const digits = value.slice(1, Math.min(length, 10));
  return Number(digits) * 10 ** (9 - digits.length);
}

function parseLayout(
  layout: string,
  parts: { text: string; element: Element }[],
  original: string,
): GoTime | GoTimeParseError {
  const cannotParse = (rest: string, element: string): GoTimeParseError =>
    new GoTimeParseError(
      `parsing time ${quoteTime(original)} as ${quoteTime(layout)}: cannot parse ${quoteTime(rest)} as ${quoteTime(element)}`,
    );
  const outOfRange = (what: string): GoTimeParseError =>
    new GoTimeParseError(`parsing time ${quoteTime(original)}: ${what} out of range`);
  let value = original;
  let year = 0;
  let month = -1;
  let day = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let offset: number | undefined;
  for (let i = 0; i < parts.length; i++) {
    const { text, element } = parts[i];
    const hold = value;
    let ok = true;
    let range = "";
    switch (element.kind) {
      case "literal": {
        const rest = skipLiteral(value, element.text);
        if (rest === undefined) return cannotParse(value, text);
        value = rest;
        continue;
      }
      case "year":
        if (value.length < 4 || !isDigit(value, 0) || !/^\d{4}$/.test(value.slice(0, 4))) {
          ok = false;
          break;
        }
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case "month": {
        const got = getNumber(value, true);
        if (got === undefined) ok = false;
        else {
          ({ n: month, rest: value } = got);
          if (month <= 0 || month > 12) range = "month";
        }
        break;
      }
      case "day": {
        const got = getNumber(value, true);
        if (got === undefined) ok = false;
        else ({ n: day, rest: value } = got);
        break;
      }
      case "hour": {
        const got = getNumber(value, false);
        if (got === undefined) ok = false;
        else {
          ({ n: hour, rest: value } = got);
          if (hour >= 24) range = "hour";
        }
        break;
      }
      case "minute": {
        const got = getNumber(value, true);
        if (got === undefined) ok = false;
        else {
          ({ n: minute, rest: value } = got);
          if (minute >= 60) range = "minute";
        }
        break;
      }
      case "second": {
        const got = getNumber(value, true);
        if (got === undefined) {
          ok = false;
          break;
        }
        ({ n: second, rest: value } = got);
        if (second >= 60) {
          range = "second";
          break;
        }
        // A fraction in the value that the layout has no element for is still accepted.
        const next = parts[i + 1]?.element.kind;
        if (
          next !== "fraction" &&
          value.length >= 2 &&
          isSeparator(value[0]) &&
          isDigit(value, 1)
        ) {
          let n = 2;
          while (isDigit(value, n)) n++;
          nanos = parseFraction(value, n);
          value = value.slice(n);
        }
        break;
      }
      case "fraction": {
        if (value.length < 2 || !isSeparator(value[0]) || !isDigit(value, 1)) break;
        let n = 1;
        while (isDigit(value, n)) n++;
        nanos = parseFraction(value, n);
        value = value.slice(n);
        break;
      }
      case "offset": {
        if (value.length < 6 || value[3] !== ":") {
          ok = false;
          break;
        }
        const sign = value[0];
        const hours = getNumber(value.slice(1, 3), true);
        const minutes = hours && getNumber(value.slice(4, 6), true);
        value = value.slice(6);
        if (hours === undefined || minutes === undefined) {
          ok = false;
          break;
        }
        // Go allows 24 hours and 60 minutes ("some people do write offsets of 24 hours").
        if (hours.n > 24) range = "time zone offset hour";
        if (minutes.n > 60) range = "time zone offset minute";
        if (sign !== "+" && sign !== "-") ok = false;
        offset = (hours.n * 60 + minutes.n) * 60 * (sign === "-" ? -1 : 1);
        break;
      }
    }
    if (range !== "") return outOfRange(range);
    if (!ok) return cannotParse(hold, text);
  }
  if (value.length > 0) {
    return new GoTimeParseError(
      `parsing time ${quoteTime(original)}: extra text: ${quoteTime(value)}`,
    );
  }
  if (day < 1 || day > daysIn(year, month)) return outOfRange("day");
  const days = daysFromCivil(year, month, day);
  const wall = BigInt(days) * 86_400n + BigInt(hour * 3600 + minute * 60 + second);
  if (offset === undefined || offset === 0) return new GoTime(wall, nanos, 0, "UTC");
  return new GoTime(wall - BigInt(offset), nanos, offset, "");
}

function isSeparator(char: string): boolean {
  return char === "." || char === ",";
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// The time package's own quoting: ASCII kept (quote and backslash escaped), every byte of any
// other rune as \xNN.
function quoteTime(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0x80 || code < 0x20) {
      for (const byte of Buffer.from(char, "utf8"))
        out += `\\x${byte.toString(16).padStart(2, "0")}`;
    } else {
      if (char === '"' || char === "\\") out += "\\";
      out += char;
    }
  }
  return `${out}"`;
}
