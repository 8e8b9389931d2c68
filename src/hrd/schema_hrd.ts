/**
 * The `schema.hrd` reader of docs/hrd.md: one field per line, `name = tags`, tags being
 * space-separated `key:value` pairs or bare labels in any order, keys case-insensitive.
 *
 * @module
 */
import { formatLocated, InputError, type SourceLocation } from "../errors.ts";
import {
  camelCase,
  checkFieldValue,
  type ConsumeSpec,
  type FieldSpec,
  type HrdType,
  hrdTypeOf,
  isNumericType,
  isoToEpochSeconds,
  isTextType,
  newFieldSpec,
  roleOf,
} from "../model/mod.ts";
import {
  type HrdEntry,
  type HrdItem,
  type HrdReadOptions,
  readHrd,
  splitHrdTokens,
  unquote,
} from "./hrd.ts";

/** What {@link readSchemaHrd} returns. */
export interface SchemaHrd {
  /** The fields in order of first appearance. */
  fields: FieldSpec[];
  /** `file:line:column: message` for each field defined more than once. */
  warnings: string[];
}

/** Tags that take a value (`key:value`). */
const VALUE_TAGS = new Set([
  "type",
  "default",
  "descr",
  "consume",
  "parent",
  "regex",
  "minval",
  "maxval",
  "singlechoice",
  "multichoice",
  "alias",
]);

/** Tags whose values name actors: the quotes of any quoted run in them are dropped. */
const LINK_TAGS = new Set(["consume", "parent"]);

/** `text` with the quotes of each `'…'` or `"…"` run removed (`'a':1` → `a:1`). */
function stripQuotedRuns(text: string): string {
  return text.replace(/'([^']*)'|"([^"]*)"/g, (_match, single, double) => single ?? double);
}

/** Bare labels; `parentauto` and `consumeauto` are v8.1's spellings of `auto`. */
const LABELS = new Set(["list", "auto", "parentauto", "consumeauto", "optional", "secret", "@ask"]);

/** Field names: a lowercase letter, then letters, digits, `_` and `.` (capnp needs the first). */
const NAME_RE = /^[a-z][A-Za-z0-9_.]*$/;

interface Tag {
  key: string;
  value: string;
  /** Where the tag (its key) starts. */
  location: SourceLocation;
}

/** One parsed line with the locations of its tags, for checks across fields. */
interface ParsedField {
  spec: FieldSpec;
  tags: Map<string, Tag>;
}

function fail(message: string, location: SourceLocation): never {
  throw new InputError(message, { location });
}

/** Splits a line's value into tags and labels, lower-casing keys; rejects repeats. */
function readTags(entry: HrdEntry): Map<string, Tag> {
  const tags = new Map<string, Tag>();
  for (const token of splitHrdTokens(entry)) {
    const tag = tagOf(token);
    if (tags.has(tag.key)) {
      fail(`tag "${tag.key}" given twice for field "${entry.key}"`, tag.location);
    }
    tags.set(tag.key, tag);
  }
  return tags;
}

function tagOf(token: HrdItem): Tag {
  const colon = token.raw.indexOf(":");
  const quote = token.raw.search(/['"]/);
  if (colon > 0 && (quote === -1 || quote > colon)) {
    const key = token.raw.slice(0, colon).toLowerCase();
    if (LABELS.has(key)) fail(`"${key}" is a label and takes no value`, token.location);
    if (!VALUE_TAGS.has(key)) fail(`unknown tag "${key}"`, token.location);
    const rest = token.raw.slice(colon + 1);
    // v8.1's tag parser dropped the quotes of every quoted run anywhere in a tag, so
    // `consume:'disk':0` is role disk, min 0 (docs/hrd.md); links are names, never prose.
    const value = LINK_TAGS.has(key) ? stripQuotedRuns(rest) : unquote(rest).text;
    return { key, value, location: token.location };
  }
  const label = token.text.toLowerCase();
  if (VALUE_TAGS.has(label)) fail(`tag "${label}" needs a value: ${label}:…`, token.location);
  if (!LABELS.has(label)) fail(`unknown label "${token.raw}"`, token.location);
  return { key: label, value: "", location: token.location };
}

/** Comma-separated items of a tag value, trimmed and unquoted; `[a, b]` brackets are allowed. */
function splitCommaList(text: string): string[] {
  let body = text.trim();
  if (body.startsWith("[") && body.endsWith("]")) body = body.slice(1, -1);
  const items: string[] = [];
  let current = "";
  let quote = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quote) {
      if (ch === quote) quote = "";
      current += ch;
    } else if ((ch === "'" || ch === '"') && current.trim() === "") {
      quote = ch;
      current += ch;
    } else if (ch === ",") {
      items.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  items.push(current);
  // Empty pieces (`a,,b`, a trailing comma) are dropped; a quoted empty string ('') is kept.
  return items.map((item) => item.trim()).filter((item) => item !== "").map((item) =>
    unquote(item).text
  );
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One item of a default (or bound) written as text, parsed per type; undefined when malformed. */
function parseItem(type: HrdType, text: string): { value: unknown } | undefined {
  const t = text.trim();
  switch (type) {
    case "int":
      return INT_RE.test(t) ? { value: Number(t) } : undefined;
    case "float":
      return FLOAT_RE.test(t) ? { value: Number(t) } : undefined;
    case "date":
      if (INT_RE.test(t)) return { value: Number(t) };
      return isoToEpochSeconds(t) === undefined ? undefined : { value: t };
    case "bool": {
      const word = t.toLowerCase();
      if (["true", "yes", "1"].includes(word)) return { value: true };
      if (["false", "no", "0"].includes(word)) return { value: false };
      return undefined;
    }
    case "dict": {
      if (t === "" || t === "{}") return { value: {} };
      try {
        const value = JSON.parse(t);
        return typeof value === "object" && value !== null && !Array.isArray(value)
          ? { value }
          : undefined;
      } catch {
        return undefined;
      }
    }
    case "multiline":
      return { value: text.replaceAll("\\n", "\n") };
    default:
      return { value: text };
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: "an integer",
  float: "a number",
  date: "epoch seconds or an ISO 8601 date",
  bool: "true or false",
  dict: "a JSON object",
};

function parseDefault(spec: FieldSpec, tag: Tag): unknown {
  const bad = (text: string): never =>
    fail(
      `default ${JSON.stringify(text)} of field "${spec.name}" is not ${
        TYPE_NAMES[spec.type] ?? spec.type
      }`,
      tag.location,
    );
  if (spec.list && spec.type === "dict") {
    // Commas belong to the JSON, so a dict list's default is a JSON array of objects.
    const text = tag.value.trim();
    if (text === "" || text === "[]") return [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return bad(text);
    }
    if (!Array.isArray(value)) return bad(text);
    return value;
  }
  if (spec.list) {
    return splitCommaList(tag.value).map((item) => parseItem(spec.type, item)?.value ?? bad(item));
  }
  if (tag.value.trim() === "" && !isTextType(spec.type) && spec.type !== "dict") {
    return bad(tag.value);
  }
  const parsed = parseItem(spec.type, tag.value);
  return parsed ? parsed.value : bad(tag.value);
}

function parseBound(spec: FieldSpec, tag: Tag): number {
  const parsed = parseItem(spec.type, tag.value);
  let value = parsed?.value;
  if (typeof value === "string") value = isoToEpochSeconds(value);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(
      `${tag.key} ${JSON.stringify(tag.value)} of field "${spec.name}" is not ${
        TYPE_NAMES[spec.type] ?? spec.type
      }`,
      tag.location,
    );
  }
  return value;
}

/**
 * `consume:` items are `actor[:min[:max]]`; a dotted actor name links to its role, the part
 * before the first dot, as v8.1 did (`os.ssh.ubuntu` → `os`).
 */
function parseConsume(tag: Tag): ConsumeSpec {
  const roles: string[] = [];
  const actors: string[] = [];
  let counts: { min: number; max: number } | undefined;
  for (const item of tag.value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const parts = item.split(":");
    if (parts.length > 3 || !/^[^\s:,'"]+$/.test(parts[0])) {
      fail(`consume expects role[:min[:max]], found ${JSON.stringify(item)}`, tag.location);
    }
    for (const n of parts.slice(1)) {
      if (!/^\d+$/.test(n)) {
        fail(`consume count ${JSON.stringify(n)} is not a whole number`, tag.location);
      }
    }
    const role = roleOf(parts[0]);
    if (role === "") {
      fail(`consume expects role[:min[:max]], found ${JSON.stringify(item)}`, tag.location);
    }
    if (!roles.includes(role)) {
      roles.push(role);
      actors.push(parts[0]);
    }
    if (parts.length > 1) {
      const min = Number(parts[1]);
      const max = parts.length > 2 ? Number(parts[2]) : 100;
      if (min > max) fail(`consume min ${min} is above max ${max}`, tag.location);
      if (counts && (counts.min !== min || counts.max !== max)) {
        fail(`consume gives different counts for its roles; one min/max covers all`, tag.location);
      }
      counts = { min, max };
    }
  }
  if (roles.length === 0) fail("consume needs a role", tag.location);
  const spec: ConsumeSpec = { roles, min: counts?.min ?? 0, max: counts?.max ?? 100 };
  if (actors.some((actor, i) => actor !== roles[i])) spec.actors = actors;
  return spec;
}

function parseField(entry: HrdEntry): ParsedField {
  const name = entry.key;
  if (!NAME_RE.test(name)) {
    fail(
      `field name "${name}" must start with a lowercase letter and hold only letters, digits, ` +
        `"_" and "."`,
      entry.location,
    );
  }
  const tags = readTags(entry);
  const tag = (key: string) => tags.get(key);
  const has = (key: string) => tags.has(key);

  let type: HrdType = "str";
  let list = has("list");
  const typeTag = tag("type");
  if (typeTag) {
    const spelled = typeTag.value.trim().toLowerCase();
    if (spelled === "list") {
      list = true; // v8.1 wrote a list of strings as `type:list`
    } else {
      const known = hrdTypeOf(spelled);
      if (!known) fail(`unknown type "${typeTag.value}" for field "${name}"`, typeTag.location);
      type = known;
    }
  } else if (has("minval") || has("maxval")) {
    type = "int";
  }
  if (has("multichoice")) list = true;

  const spec = newFieldSpec(name, {
    type,
    list,
    auto: has("auto") || has("parentauto") || has("consumeauto"),
    optional: has("optional"),
    secret: has("secret") || type === "password",
    ask: has("@ask"),
    location: entry.location,
  });

  const descr = tag("descr");
  if (descr) spec.description = descr.value.replaceAll("__", " ").replaceAll("\\n", "\n");

  const consume = tag("consume");
  if (consume) spec.consume = parseConsume(consume);

  const parent = tag("parent");
  if (parent) {
    const role = parent.value.trim();
    if (!/^[^\s:,'"]+$/.test(role)) {
      fail(`parent expects one role, found "${role}"`, parent.location);
    }
    spec.parent = roleOf(role);
    if (spec.parent === "") fail(`parent expects one role, found "${role}"`, parent.location);
    if (spec.parent !== role) spec.parentActor = role;
  }

  const regex = tag("regex");
  if (regex) {
    if (!isTextType(type)) fail(`regex needs a text type, not ${type}`, regex.location);
    try {
      new RegExp(`^(?:${regex.value})$`);
    } catch (error) {
      fail(
        `regex ${JSON.stringify(regex.value)} does not compile: ${(error as Error).message}`,
        regex.location,
      );
    }
    spec.regex = regex.value;
  }

  for (const key of ["minval", "maxval"] as const) {
    const bound = tag(key);
    if (!bound) continue;
    if (!isNumericType(type)) {
      fail(`${key} needs type int, float or date, not ${type}`, bound.location);
    }
    spec[key] = parseBound(spec, bound);
  }
  if (spec.minval !== undefined && spec.maxval !== undefined && spec.minval > spec.maxval) {
    fail(`minval ${spec.minval} is above maxval ${spec.maxval}`, tags.get("minval")!.location);
  }

  const single = tag("singlechoice");
  const multi = tag("multichoice");
  if (single && multi) fail("a field takes singlechoice or multichoice, not both", multi.location);
  for (const choice of [single, multi]) {
    if (!choice) continue;
    if (!isTextType(type)) fail(`${choice.key} needs a text type, not ${type}`, choice.location);
    const items = splitCommaList(choice.value);
    if (items.length === 0) fail(`${choice.key} needs at least one choice`, choice.location);
    spec[choice.key as "singlechoice" | "multichoice"] = items;
  }

  const alias = tag("alias");
  if (alias) {
    for (const a of splitCommaList(alias.value)) {
      if (!/^[A-Za-z][A-Za-z0-9_.]*$/.test(a)) {
        fail(`alias "${a}" is not a field name`, alias.location);
      }
      spec.aliases.push(a);
    }
  }

  const def = tag("default");
  if (def) {
    const parsed = parseDefault(spec, def);
    const check = checkFieldValue(spec, parsed);
    if (!check.ok) fail(`default of field "${name}": ${check.message}`, def.location);
    spec.default = check.value;
  }
  return { spec, tags };
}

/**
 * Checks across fields: names and aliases that each lead to one field. A service has one
 * parent: of several `parent:` fields the first wins and the others become plain text fields,
 * with a warning naming both lines (v8.1 accepted them and picked one by dict order).
 */
function checkAcrossFields(parsed: ParsedField[], warnings: string[]): void {
  const parents = parsed.filter((p) => p.spec.parent !== undefined);
  for (const other of parents.slice(1)) {
    const first = parents[0];
    const at = other.tags.get("parent")!.location;
    warnings.push(formatLocated(
      `field "${other.spec.name}" names a second parent (role ${other.spec.parent}); ` +
        `"${first.spec.name}" at line ${first.spec.location?.line} already names one ` +
        `(role ${first.spec.parent}), so "${other.spec.name}" is a plain text field`,
      at,
    ));
    delete other.spec.parent;
    delete other.spec.parentActor;
  }
  const owner = new Map<string, FieldSpec>();
  for (const { spec } of parsed) {
    owner.set(spec.name, spec);
    owner.set(spec.camelName, spec);
  }
  for (const { spec, tags } of parsed) {
    for (const alias of spec.aliases) {
      for (const spelling of [alias, camelCase(alias)]) {
        const other = owner.get(spelling);
        if (other && other !== spec) {
          fail(
            `alias "${alias}" of field "${spec.name}" is also the name of field "${other.name}"`,
            tags.get("alias")!.location,
          );
        }
        owner.set(spelling, spec);
      }
    }
  }
}

/**
 * Reads a `schema.hrd` into field specs (docs/hrd.md) in order of first appearance. A field
 * defined twice (the same camelCase name) keeps its first position and name and takes the
 * later line's tags, with a warning. Throws {@link InputError} at the offending tag for unknown
 * tags, labels or types, malformed values, regexes that do not compile, explicit defaults that
 * break the field's own constraints, and aliases that collide with other fields. A second
 * `parent:` field is a warning and a plain field.
 */
export function readSchemaHrd(
  text: string | Uint8Array,
  options: HrdReadOptions = {},
): SchemaHrd {
  const parsed: ParsedField[] = [];
  const byCamel = new Map<string, number>();
  const warnings: string[] = [];
  for (const entry of readHrd(text, options)) {
    const field = parseField(entry);
    const at = byCamel.get(field.spec.camelName);
    if (at === undefined) {
      byCamel.set(field.spec.camelName, parsed.length);
      parsed.push(field);
      continue;
    }
    const first = parsed[at].spec;
    warnings.push(formatLocated(
      `field "${entry.key}" is defined again (first as "${first.name}" at line ` +
        `${first.location?.line}); it keeps its first position and takes these tags`,
      entry.location,
    ));
    field.spec.name = first.name;
    parsed[at] = field;
  }
  checkAcrossFields(parsed, warnings);
  return { fields: parsed.map((p) => p.spec), warnings };
}
