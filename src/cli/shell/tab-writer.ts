// Go's text/tabwriter (flags 0), which the go-dqlite shell uses to align query results: text is
// cut into cells at tabs; a line's last cell (after its last tab) is not part of any column. A
// column block is a run of consecutive lines that have a cell in that column; its width is the
// widest cell plus padding, rounded up to whole tabs when padding with tabs. A line with a single
// cell ends every block above it. Widths count Unicode code points, as Go counts runes.

/** Layout of a TabWriter, named after Go's tabwriter.NewWriter parameters. */
export interface TabWriterOptions {
  minWidth: number;
  tabWidth: number;
  padding: number;
  padChar: string;
}

interface Cell {
  /** Length of the cell's text in the buffer (UTF-16 units). */
  size: number;
  /** Code points, Go's rune count. */
  width: number;
  /** Ended by a tab (rather than a vertical tab or a line end). */
  htab: boolean;
}

/** Collects text, then `flush()` returns it aligned. */
export class TabWriter {
  readonly #options: TabWriterOptions;
  #text = "";
  #pos = 0;
  #cell: Cell = { size: 0, width: 0, htab: false };
  #lines: Cell[][] = [[]];
  #widths: number[] = [];
  #out: string[] = [];

  constructor(options: TabWriterOptions) {
    if (options.padChar.length !== 1) throw new RangeError("padChar must be one character");
    this.#options = options;
  }

  /** Adds text: tabs end cells, vertical tabs end cells softly, newlines and form feeds lines. */
  write(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (char !== "\t" && char !== "\v" && char !== "\n" && char !== "\f") continue;
      this.#append(text.slice(start, i));
      start = i + 1;
      const cells = this.#terminateCell(char === "\t");
      if (char === "\n" || char === "\f") {
        this.#lines.push([]);
        // A single-cell line cannot affect the lines below it: what is above can be laid out.
        if (char === "\f" || cells === 1) this.#flushPending();
      }
    }
    this.#append(text.slice(start));
  }

  /** Lays out everything written and returns it; the writer starts afresh. */
  flush(): string {
    this.#flushPending();
    const out = this.#out.join("");
    this.#out = [];
    return out;
  }

  #append(text: string): void {
    if (text.length === 0) return;
    this.#text += text;
    this.#cell.size += text.length;
    let width = 0;
    for (const _ of text) width++;
    this.#cell.width += width;
  }

  #terminateCell(htab: boolean): number {
    this.#cell.htab = htab;
    const line = this.#lines[this.#lines.length - 1];
    line.push(this.#cell);
    this.#cell = { size: 0, width: 0, htab: false };
    return line.length;
  }

  #flushPending(): void {
    if (this.#cell.size > 0) this.#terminateCell(false);
    this.#format(0, this.#lines.length);
    this.#text = "";
    this.#pos = 0;
    this.#cell = { size: 0, width: 0, htab: false };
    this.#lines = [[]];
    this.#widths = [];
  }

  #format(line0: number, line1: number): void {
    const column = this.#widths.length;
    for (let at = line0; at < line1; at++) {
      if (column >= this.#lines[at].length - 1) continue;
      // This line opens a block in `column`: what comes before it is laid out already.
      this.#writeLines(line0, at);
      line0 = at;
      let width = this.#options.minWidth;
      for (; at < line1; at++) {
        const line = this.#lines[at];
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column].width + this.#options.padding);
      }
      this.#widths.push(width);
      this.#format(line0, at);
      this.#widths.pop();
      line0 = at;
    }
    this.#writeLines(line0, line1);
  }

  #writeLines(line0: number, line1: number): void {
    for (let i = line0; i < line1; i++) {
      const line = this.#lines[i];
      for (let j = 0; j < line.length; j++) {
        const cell = line[j];
        if (cell.size > 0) {
          this.#out.push(this.#text.slice(this.#pos, this.#pos + cell.size));
          this.#pos += cell.size;
        }
        if (j < this.#widths.length) this.#writePadding(cell.width, this.#widths[j]);
      }
      if (i + 1 === this.#lines.length) {
        // The last line has no newline yet: only its unfinished cell, if any.
        this.#out.push(this.#text.slice(this.#pos, this.#pos + this.#cell.size));
        this.#pos += this.#cell.size;
      } else {
        this.#out.push("\n");
      }
    }
  }

  #writePadding(textWidth: number, cellWidth: number): void {
    const { padChar, tabWidth } = this.#options;
    if (padChar === "\t") {
      if (tabWidth === 0) return;
      // Tabs can only pad to the next tab stop: round the column up to whole tabs.
      const rounded = Math.ceil(cellWidth / tabWidth) * tabWidth;
      const gap = rounded - textWidth;
      if (gap < 0) throw new Error("tabwriter: cell wider than its column");
      this.#out.push("\t".repeat(Math.ceil(gap / tabWidth)));
      return;
    }
    this.#out.push(padChar.repeat(cellWidth - textWidth));
  }
}
