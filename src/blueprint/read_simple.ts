/**
 * The fast path of reading a blueprint (docs/blueprints.md, "How a blueprint is read"): most
 * blueprints — and every large generated one — are a flat list of `actor__instance:` entries,
 * each with one line per attribute. Those are read here line by line, with the same result and
 * the same positions as the full YAML reader (`read.ts`), in a fraction of its time (the full
 * parser keeps a node with a range for every token: about half a second for 10,000 services).
 *
 * Anything outside that plain shape — a comment after a value, a tab, a multi-line or escaped
 * value, nesting, anchors, `actions:`, a duplicate key, an empty value, any error — makes
 * {@link readSimpleBlueprint} return null, and the full reader reads the file (and reports
 * the error, with its position). So the fast path never decides anything the full reader
 * would decide differently; `test/blueprint/read_simple_test.ts` compares the two.
 *
 * @module
 */
import type { SourceLocation } from "../errors.ts";
import type { BlueprintAttribute, BlueprintDoc, BlueprintService } from "./read_types.ts";

/** Keys YAML reads as something other than text. */
const NOT_TEXT = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL)$/;
/** Characters an instance name may not hold (as `read.ts`). */
const BAD_INSTANCE_CHARS = /[!:/\\\s\p{Cc}]/u;
/** A plain value may not start with these (YAML indicators), nor hold the ones after. */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`]/;
const UNSAFE_PLAIN = /[[\]{}#]|: |:$/;

/**
 * The core schema's decimal int and float forms in one: an int (`[-+]?[0-9]+`) when it has
 * neither a `.` nor an exponent, else a float (`[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)` with an
 * optional exponent, or digits with one).
 */
const DECIMAL = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

/** What a value of YAML's core schema a plain scalar is; undefined: text. */
function coreScalar(text: string): { value: unknown } | undefined {
  // Most values are text, and the forms are told apart by their first character: a value is
  // tried only against the forms that can start with it (two regular expressions at most
  // where there were up to nine, for every value of a large blueprint).
  const c = text.charCodeAt(0);
  if (c === 126 || c === 110 || c === 78) { // ~ n N
    return /^(?:~|[Nn]ull|NULL)$/.test(text) ? { value: null } : undefined;
  }
  if (c === 116 || c === 84) return /^(?:[Tt]rue|TRUE)$/.test(text) ? { value: true } : undefined;
  if (c === 102 || c === 70) {
    return /^(?:[Ff]alse|FALSE)$/.test(text) ? { value: false } : undefined;
  }
  const digit = c >= 48 && c <= 57;
  if (!digit && c !== 45 && c !== 43 && c !== 46) return undefined; // - + .
  if (DECIMAL.test(text)) {
    const int = !text.includes(".") && !text.includes("e") && !text.includes("E");
    return { value: int ? parseInt(text, 10) : parseFloat(text) };
  }
  if (c === 48 && /^0o[0-7]+$/.test(text)) return { value: parseInt(text.substring(2), 8) };
  if (c === 48 && /^0x[0-9a-fA-F]+$/.test(text)) {
    return { value: parseInt(text.substring(2), 16) };
  }
  if (digit) return undefined;
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) {
    return {
      value: text.slice(-3).toLowerCase() === "nan"
        ? NaN
        : text[0] === "-"
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY,
    };
  }
  return undefined;
}

/** The value of a plain scalar in block context, or undefined when it is not a plain one. */
function plainValue(text: string): { value: unknown } | undefined {
  if (text === "" || UNSAFE_PLAIN.test(text)) return undefined;
  if (INDICATOR_START.test(text) && !/^-[0-9.]/.test(text)) return undefined;
  return coreScalar(text) ?? { value: text };
}

/** The value of a whole-line quoted scalar without escapes, or undefined. */
function quotedValue(text: string): { value: string } | undefined {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) return undefined;
  const inner = text.slice(1, -1);
  if (quote === '"') {
    return inner.includes('"') || inner.includes("\\") ? undefined : { value: inner };
  }
  // Single quotes: `''` is one quote; a lone quote ends the scalar early.
  if (inner.replaceAll("''", "").includes("'")) return undefined;
  return { value: inner.replaceAll("''", "'") };
}

/** A one-line flow list of plain scalars (`[a, 1, b]`), with where each item starts. */
function flowList(
  text: string,
  column: number,
): { value: unknown[]; columns: number[] } | undefined {
  if (text[text.length - 1] !== "]") return undefined;
  const inner = text.slice(1, -1);
  if (inner.trim() === "") return inner === "" ? { value: [], columns: [] } : undefined;
  const value: unknown[] = [];
  const columns: number[] = [];
  let start = 0;
  for (const part of inner.split(",")) {
    const lead = part.length - part.trimStart().length;
    const item = part.trim();
    // Flow context: `:` and quotes would need the full parser.
    if (item === "" || /[:'"]/.test(item) || /^-[^0-9.]/.test(item)) return undefined;
    const plain = plainValue(item);
    if (!plain) return undefined;
    value.push(plain.value);
    columns.push(column + 1 + start + lead);
    start += part.length + 1;
  }
  return { value, columns };
}

/** Whether a char code may start a plain key (`[A-Za-z_]`). */
function isKeyStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

/** Whether a char code may continue a plain key (`[A-Za-z0-9_.-]`). */
function isKeyChar(c: number): boolean {
  return isKeyStart(c) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

/** Where the plain key starting at `start` ends, or -1 when none starts there. */
function keyEnd(line: string, start: number): number {
  if (!isKeyStart(line.charCodeAt(start))) return -1;
  let end = start + 1;
  while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
  return end;
}

/**
 * An attribute of one line, its positions kept as numbers (docs/blueprints.md, "Memory"): the
 * locations, which only an error message needs, are made when asked for. Three location
 * objects per attribute (and one per list item) were about half of what a read blueprint held
 * at 100,000 services.
 */
class LineAttribute implements BlueprintAttribute {
  readonly key: string;
  value: unknown;
  readonly #file: string;
  readonly #line: number;
  readonly #keyColumn: number;
  readonly #valueColumn: number;
  /** For a list value: the column of each item. */
  readonly #itemColumns: number[] | undefined;

  /**
   * Columns are 1-based. Positional, not an options object: one is made for every attribute
   * of a blueprint, and an object of places for each was as many allocations again.
   */
  constructor(
    key: string,
    value: unknown,
    file: string,
    line: number,
    keyColumn: number,
    valueColumn: number,
    itemColumns?: number[],
  ) {
    this.key = key;
    this.value = value;
    this.#file = file;
    this.#line = line;
    this.#keyColumn = keyColumn;
    this.#valueColumn = valueColumn;
    this.#itemColumns = itemColumns;
  }

  get keyLocation(): SourceLocation {
    return { file: this.#file, line: this.#line, column: this.#keyColumn };
  }

  get valueLocation(): SourceLocation {
    return { file: this.#file, line: this.#line, column: this.#valueColumn };
  }

  get itemLocations(): SourceLocation[] | undefined {
    return this.#itemColumns?.map((column) => ({ file: this.#file, line: this.#line, column }));
  }
}

/**
 * The one string of each attribute key: the keys of a large blueprint repeat on every entry,
 * and one string per line each was a tenth of what the read blueprint held. Null for a key
 * YAML reads as something other than text (a bool, a null), checked once per distinct key.
 */
function interned(names: Map<string, string>, key: string): string | null {
  const known = names.get(key);
  if (known !== undefined) return known;
  if (NOT_TEXT.test(key)) return null;
  names.set(key, key);
  return key;
}

/**
 * Whether an entry's attributes have `key` (interned: compared by identity). A search, not a
 * Set per entry: an entry has a few attributes, and the Set of each was a tenth of reading.
 */
function hasKey(attributes: readonly BlueprintAttribute[], key: string): boolean {
  for (let i = 0; i < attributes.length; i++) if (attributes[i].key === key) return true;
  return false;
}

/** Line separators that JavaScript's `.` does not match and YAML may treat apart. */
const ODD_BREAKS = /[\u2028\u2029\u0085]/;

/**
 * Reads `text` (decoded, without a BOM) when it is a plain list of entries and attributes,
 * as `readBlueprint` would; null when anything in it needs the full YAML reader.
 *
 * Each line is taken apart by its characters, not by regular expressions: at 100,000
 * services the match arrays, one closure per line and the array of all lines were most of
 * what reading allocated.
 */
export function readSimpleBlueprint(text: string, file: string): BlueprintDoc | null {
  if (text.includes("\t") || text.includes("\r") || ODD_BREAKS.test(text)) return null;
  const doc: BlueprintDoc = { file, services: [], actions: [], eventFilters: [], warnings: [] };
  const seen = new Set<string>();
  const names = new Map<string, string>();
  let service: BlueprintService | null = null;
  let indent = 0;
  let lineNumber = 0;
  for (let start = 0; start <= text.length; lineNumber++) {
    let stop = text.indexOf("\n", start);
    if (stop === -1) stop = text.length;
    const line = text.slice(start, stop);
    start = stop + 1;
    let first = 0;
    while (first < line.length && line.charCodeAt(first) === 32) first++;
    // Blank lines and comment lines; any other `#` needs the full reader.
    if (first === line.length || line.charCodeAt(first) === 35) continue;
    if (line.includes("#")) return null;
    const row = lineNumber + 1;
    if (first === 0) {
      // `actor__instance:` and nothing after it but spaces.
      const end = keyEnd(line, 0);
      if (end === -1 || line.charCodeAt(end) !== 58) return null;
      for (let i = end + 1; i < line.length; i++) if (line.charCodeAt(i) !== 32) return null;
      const key = line.slice(0, end);
      const split = key.indexOf("__");
      if (split <= 0 || seen.has(key)) return null;
      const instance = key.slice(split + 2);
      if (instance === "" || BAD_INSTANCE_CHARS.test(instance)) return null;
      seen.add(key);
      service = {
        actor: key.slice(0, split),
        instance,
        location: { file, line: row, column: 1 },
        attributes: [],
      };
      doc.services.push(service);
      indent = 0;
      continue;
    }
    // An attribute: indentation, a plain key, `:`, one space or more, and a value.
    if (!service) return null;
    const end = keyEnd(line, first);
    if (end === -1 || line.charCodeAt(end) !== 58 || line.charCodeAt(end + 1) !== 32) return null;
    let column = end + 2;
    while (column < line.length && line.charCodeAt(column) === 32) column++;
    // A value starts with a character that is not white space of any kind (as `\S`): a
    // visible ASCII one certainly is not, any other is asked of the regular expression.
    if (column === line.length) return null;
    const lead = line.charCodeAt(column);
    if ((lead <= 32 || lead >= 127) && /\s/.test(line[column])) return null;
    const key = interned(names, line.slice(first, end));
    if (key === null) return null;
    if (indent === 0) indent = first;
    if (first !== indent || hasKey(service.attributes, key)) return null;
    const valueText = line.slice(column).trimEnd();
    let attribute: BlueprintAttribute;
    if (valueText[0] === "'" || valueText[0] === '"') {
      const quoted = quotedValue(valueText);
      if (!quoted) return null;
      attribute = new LineAttribute(key, quoted.value, file, row, indent + 1, column + 1);
    } else if (valueText[0] === "[") {
      // Its items' columns, 1-based, counted from the `[`'s.
      const list = flowList(valueText, column + 1);
      if (!list) return null;
      attribute = new LineAttribute(
        key,
        list.value,
        file,
        row,
        indent + 1,
        column + 1,
        list.columns,
      );
    } else {
      const plain = plainValue(valueText);
      if (!plain) return null;
      attribute = new LineAttribute(key, plain.value, file, row, indent + 1, column + 1);
    }
    service.attributes.push(attribute);
  }
  return doc;
}
