// A small EDN writer: enough of Clojure's data notation to print histories that Jepsen's tools
// (Elle, Knossos) read back. Values are plain JavaScript data; keywords are marked explicitly.

/** An EDN keyword (`:invoke`, `:append`): a string printed with a leading colon. */
export class Keyword {
  readonly name: string;
  constructor(name: string) {
    if (!/^[A-Za-z*+!_?<>=-][\w*+!?<>=./-]*$/.test(name)) {
      throw new TypeError(`not a keyword name: ${JSON.stringify(name)}`);
    }
    this.name = name;
  }
}

/** Shorthand for `new Keyword(name)`. */
export function kw(name: string): Keyword {
  return new Keyword(name);
}

/** An EDN set (`#{1 2}`), distinct from a vector. */
export class EdnSet {
  readonly items: readonly EdnValue[];
  constructor(items: Iterable<EdnValue>) {
    this.items = [...items];
  }
}

/** A map with keys in a fixed order (EDN maps are printed in insertion order). */
export class EdnMap {
  readonly entries: readonly (readonly [EdnValue, EdnValue])[];
  constructor(entries: Iterable<readonly [EdnValue, EdnValue]>) {
    this.entries = [...entries];
  }
}

export type EdnValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Keyword
  | EdnSet
  | EdnMap
  | readonly EdnValue[];

/** The EDN text of `value`. `undefined` prints as nil, like null. */
export function toEdn(value: EdnValue): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    if (!Number.isFinite(value)) throw new RangeError(`EDN has no ${value}`);
    const text = String(value);
    return text.includes(".") || text.includes("e") ? text : `${text}.0`;
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Keyword) return `:${value.name}`;
  if (value instanceof EdnSet) return `#{${value.items.map(toEdn).join(" ")}}`;
  if (value instanceof EdnMap) {
    return `{${value.entries.map(([k, v]) => `${toEdn(k)} ${toEdn(v)}`).join(", ")}}`;
  }
  return `[${value.map(toEdn).join(" ")}]`;
}
