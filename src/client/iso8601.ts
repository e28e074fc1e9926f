// Date values as go-dqlite writes and reads them (client-protocol.md §4.8): parameters are
// formatted with Go's layout "2006-01-02 15:04:05.999999999-07:00"; ISO8601 row values are parsed
// in UTC with one trailing "Z" stripped, trying the same nine layouts go-dqlite tries.

/** A Date as go-dqlite formats a time.Time in UTC: "2024-01-02 03:04:05.5+00:00". */
export function formatIso8601(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("cannot bind an invalid Date");
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`cannot bind a Date in year ${year}`);
  const millis = date.getUTCMilliseconds();
  // Go's .999999999 drops trailing zeros, and the dot with them.
  const fraction = millis === 0 ? "" : `.${pad(millis, 3).replace(/0+$/, "")}`;
  return (
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}` +
    `${fraction}+00:00`
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

// The nine layouts in one pattern: date; then optionally " " or "T", hour (1-2 digits) and
// minutes; then optionally seconds with any fraction (Go accepts one after seconds in every
// layout); an offset only after seconds.
const LAYOUTS =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?(?:([+-])(\d{2}):(\d{2}))?)?)?$/;

/** Parses an ISO8601 text the way go-dqlite does; undefined if no layout matches. */
export function parseIso8601(text: string): Date | undefined {
  const value = text.endsWith("Z") ? text.slice(0, -1) : text;
  const match = LAYOUTS.exec(value);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = match[4] === undefined ? 0 : Number(match[4]);
  const minute = match[5] === undefined ? 0 : Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  // Go keeps nanoseconds; a Date holds milliseconds.
  const millis = match[7] === undefined ? 0 : Number(match[7].slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (match[8] !== undefined) {
    const offsetHours = Number(match[9]);
    const offsetMins = Number(match[10]);
    if (offsetHours > 24 || offsetMins > 59) return undefined;
    offsetMinutes = (match[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  return date;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
