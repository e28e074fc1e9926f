// A small SQL tokenizer, enough to do what the client must do before the server sees the text:
// number parameters the way SQLite does (`?`, `?NNN`, `:name`, `@name`, `$name`), split statements
// at `;` (inside CREATE TRIGGER bodies too), and tell reads from writes. String literals, quoted
// identifiers and comments are skipped like SQLite's own tokenizer skips them.

/** One statement of an SQL text. */
export interface ScannedStatement {
  /** Its first keyword, upper-cased ("" when it starts with no word). */
  keyword: string;
  /** Its first three words, upper-cased (e.g. ["ROLLBACK", "TO", "SAVEPOINT"]). */
  keywords: string[];
  /** Number of parameter slots SQLite gives it (the largest index used). */
  parameterCount: number;
  /** Named parameters (with their prefix, e.g. ":id") and the index SQLite gives each. */
  names: Map<string, number>;
  /** It has `?` or `?NNN` parameters, which only positional values can fill. */
  positional: boolean;
  /** It may change the database (conservative: anything not clearly a read). */
  writes: boolean;
}

/** What the client needs to know about an SQL text. */
export interface ScannedSql {
  /** The non-empty statements, in order. */
  statements: ScannedStatement[];
}

const CHAR_DOLLAR = 36;
const CHAR_QUOTE = 39;
const CHAR_DOUBLE_QUOTE = 34;
const CHAR_PAREN_OPEN = 40;
const CHAR_STAR = 42;
const CHAR_MINUS = 45;
const CHAR_SLASH = 47;
const CHAR_COLON = 58;
const CHAR_SEMICOLON = 59;
const CHAR_QUESTION = 63;
const CHAR_AT = 64;
const CHAR_BRACKET_OPEN = 91;
const CHAR_BACKTICK = 96;

// Keywords that start a statement that only reads.
const READ_KEYWORDS = new Set(["SELECT", "VALUES", "EXPLAIN", "WITH"]);
// Words that make a WITH/SELECT statement a write after all.
const WRITE_WORDS = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE", "RETURNING"]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// SQLite's identifier characters: letters, digits, '_', '$', and every non-ASCII character.
function isIdChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    isDigit(c) ||
    c === 95 ||
    c === CHAR_DOLLAR ||
    c >= 0x80
  );
}

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

class StatementBuilder {
  keyword = "";
  keywords: string[] = [];
  names = new Map<string, number>();
  parameterCount = 0;
  positional = false;
  hasWriteWord = false;
  empty = true;
  leading = true;
  lastWord = "";

  // CREATE [TEMP|TEMPORARY] TRIGGER: its body holds `;` up to the closing END.
  get inTrigger(): boolean {
    if (this.keyword !== "CREATE") return false;
    const [, first, second] = this.keywords;
    return (
      first === "TRIGGER" || ((first === "TEMP" || first === "TEMPORARY") && second === "TRIGGER")
    );
  }

  word(text: string): void {
    const upper = text.toUpperCase();
    if (this.empty) this.keyword = upper;
    // Only the words in a row at the start: a statement's shape, not its contents.
    if (this.leading && this.keywords.length < 3) this.keywords.push(upper);
    if (WRITE_WORDS.has(upper)) this.hasWriteWord = true;
    this.lastWord = upper;
    this.empty = false;
  }

  other(): void {
    this.lastWord = "";
    this.leading = false;
    this.empty = false;
  }

  numbered(index: number, name: string): void {
    this.positional = true;
    if (index > this.parameterCount) this.parameterCount = index;
    // SQLite records `?NNN` under that name, so a later `:x` gets a fresh slot after it.
    if (!this.names.has(name)) this.names.set(name, index);
    this.other();
  }

  anonymous(): void {
    this.positional = true;
    this.parameterCount++;
    this.other();
  }

  named(name: string): void {
    if (!this.names.has(name)) this.names.set(name, ++this.parameterCount);
    this.other();
  }

  build(): ScannedStatement {
    // `?NNN` entries were only kept to number later names; they are positional slots.
    const names = new Map<string, number>();
    for (const [name, index] of this.names) if (name[0] !== "?") names.set(name, index);
    return {
      keyword: this.keyword,
      keywords: this.keywords,
      parameterCount: this.parameterCount,
      names,
      positional: this.positional,
      writes: !READ_KEYWORDS.has(this.keyword) || this.hasWriteWord,
    };
  }
}

/** Scans an SQL text into statements, parameters and read/write hints. */
export function scanSql(sql: string): ScannedSql {
  const statements: ScannedStatement[] = [];
  const length = sql.length;
  let current = new StatementBuilder();
  let i = 0;
  while (i < length) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === CHAR_MINUS && sql.charCodeAt(i + 1) === CHAR_MINUS) {
      const end = sql.indexOf("\n", i + 2);
      i = end < 0 ? length : end + 1;
    } else if (c === CHAR_SLASH && sql.charCodeAt(i + 1) === CHAR_STAR) {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? length : end + 2;
    } else if (c === CHAR_QUOTE || c === CHAR_DOUBLE_QUOTE || c === CHAR_BACKTICK) {
      i = skipQuoted(sql, i, c);
      current.other();
    } else if (c === CHAR_BRACKET_OPEN) {
      const end = sql.indexOf("]", i + 1);
      i = end < 0 ? length : end + 1;
      current.other();
    } else if (c === CHAR_SEMICOLON) {
      i++;
      if (current.inTrigger && current.lastWord !== "END") {
        current.other();
        continue;
      }
      if (!current.empty) statements.push(current.build());
      current = new StatementBuilder();
    } else if (c === CHAR_QUESTION) {
      let j = i + 1;
      while (j < length && isDigit(sql.charCodeAt(j))) j++;
      if (j === i + 1) current.anonymous();
      else current.numbered(Number(sql.slice(i + 1, j)), sql.slice(i, j));
      i = j;
    } else if (
      (c === CHAR_COLON || c === CHAR_AT || c === CHAR_DOLLAR) &&
      i + 1 < length &&
      isIdChar(sql.charCodeAt(i + 1))
    ) {
      const end = variableEnd(sql, i + 1);
      current.named(sql.slice(i, end));
      i = end;
    } else if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      // Numbers, including 1e5 and 0x1F: swallow the whole token so "e5" is not read as a word.
      let j = i + 1;
      while (j < length && (isIdChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === 46)) j++;
      i = j;
      current.other();
    } else if (isIdStart(c)) {
      const end = idEnd(sql, i + 1);
      // x'..' blob literals: the quote that follows is skipped as a string next round.
      current.word(sql.slice(i, end));
      i = end;
    } else {
      i++;
      current.other();
    }
  }
  if (!current.empty) statements.push(current.build());
  return { statements };
}

function idEnd(sql: string, from: number): number {
  let j = from;
  while (j < sql.length && isIdChar(sql.charCodeAt(j))) j++;
  return j;
}

// A variable's name goes on with identifier characters and `::` pairs, and may end with a
// `(...)` suffix without spaces (SQLite's Tcl variable syntax, for every prefix).
function variableEnd(sql: string, from: number): number {
  let j = from;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (isIdChar(c)) {
      j++;
    } else if (c === CHAR_PAREN_OPEN) {
      let k = j + 1;
      while (k < sql.length && !isSpace(sql.charCodeAt(k)) && sql.charCodeAt(k) !== 41) k++;
      // Without its `)` SQLite calls the token illegal; the server will say so.
      return k < sql.length && sql.charCodeAt(k) === 41 ? k + 1 : k;
    } else if (c === CHAR_COLON && sql.charCodeAt(j + 1) === CHAR_COLON) {
      j += 2;
    } else {
      break;
    }
  }
  return j;
}

// A quoted token ends at its quote character unless the quote is doubled.
function skipQuoted(sql: string, start: number, quote: number): number {
  let j = start + 1;
  for (;;) {
    const end = sql.indexOf(String.fromCharCode(quote), j);
    if (end < 0) return sql.length;
    if (sql.charCodeAt(end + 1) === quote) {
      j = end + 2;
      continue;
    }
    return end + 1;
  }
}

const CACHE_MAX_ENTRIES = 512;
const CACHE_MAX_SQL_LENGTH = 16 * 1024;
const cache = new Map<string, ScannedSql>();

/** scanSql with a bounded cache: applications repeat the same texts. */
export function scanSqlCached(sql: string): ScannedSql {
  const cached = cache.get(sql);
  if (cached !== undefined) return cached;
  const scanned = scanSql(sql);
  if (sql.length <= CACHE_MAX_SQL_LENGTH) {
    if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(sql, scanned);
  }
  return scanned;
}
