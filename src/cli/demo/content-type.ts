// The Content-Type Go's HTTP server picks for a reply that did not set one (http.DetectContentType,
// WHATWG sniffing over the first 512 bytes). The demo's values are usually text; the common
// markup, document and image signatures are recognised so a client sees the header Go would send.

const SNIFF_LENGTH_BYTES = 512;
const TEXT = "text/plain; charset=utf-8";

// Case-insensitive tags that must be followed by a space or ">" to count.
const HTML_TAGS = [
  "<!DOCTYPE HTML",
  "<HTML",
  "<HEAD",
  "<SCRIPT",
  "<IFRAME",
  "<H1",
  "<DIV",
  "<FONT",
  "<TABLE",
  "<A",
  "<STYLE",
  "<TITLE",
  "<B",
  "<BODY",
  "<BR",
  "<P",
  "<!--",
];

const EXACT_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["%PDF-", "application/pdf"],
  ["%!PS-Adobe-", "application/postscript"],
  ["\xFE\xFF", "text/plain; charset=utf-16be"],
  ["\xFF\xFE", "text/plain; charset=utf-16le"],
  ["\xEF\xBB\xBF", TEXT],
  ["GIF87a", "image/gif"],
  ["GIF89a", "image/gif"],
  ["\x89PNG\x0D\x0A\x1A\x0A", "image/png"],
  ["\xFF\xD8\xFF", "image/jpeg"],
  ["BM", "image/bmp"],
  ["PK\x03\x04", "application/zip"],
  ["\x1F\x8B\x08", "application/x-gzip"],
];

function isWhitespace(byte: number): boolean {
  return byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d || byte === 0x20;
}

function isBinary(byte: number): boolean {
  return (
    byte <= 0x08 ||
    byte === 0x0b ||
    (byte >= 0x0e && byte <= 0x1a) ||
    (byte >= 0x1c && byte <= 0x1f)
  );
}

function startsWith(data: Uint8Array, at: number, prefix: string, caseless: boolean): boolean {
  if (data.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let byte = data[at + i];
    if (caseless && byte >= 0x61 && byte <= 0x7a) byte -= 0x20;
    if (byte !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/** The MIME type Go's server would announce for a body starting with `body`. */
export function detectContentType(body: Uint8Array): string {
  const data = body.subarray(0, SNIFF_LENGTH_BYTES);
  let first = 0;
  while (first < data.length && isWhitespace(data[first])) first++;
  for (const tag of HTML_TAGS) {
    if (!startsWith(data, first, tag, true)) continue;
    const next = data[first + tag.length];
    if (next === 0x20 || next === 0x3e) return "text/html; charset=utf-8";
  }
  if (startsWith(data, first, "<?xml", false)) return "text/xml; charset=utf-8";
  for (const [prefix, type] of EXACT_PREFIXES) {
    if (startsWith(data, 0, prefix, false)) return type;
  }
  for (let i = first; i < data.length; i++) {
    if (isBinary(data[i])) return "application/octet-stream";
  }
  return TEXT;
}
