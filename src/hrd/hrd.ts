/**
 * The HRD text format of JumpScale 8 as `schema.hrd` and `actor.hrd` use it: `key = value`
 * lines, `#` comments, blank lines, values quoted with `'` or `"`, and a value continued on
 * following lines that are indented deeper than its key:
 *
 * ```
 * recurring.monitor =
 *     period: 1m,
 *     log: True,
 * ```
 *
 * This module only splits the text into entries and items and keeps where each one is; what a
 * value means is up to the reader of the file (`schema_hrd.ts`, `actor_config.ts`).
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";
import { sourceText } from "./source_text.ts";

/** Options of the HRD readers. */
export interface HrdReadOptions {
  /** File name put on every location and error. */
  file?: string;
}

/** Where one physical line's part of a value starts: `offset` into {@link HrdEntry.raw}. */
export interface HrdSpan {
  offset: number;
  line: number;
  column: number;
}

/** One `key = value` of an HRD file. */
export interface HrdEntry {
  key: string;
  /**
   * The value as written, comments removed, each line trimmed; continuation lines are joined
   * with `\n`.
   */
  raw: string;
  /** {@link raw} without its enclosing quotes when the whole value is one quoted string. */
  value: string;
  /** The whole value was one quoted string. */
  quoted: boolean;
  /** Where the key starts. */
  location: SourceLocation;
  /** Where the value starts (its first character, or just after `=` when it is empty). */
  valueLocation: SourceLocation;
  /** Maps offsets in {@link raw} back to the file; see {@link hrdLocation}. */
  spans: HrdSpan[];
}

/** A piece of a value ({@link splitHrdList}, {@link splitHrdTokens}). */
export interface HrdItem {
  /** The piece as written (trimmed). */
  raw: string;
  /** {@link raw} without enclosing quotes. */
  text: string;
  quoted: boolean;
  /** Offset of the piece in {@link HrdEntry.raw}. */
  offset: number;
  location: SourceLocation;
}

/** A `key: value` piece of a dict value ({@link splitHrdDict}). */
export interface HrdPair {
  key: string;
  keyLocation: SourceLocation;
  value: HrdItem;
}

const QUOTES = new Set(["'", '"']);

/**
 * A quote opens a quoted run only at the start of a word or right after `:`, `=`, `,`, `[` —
 * so `descr:it's` keeps its apostrophe while `descr:'two words'` is one value.
 */
function opensQuote(text: string, i: number): boolean {
  if (!QUOTES.has(text[i])) return false;
  return i === 0 || /[\s:=,[(]/.test(text[i - 1]);
}

/**
 * Walks `text` and calls `visit(i)` for every character outside quotes; returns the index of
 * an unterminated quote, or -1. `visit` returning true stops the walk.
 */
function walkOutsideQuotes(text: string, visit: (i: number) => boolean | void): number {
  let i = 0;
  while (i < text.length) {
    if (opensQuote(text, i)) {
      const close = text.indexOf(text[i], i + 1);
      if (close === -1) return i;
      i = close + 1;
      continue;
    }
    if (visit(i) === true) return -1;
    i++;
  }
  return -1;
}

/** `text` without enclosing quotes, when it is exactly one quoted run. */
export function unquote(text: string): { text: string; quoted: boolean } {
  if (text.length >= 2 && QUOTES.has(text[0]) && text.indexOf(text[0], 1) === text.length - 1) {
    return { text: text.slice(1, -1), quoted: true };
  }
  return { text, quoted: false };
}

/** The file position of offset `index` of `entry.raw`. */
export function hrdLocation(entry: HrdEntry, index: number): SourceLocation {
  let span = entry.spans[0];
  for (const s of entry.spans) {
    if (s.offset <= index) span = s;
    else break;
  }
  if (!span) return entry.valueLocation;
  return {
    file: entry.location.file,
    line: span.line,
    column: span.column + Math.max(0, index - span.offset),
  };
}

interface OpenEntry {
  entry: HrdEntry;
  indent: number;
  /** The value was empty on the key's line: every deeper-indented line continues it. */
  block: boolean;
}

/**
 * Reads HRD text (or the bytes of an HRD file, UTF-8) into its entries, in file order (a key
 * given twice appears twice; the caller decides what that means). Throws {@link InputError} with
 * file, line and column for bytes that are not UTF-8, a NUL character, a line that is not
 * `key = value`, an empty or spaced key, or an unterminated quote.
 *
 * A line continues the previous entry when it is indented deeper than that entry's key and
 * either the entry's value was empty on its own line or the line has no `=` outside quotes.
 * `#` starts a comment at the beginning of a line or after a space, outside quotes. A blank line
 * ends a continued value.
 */
export function readHrd(source: string | Uint8Array, options: HrdReadOptions = {}): HrdEntry[] {
  const file = options.file ?? "<hrd>";
  const text = sourceText(source, { file });
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const entries: HrdEntry[] = [];
  let open: OpenEntry | null = null;
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const line = lines[n];
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    if (body === "") {
      open = null;
      continue;
    }
    if (body.startsWith("#")) continue;
    const content = stripComment(line, file, lineNo).trimEnd();
    const contentBody = content.trim();
    if (contentBody === "") continue;

    if (open && indent > open.indent && (open.block || !hasEqualsOutsideQuotes(content))) {
      appendPiece(open.entry, contentBody, lineNo, indent + 1);
      continue;
    }

    const eq = content.indexOf("=");
    if (eq === -1) {
      throw new InputError(`expected "key = value", found ${JSON.stringify(contentBody)}`, {
        location: { file, line: lineNo, column: indent + 1 },
      });
    }
    const key = content.slice(0, eq).trim();
    if (key === "") {
      throw new InputError('missing key before "="', {
        location: { file, line: lineNo, column: eq + 1 },
      });
    }
    if (/\s/.test(key)) {
      throw new InputError(`a key has no spaces: ${JSON.stringify(key)}`, {
        location: { file, line: lineNo, column: indent + 1 },
      });
    }
    const after = content.slice(eq + 1);
    const valueStart = eq + 1 + (after.length - after.trimStart().length);
    const value = after.trim();
    const entry: HrdEntry = {
      key,
      raw: "",
      value: "",
      quoted: false,
      location: { file, line: lineNo, column: indent + 1 },
      valueLocation: { file, line: lineNo, column: valueStart + 1 },
      spans: [],
    };
    if (value !== "") appendPiece(entry, value, lineNo, valueStart + 1);
    entries.push(entry);
    open = { entry, indent, block: value === "" };
  }
  for (const entry of entries) finishEntry(entry);
  return entries;
}

function appendPiece(entry: HrdEntry, piece: string, line: number, column: number): void {
  if (entry.spans.length > 0) entry.raw += "\n";
  else entry.valueLocation = { file: entry.location.file, line, column };
  entry.spans.push({ offset: entry.raw.length, line, column });
  entry.raw += piece;
}

function finishEntry(entry: HrdEntry): void {
  const { text, quoted } = unquote(entry.raw);
  entry.value = text;
  entry.quoted = quoted;
}

/** The line up to its comment; throws on an unterminated quote. */
function stripComment(line: string, file: string, lineNo: number): string {
  let cut = line.length;
  const bad = walkOutsideQuotes(line, (i) => {
    if (line[i] === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
      cut = i;
      return true;
    }
  });
  if (bad !== -1) {
    throw new InputError(`unterminated quote ${line[bad]}`, {
      location: { file, line: lineNo, column: bad + 1 },
    });
  }
  return line.slice(0, cut);
}

function hasEqualsOutsideQuotes(text: string): boolean {
  let found = false;
  walkOutsideQuotes(text, (i) => {
    if (text[i] === "=") {
      found = true;
      return true;
    }
  });
  return found;
}

/** Splits `text` at characters for which `isSeparator` holds, outside quotes. */
function splitRanges(
  text: string,
  isSeparator: (ch: string) => boolean,
): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  let start = 0;
  walkOutsideQuotes(text, (i) => {
    if (isSeparator(text[i])) {
      ranges.push({ start, end: i });
      start = i + 1;
    }
  });
  ranges.push({ start, end: text.length });
  return ranges;
}

/**
 * Splits `text` (a substring of `entry.raw` starting at `base`) into items at separators outside
 * quotes, trimming each and dropping empty ones.
 */
export function splitHrdText(
  entry: HrdEntry,
  text: string,
  base: number,
  isSeparator: (ch: string) => boolean,
): HrdItem[] {
  const items: HrdItem[] = [];
  for (const { start, end } of splitRanges(text, isSeparator)) {
    const piece = text.slice(start, end);
    const trimmed = piece.trim();
    if (trimmed === "") continue;
    const offset = base + start + (piece.length - piece.trimStart().length);
    const { text: inner, quoted } = unquote(trimmed);
    items.push({
      raw: trimmed,
      text: inner,
      quoted,
      offset,
      location: hrdLocation(entry, offset),
    });
  }
  return items;
}

/** The whitespace-separated words of a value (quoted runs stay whole), as schema tags are. */
export function splitHrdTokens(entry: HrdEntry): HrdItem[] {
  return splitHrdText(entry, entry.raw, 0, (ch) => /\s/.test(ch));
}

/** The comma-separated items of a list value (`a, b, c,`); a trailing comma is allowed. */
export function splitHrdList(entry: HrdEntry): HrdItem[] {
  return splitHrdText(entry, entry.raw, 0, (ch) => ch === ",");
}

/**
 * The `key: value` items of a dict value (`period: 1m, log: True,`). Throws {@link InputError}
 * at an item without `:`.
 */
export function splitHrdDict(entry: HrdEntry): HrdPair[] {
  const pairs: HrdPair[] = [];
  for (const item of splitHrdList(entry)) {
    const colon = item.raw.indexOf(":");
    if (colon <= 0) {
      throw new InputError(
        `expected "name: value" in ${JSON.stringify(entry.key)}, found ${JSON.stringify(item.raw)}`,
        {
          location: item.location,
        },
      );
    }
    const key = item.raw.slice(0, colon).trim();
    const rest = item.raw.slice(colon + 1);
    const lead = rest.length - rest.trimStart().length;
    const valueRaw = rest.trim();
    const offset = item.offset + colon + 1 + lead;
    const { text, quoted } = unquote(valueRaw);
    pairs.push({
      key,
      keyLocation: item.location,
      value: { raw: valueRaw, text, quoted, offset, location: hrdLocation(entry, offset) },
    });
  }
  return pairs;
}
