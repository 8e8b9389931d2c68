/**
 * Reading one blueprint (docs/blueprints.md): YAML with the position of every key and value, checked
 * for shape only. Whether actors, attributes and values exist and fit is the resolver's job
 * (`resolve.ts`), because that needs the actors and the store.
 *
 * @module
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { InputError, type SourceLocation } from "../errors.ts";
import { compileNameRegex, type EventFilter } from "../model/mod.ts";
import { parsePeriod } from "../hrd/mod.ts";
import { parseYaml, type YamlText } from "../yaml/mod.ts";
import type {
  BlueprintAction,
  BlueprintAttribute,
  BlueprintDoc,
  BlueprintEventFilter,
  BlueprintService,
} from "./read_types.ts";
import { readSimpleBlueprint } from "./read_simple.ts";

export type {
  BlueprintAction,
  BlueprintAttribute,
  BlueprintDoc,
  BlueprintEventFilter,
  BlueprintService,
} from "./read_types.ts";

/** Options of {@link readBlueprint}. */
export interface ReadBlueprintOptions {
  /** The file name used in locations. */
  file: string;
  /**
   * Read the plain shape line by line (`read_simple.ts`; default true). False: always the
   * full YAML parser — the same result, slower; for comparing the two.
   */
  simple?: boolean;
}

const ACTION_KEYS = new Set(["action", "actor", "service", "recurring", "force", "log"]);
const EVENT_FILTER_KEYS = ["actor", "service", "channel", "cmd", "secret", "action"] as const;
/** Characters an instance name may not hold: separators of service names and of paths. */
const BAD_INSTANCE_CHARS = /[!:/\\\s\p{Cc}]/u;

/** Positions in the original text, although the parser saw tabs expanded. */
class Positions {
  readonly #counter: LineCounter;
  readonly #file: string;
  /** Per line (0-based): [original indent length, expanded indent length]. */
  readonly #indents: Map<number, [number, number]>;

  /** Lines of the file before the text parsed (a part of a file read alone). */
  readonly #lineOffset: number;

  constructor(
    counter: LineCounter,
    file: string,
    indents: Map<number, [number, number]>,
    lineOffset = 0,
  ) {
    this.#counter = counter;
    this.#file = file;
    this.#indents = indents;
    this.#lineOffset = lineOffset;
  }

  /** The location of an offset in the parsed (tab-expanded) text. */
  at(offset: number): SourceLocation {
    const { line, col } = this.#counter.linePos(offset);
    const indent = this.#indents.get(line - 1);
    let column = col;
    if (indent) {
      const [original, expanded] = indent;
      column = col - 1 >= expanded ? col - (expanded - original) : Math.min(col, original + 1);
    }
    return { file: this.#file, line: line + this.#lineOffset, column };
  }

  /** The location where a node starts. */
  of(node: Node | null | undefined, fallback = 0): SourceLocation {
    return this.at(node?.range?.[0] ?? fallback);
  }
}

/** Replaces tabs in each line's indentation with four spaces (docs/blueprints.md, as v8.1). */
function expandIndentTabs(text: string): { text: string; indents: Map<number, [number, number]> } {
  const indents = new Map<number, [number, number]>();
  if (!text.includes("\t")) return { text, indents };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const indent = /^[ \t]*/.exec(lines[i])![0];
    if (!indent.includes("\t")) continue;
    const expanded = indent.replaceAll("\t", "    ");
    indents.set(i, [indent.length, expanded.length]);
    lines[i] = expanded + lines[i].slice(indent.length);
  }
  return { text: lines.join("\n"), indents };
}

/** Decodes a file's bytes; binary or non-UTF-8 content is an error at line 1. */
function decodeText(source: string | Uint8Array, file: string): string {
  let text: string;
  if (typeof source === "string") {
    text = source;
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(source);
    } catch {
      throw new InputError("not a text file: the content is not valid UTF-8", {
        location: { file, line: 1, column: 1 },
      });
    }
  }
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    throw new InputError("not a text file: it contains NUL bytes (binary content)", {
      location: { file, line: 1, column: 1 },
    });
  }
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

/** The text of a scalar key, or an error at the key. */
function keyText(key: unknown, where: Positions, context: string): string {
  if (isScalar(key) && (typeof key.value === "string" || typeof key.value === "number")) {
    return String(key.value);
  }
  throw new InputError(`${context}: a key must be a plain name`, {
    location: where.of(key as Node),
  });
}

/** Converts a YAML node to plain data. */
function plain(node: unknown, yaml: YamlText): unknown {
  if (node === null || node === undefined) return null;
  return yaml.data.toJS(node);
}

/**
 * Reads a blueprint and checks its shape (docs/blueprints.md): the top level is a mapping of
 * `actor__instance` entries (value a mapping or empty), `actions:` (a list) and
 * `eventfilters:` (a list). Tabs in indentation count as four spaces. An empty file (or
 * comments only) is a blueprint with nothing in it. Every problem is an {@link InputError}
 * with `file:line:column`.
 */
export function readBlueprint(
  source: string | Uint8Array,
  options: ReadBlueprintOptions,
): BlueprintDoc {
  const { file, simple: trySimple = true } = options;
  const decoded = decodeText(source, file);
  // The plain shape of most blueprints is read line by line (read_simple.ts); anything else,
  // and every error, by the YAML parser below.
  const simple = trySimple
    ? readSimpleBlueprint(decoded, file) ??
      readWithSections(decoded, file)
    : null;
  if (simple) return simple;
  return readFull(decoded, file);
}

/** A top-level `actions:` or `eventfilters:` line. */
const SECTION_LINE = /^(?:actions|eventfilters):[ ]*(?:#[^\n]*)?$/m;
/** Lines that could change how YAML reads a part of a file read alone. */
const DOCUMENT_LINE = /^(?:---|\.\.\.|%)/m;

/**
 * The common large blueprint: plain service entries, then an `actions:` (or `eventfilters:`)
 * section. The entries before the first such line are read line by line, the rest by the YAML
 * parser, its positions counted from that line so every one is the file's own. Null —
 * the whole file goes to the YAML parser — when the first part is not plain, the rest has an
 * error or a document marker, or names a service the first part names (the parser of the
 * whole file reports those itself, with their positions).
 */
export function readWithSections(decoded: string, file: string): BlueprintDoc | null {
  const section = SECTION_LINE.exec(decoded);
  if (!section || section.index === 0) return null;
  const head = readSimpleBlueprint(decoded.slice(0, section.index), file);
  if (!head) return null;
  const rest = decoded.slice(section.index);
  if (DOCUMENT_LINE.test(rest)) return null;
  let lines = 0;
  for (
    let i = decoded.indexOf("\n");
    i !== -1 && i < section.index;
    i = decoded.indexOf("\n", i + 1)
  ) {
    lines++;
  }
  let tail: BlueprintDoc;
  try {
    tail = readFull(rest, file, lines);
  } catch {
    return null;
  }
  const named = new Set(head.services.map((entry) => `${entry.actor}__${entry.instance}`));
  if (tail.services.some((entry) => named.has(`${entry.actor}__${entry.instance}`))) return null;
  return {
    file,
    services: [...head.services, ...tail.services],
    actions: tail.actions,
    eventFilters: tail.eventFilters,
    warnings: [...head.warnings, ...tail.warnings],
  };
}

/**
 * Reads decoded text with the YAML parser (every shape, every error); `lineOffset` lines of
 * the file come before the text.
 */
function readFull(decoded: string, file: string, lineOffset = 0): BlueprintDoc {
  const { text, indents } = expandIndentTabs(decoded);
  const counter = new LineCounter();
  const where = new Positions(counter, file, indents, lineOffset);
  // yaml's own uniqueKeys check compares every key with every other (quadratic: seconds for
  // 10,000 services), so duplicates are found with a set below instead.
  const yaml = parseYaml(text, {
    file,
    lineCounter: counter,
    locate: (offset) => where.at(offset),
    uniqueKeys: false,
    version: "1.2",
    // `<<: *anchor` merge keys, which v8.1 (PyYAML) understood.
    merge: true,
  });
  const doc = yaml.doc;
  const duplicate = findDuplicateKey(doc.contents);
  if (duplicate) {
    throw new InputError(`duplicate key '${duplicate.name}'`, {
      location: where.of(duplicate.node),
    });
  }
  const result: BlueprintDoc = { file, services: [], actions: [], eventFilters: [], warnings: [] };
  for (const warning of doc.warnings) {
    const at = where.at(warning.pos[0]);
    result.warnings.push(`${file}:${at.line}:${at.column}: ${warning.message}`);
  }
  const top = doc.contents;
  if (top === null || top === undefined) return result;
  if (!isMap(top)) {
    throw new InputError("a blueprint's top level must be a mapping of `actor__instance:` keys", {
      location: { file, line: 1, column: 1 },
    });
  }
  let sawActions = false;
  let sawEventFilters = false;
  for (const pair of top.items) {
    const key = keyText(pair.key, where, "blueprint");
    const keyAt = where.of(pair.key as Node);
    if (key === "actions") {
      if (sawActions) throw new InputError("duplicate key 'actions'", { location: keyAt });
      sawActions = true;
      result.actions.push(...readActions(pair.value, keyAt, where));
    } else if (key === "eventfilters") {
      if (sawEventFilters) {
        throw new InputError("duplicate key 'eventfilters'", { location: keyAt });
      }
      sawEventFilters = true;
      result.eventFilters.push(...readEventFilters(pair.value, keyAt, where));
    } else {
      result.services.push(readService(key, keyAt, pair.value, where, yaml));
    }
  }
  return result;
}

/** The first key that repeats an earlier key of the same mapping, searching depth first. */
function findDuplicateKey(node: unknown): { name: string; node: Node } | undefined {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key;
      const name = !isScalar(key)
        ? JSON.stringify(key)
        : typeof key.value === "symbol"
        ? "<<"
        : String(key.value);
      if (seen.has(name)) return { name, node: key as Node };
      seen.add(name);
      const inner = findDuplicateKey(pair.value);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      const inner = findDuplicateKey(item);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** One `actor__instance:` entry. */
function readService(
  key: string,
  keyAt: SourceLocation,
  value: unknown,
  where: Positions,
  yaml: YamlText,
): BlueprintService {
  const split = key.indexOf("__");
  if (split === -1) {
    throw new InputError(
      `unknown top-level key '${key}': expected 'actor__instance', 'actions' or 'eventfilters'`,
      { location: keyAt },
    );
  }
  const actor = key.slice(0, split);
  const instance = key.slice(split + 2);
  if (actor === "") {
    throw new InputError(`'${key}' has an empty actor name before '__'`, { location: keyAt });
  }
  if (instance === "") {
    throw new InputError(`'${key}' has an empty instance name after '__'`, { location: keyAt });
  }
  if (BAD_INSTANCE_CHARS.test(instance)) {
    throw new InputError(
      `instance name '${instance}' may not contain '!', ':', '/', '\\' or white space`,
      { location: keyAt },
    );
  }
  const service: BlueprintService = { actor, instance, location: keyAt, attributes: [] };
  if (value === null || value === undefined || (isScalar(value) && value.value === null)) {
    return service;
  }
  if (!isMap(value)) {
    throw new InputError(`'${key}' must be a mapping of attributes or empty`, {
      location: where.of(value as Node),
    });
  }
  for (const pair of attributePairs(value as YAMLMap, yaml, where)) {
    const attributeKey = keyText(pair.key, where, `'${key}'`);
    const valueNode = pair.value as Node | null;
    const attribute: BlueprintAttribute = {
      key: attributeKey,
      value: plain(valueNode, yaml),
      keyLocation: where.of(pair.key as Node),
      // An empty value (`key:`) has no node; point at the key then.
      valueLocation: valueNode ? where.of(valueNode) : where.of(pair.key as Node),
    };
    if (isSeq(valueNode)) {
      attribute.itemLocations = valueNode.items.map((item) => where.of(item as Node));
    }
    service.attributes.push(attribute);
  }
  return service;
}

/** Whether a key is YAML's merge key `<<`. */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === "symbol";
}

/**
 * The pairs of a service's mapping with `<<: *anchor` merges expanded: keys written in the
 * mapping win over merged ones, and an earlier merged mapping wins over a later one (YAML's
 * merge rule). Merged values keep the positions where the anchor defined them.
 */
function attributePairs(
  map: YAMLMap,
  yaml: YamlText,
  where: Positions,
): Pair[] {
  if (!map.items.some((pair) => isMergeKey(pair.key))) return map.items as Pair[];
  const own = map.items.filter((pair) => !isMergeKey(pair.key)) as Pair[];
  const seen = new Set(own.map((pair) => String((pair.key as Scalar).value)));
  const merged: Pair[] = [];
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    const sources: unknown[] = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const target = isAlias(source) ? yaml.data.target(source) : source;
      if (!isMap(target)) {
        throw new InputError("'<<' must merge a mapping (an alias like *name of a mapping)", {
          location: where.of(source as Node),
        });
      }
      for (const item of target.items as Pair[]) {
        const name = String((item.key as Scalar).value);
        if (seen.has(name)) continue;
        seen.add(name);
        merged.push(item);
      }
    }
  }
  return [...own, ...merged];
}

/** The `actions:` section. */
function readActions(value: unknown, keyAt: SourceLocation, where: Positions): BlueprintAction[] {
  if (value === null || value === undefined || (isScalar(value) && value.value === null)) {
    return [];
  }
  if (!isSeq(value)) {
    throw new InputError("'actions' must be a list of entries like '- action: install'", {
      location: isScalar(value) || isMap(value) ? where.of(value as Node) : keyAt,
    });
  }
  const entries: BlueprintAction[] = [];
  for (const item of value.items) {
    const at = where.of(item as Node);
    if (!isMap(item)) {
      throw new InputError("an 'actions' entry must be a mapping with an 'action' key", {
        location: at,
      });
    }
    const fields = new Map<string, { node: Node | null; at: SourceLocation }>();
    for (const pair of item.items) {
      const name = keyText(pair.key, where, "'actions' entry");
      const keyAt2 = where.of(pair.key as Node);
      if (!ACTION_KEYS.has(name)) {
        throw new InputError(
          `unknown key '${name}' in an 'actions' entry (expected action, actor, service, recurring, force)`,
          { location: keyAt2 },
        );
      }
      const node = pair.value as Node | null;
      fields.set(name, { node, at: node ? where.of(node) : keyAt2 });
    }
    const action = fields.get("action");
    if (!action) {
      throw new InputError("an 'actions' entry needs 'action: NAME[,NAME…]'", { location: at });
    }
    const actionText = scalarString(action.node);
    const names = actionText === null ? [] : actionText.split(",").map((s) => s.trim());
    if (names.length === 0 || names.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) {
      throw new InputError(
        `'action' must be one or more action names separated by commas, got ${
          JSON.stringify(actionText ?? plainScalar(action.node))
        }`,
        { location: action.at },
      );
    }
    const entry: BlueprintAction = {
      actions: names,
      force: false,
      location: at,
      actionLocation: action.at,
    };
    for (const which of ["actor", "service"] as const) {
      const field = fields.get(which);
      if (!field) continue;
      const pattern = scalarString(field.node);
      if (pattern === null || pattern === "") {
        throw new InputError(`'${which}' must be a regex (a non-empty string)`, {
          location: field.at,
        });
      }
      compileNameRegex(pattern, { what: which, location: field.at });
      entry[which] = pattern;
    }
    const recurring = fields.get("recurring");
    if (recurring) {
      const raw = plainScalar(recurring.node);
      entry.recurring = parsePeriod(
        typeof raw === "number" || typeof raw === "string" ? raw : JSON.stringify(raw),
        { location: recurring.at, what: "'recurring'" },
      );
    }
    for (const flag of ["force", "log"] as const) {
      const field = fields.get(flag);
      if (!field) continue;
      const flagValue = plainScalar(field.node);
      if (typeof flagValue !== "boolean") {
        throw new InputError(`'${flag}' must be true or false`, { location: field.at });
      }
      if (flag === "force") entry.force = flagValue;
    }
    entries.push(entry);
  }
  return entries;
}

/** The `eventfilters:` section. */
function readEventFilters(
  value: unknown,
  keyAt: SourceLocation,
  where: Positions,
): BlueprintEventFilter[] {
  if (value === null || value === undefined || (isScalar(value) && value.value === null)) {
    return [];
  }
  if (!isSeq(value)) {
    throw new InputError("'eventfilters' must be a list", {
      location: isScalar(value) || isMap(value) ? where.of(value as Node) : keyAt,
    });
  }
  const filters: BlueprintEventFilter[] = [];
  for (const item of value.items) {
    const at = where.of(item as Node);
    if (!isMap(item)) {
      throw new InputError("an 'eventfilters' entry must be a mapping", { location: at });
    }
    const filter: EventFilter = {};
    for (const pair of item.items) {
      const name = keyText(pair.key, where, "'eventfilters' entry");
      const node = pair.value as Node | null;
      const valueAt = node ? where.of(node) : where.of(pair.key as Node);
      if (!(EVENT_FILTER_KEYS as readonly string[]).includes(name)) {
        throw new InputError(
          `unknown key '${name}' in an 'eventfilters' entry (expected ${
            EVENT_FILTER_KEYS.join(", ")
          })`,
          { location: where.of(pair.key as Node) },
        );
      }
      const text = scalarString(node);
      if (text === null) {
        throw new InputError(`'${name}' in an 'eventfilters' entry must be a string`, {
          location: valueAt,
        });
      }
      if (name === "actor" || name === "service") {
        compileNameRegex(text, { what: name, location: valueAt });
      }
      filter[name as (typeof EVENT_FILTER_KEYS)[number]] = text;
    }
    filters.push({ filter, location: at });
  }
  return filters;
}

/** A scalar's value as it is, or undefined when the node is not a scalar. */
function plainScalar(node: Node | null): unknown {
  if (node === null) return null;
  return isScalar(node) ? node.value : undefined;
}

/** A scalar string or number as text; null for anything else. */
function scalarString(node: Node | null): string | null {
  const value = plainScalar(node);
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return null;
}
