/**
 * Validation of service data against an actor's field specs (docs/hrd.md, docs/blueprints.md): types, lists,
 * `regex`, `minval`/`maxval`, `singlechoice`/`multichoice` and the formats of the JumpScale
 * types, with defaults applied. The checks are zod (mini) schemas derived from the specs.
 *
 * Values are not converted between YAML types: `"22"` for an `int` is an error, as is `22` for
 * a `str`. The exceptions are documented in docs/hrd.md: `ipport` takes a number or a digit
 * string and stores the digits as text, `date` takes ISO 8601 text and stores epoch seconds, a
 * list field takes a single value as a one-item list, and `null` means "not given".
 *
 * @module
 */
import * as z from "zod/mini";
import { InputError, type SourceLocation } from "../errors.ts";
import type { FieldSpec, HrdType } from "./field_spec.ts";
import { defaultValue, resolveField, zeroValue } from "./fields.ts";

// They lived here; `storable.ts` keeps them apart from the schema library.
export { fromStorable, toStorable } from "./storable.ts";

/** Options of {@link validateData}. */
export interface ValidateOptions {
  /** File the data comes from; put on errors. */
  file?: string;
  /** Where the value of an input key is written; put on errors about that key. */
  locate?: (key: string) => { line?: number; column?: number } | undefined;
  /**
   * Validate only the keys given and return only those (for changes to existing data); absent
   * fields do not get defaults.
   */
  partial?: boolean;
}

/** Result of {@link checkFieldValue}. */
export type FieldCheck = { ok: true; value: unknown } | { ok: false; message: string };

const TYPE_WORDS: Readonly<Record<HrdType, string>> = {
  str: "a string",
  multiline: "a string",
  email: "an email address",
  tel: "a telephone number (text)",
  ipaddr: "an IP address",
  ipaddress: "an IP address",
  ipport: "a port number",
  path: "a path (text)",
  guid: "a GUID",
  password: "a string",
  int: "an integer",
  date: "a date (epoch seconds or ISO 8601 text)",
  float: "a number",
  bool: "true or false",
  dict: "a mapping",
};

/** How a value is shown in an error: secret values never are. */
function show(field: FieldSpec, value: unknown): string {
  if (field.secret) return "the value";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** A value's YAML kind and, unless secret, the value: `string "22"`, `a list`. */
function describe(field: FieldSpec, value: unknown): string {
  const kind = kindOf(value);
  if (kind === "list" || kind === "mapping") return `a ${kind}`;
  if (kind === "null" || kind === "undefined") return kind;
  return field.secret ? `a ${kind}` : `${kind} ${show(field, value)}`;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "mapping";
  return typeof value;
}

const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const GUID_RE =
  /^[0-9a-fA-F]{8}[-:][0-9a-fA-F]{4}[-:][0-9a-fA-F]{4}[-:][0-9a-fA-F]{4}[-:][0-9a-fA-F]{12}$/;
const IPV4_PART = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_RE = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An IPv4 dotted quad or an IPv6 address (checked by the URL parser). */
export function isIpAddress(text: string): boolean {
  if (IPV4_RE.test(text)) return true;
  if (!text.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Epoch seconds of ISO 8601 text (`2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01 10:00+02:00`);
 * text without a zone is UTC. Undefined when the text is not such a date or names a day that
 * does not exist.
 */
export function isoToEpochSeconds(text: string): number | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1) return undefined;
  if (check.getUTCDate() !== day) return undefined;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) {
    return undefined;
  }
  let iso = text.trim().replace(" ", "T");
  if (m[4] !== undefined && m[7] === undefined) iso += "Z";
  iso = iso.replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const millis = Date.parse(iso);
  return Number.isNaN(millis) ? undefined : Math.floor(millis / 1000);
}

type Schema = z.ZodMiniType<unknown, unknown>;

/** The zod schema of one value of the field's type, before constraints. */
function typeSchema(field: FieldSpec): Schema {
  const expected = (iss: { input?: unknown }) =>
    `expected ${TYPE_WORDS[field.type]}, got ${describe(field, iss.input)}`;
  switch (field.type) {
    case "int":
      return z.pipe(
        z.transform((v: unknown) =>
          typeof v === "bigint" && Number.isSafeInteger(Number(v)) ? Number(v) : v
        ),
        z.number({
          error: (iss) =>
            typeof iss.input === "bigint"
              ? `${iss.input} does not fit a safe integer (±2^53-1)`
              : expected(iss),
        }).check(
          z.refine(Number.isInteger, { error: expected }),
          z.refine(Number.isSafeInteger, {
            error: (iss) => `${show(field, iss.input)} does not fit a safe integer (±2^53-1)`,
          }),
        ),
      ) as Schema;
    case "float":
      return z.number({ error: expected }).check(
        z.refine(Number.isFinite, { error: expected }),
      ) as Schema;
    case "bool":
      return z.boolean({ error: expected }) as Schema;
    case "date":
      return z.pipe(
        z.union([z.number(), z.string(), z.date()], { error: expected }),
        z.transform((v: number | string | Date, ctx) => {
          if (typeof v === "number") {
            if (Number.isSafeInteger(v)) return v;
          } else if (v instanceof Date) {
            if (!Number.isNaN(v.getTime())) return Math.floor(v.getTime() / 1000);
          } else if (v === "") {
            return 0;
          } else {
            const seconds = isoToEpochSeconds(v);
            if (seconds !== undefined) return seconds;
          }
          ctx.issues.push({ code: "custom", input: v, message: expected({ input: v }) });
          return z.NEVER;
        }),
      ) as Schema;
    case "dict":
      return z.custom<Record<string, unknown>>(
        (v) => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date),
        { error: expected },
      ) as Schema;
    case "ipport":
      return z.pipe(
        z.union([z.number(), z.string()], { error: expected }),
        z.transform((v: number | string, ctx) => {
          if (v === "") return "";
          const port = typeof v === "number" ? v : /^\d+$/.test(v) ? Number(v) : NaN;
          if (Number.isInteger(port) && port >= 1 && port <= 65535) return String(port);
          ctx.issues.push({
            code: "custom",
            input: v,
            message: `${show(field, v)} is not a port number (1-65535)`,
          });
          return z.NEVER;
        }),
      ) as Schema;
    case "email":
      return z.string({ error: expected }).check(
        z.refine((v) => v === "" || EMAIL_RE.test(v), {
          error: (iss) => `${show(field, iss.input)} is not an email address`,
        }),
      ) as Schema;
    default:
      break;
  }
  const text = z.string({ error: expected });
  if (field.type === "ipaddr" || field.type === "ipaddress") {
    return text.check(
      z.refine((v) => v === "" || isIpAddress(v), {
        error: (iss) => `${show(field, iss.input)} is not an IP address`,
      }),
    ) as Schema;
  }
  if (field.type === "guid") {
    return text.check(
      z.refine((v) => v === "" || GUID_RE.test(v), {
        error: (iss) => `${show(field, iss.input)} is not a GUID`,
      }),
    ) as Schema;
  }
  return text as Schema;
}

/** The constraint checks of the field (regex, minval/maxval, choices) on one value. */
function constraintChecks(field: FieldSpec): Schema {
  const checks: Array<z.core.$ZodCheck<unknown>> = [];
  if (field.regex !== undefined) {
    const re = new RegExp(`^(?:${field.regex})$`);
    checks.push(z.refine((v) => typeof v !== "string" || re.test(v), {
      error: (iss) => `${show(field, iss.input)} does not match regex ${field.regex}`,
    }));
  }
  if (field.minval !== undefined) {
    const min = field.minval;
    checks.push(z.refine((v) => typeof v !== "number" || v >= min, {
      error: (iss) => `${show(field, iss.input)} is below minval ${min}`,
    }));
  }
  if (field.maxval !== undefined) {
    const max = field.maxval;
    checks.push(z.refine((v) => typeof v !== "number" || v <= max, {
      error: (iss) => `${show(field, iss.input)} is above maxval ${max}`,
    }));
  }
  const choices = field.singlechoice ?? field.multichoice;
  if (choices !== undefined) {
    const rule = field.singlechoice ? "singlechoice" : "multichoice";
    checks.push(z.refine((v) => choices.some((c) => c === v), {
      error: (iss) => `${show(field, iss.input)} is not one of ${choices.join(", ")} (${rule})`,
    }));
  }
  return (checks.length === 0 ? z.unknown() : z.unknown().check(...checks)) as Schema;
}

const schemas = new WeakMap<FieldSpec, Schema>();

/** The zod schema of a whole field value (a list of items for a `list` field), cached per spec. */
export function fieldSchema(field: FieldSpec): Schema {
  const cached = schemas.get(field);
  if (cached) return cached;
  const item = z.pipe(typeSchema(field), constraintChecks(field)) as Schema;
  let schema: Schema = item;
  if (field.list) {
    // A single value stands for a one-item list, as in v8.1 blueprints (`sshkey: main`).
    schema = z.pipe(
      z.transform((v: unknown) => (Array.isArray(v) ? v : [v])),
      z.array(item),
    ) as Schema;
  }
  schemas.set(field, schema);
  return schema;
}

/** Types whose valid values are any string, stored as given. */
const PLAIN_TEXT_TYPES: ReadonlySet<HrdType> = new Set([
  "str",
  "multiline",
  "password",
  "path",
  "tel",
]);

/**
 * A predicate that accepts, without zod, the values of one item that the field's zod schema
 * certainly accepts and stores unchanged; undefined when the field has none (a type that
 * converts, a regex or choices). Anything it does not accept goes through zod, which gives
 * the error or the converted value: the result is the same either way, only cheaper for the
 * common values (zod's safeParse was a quarter of a 10,000-service apply).
 */
function quickItemCheck(field: FieldSpec): ((v: unknown) => boolean) | undefined {
  if (field.regex !== undefined || field.singlechoice !== undefined) return undefined;
  if (field.multichoice !== undefined) return undefined;
  const { minval: min, maxval: max } = field;
  const inRange = (v: number) => (min === undefined || v >= min) && (max === undefined || v <= max);
  if (PLAIN_TEXT_TYPES.has(field.type)) return (v) => typeof v === "string";
  if (field.type === "int") return (v) => Number.isSafeInteger(v) && inRange(v as number);
  if (field.type === "float") return (v) => Number.isFinite(v) && inRange(v as number);
  if (field.type === "bool") return (v) => typeof v === "boolean";
  if (field.type === "ipaddr" || field.type === "ipaddress") {
    return (v) => typeof v === "string" && (v === "" || IPV4_RE.test(v));
  }
  return undefined;
}

const quickChecks = new WeakMap<FieldSpec, ((v: unknown) => boolean) | null>();

/** The value as {@link checkFieldValue} stores it when the quick check accepts it; else undefined. */
function quickAccept(field: FieldSpec, value: unknown): { value: unknown } | undefined {
  let check = quickChecks.get(field);
  if (check === undefined) {
    check = quickItemCheck(field) ?? null;
    quickChecks.set(field, check);
  }
  if (check === null) return undefined;
  if (!field.list) return check(value) ? { value } : undefined;
  // A list field: zod stores a new array of the items (a single item as a one-item list).
  if (!Array.isArray(value)) return check(value) ? { value: [value] } : undefined;
  for (const item of value) if (!check(item)) return undefined;
  return { value: [...value] };
}

/**
 * Checks one value against a field (type, format, constraints) and returns the value to store
 * (ISO dates become epoch seconds, ports become digit text), or the rule that failed. The
 * message does not name the field; a list item's message starts with its index (`[2]: …`).
 */
export function checkFieldValue(field: FieldSpec, value: unknown): FieldCheck {
  const quick = quickAccept(field, value);
  if (quick) return { ok: true, value: quick.value };
  const result = z.safeParse(fieldSchema(field), value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const index = issue.path.length > 0 ? `[${String(issue.path[0])}]: ` : "";
  return { ok: false, message: `${index}${issue.message}` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function isZeroValue(field: FieldSpec, value: unknown): boolean {
  const zero = zeroValue(field);
  if (Array.isArray(zero)) return Array.isArray(value) && value.length === 0;
  if (typeof zero === "object") return isPlainObject(value) && Object.keys(value).length === 0;
  return value === zero;
}

/**
 * Validates service data (a blueprint's attributes, JSON given to `ays schema --encode`) and
 * returns the full data object keyed by camelCase field name in schema order: absent fields take
 * their default or their type's zero value (`""`, `0`, `false`, `[]`, `{}`). Input keys may be
 * written any way {@link resolveField} accepts; `null` means "not given"; the zero value given
 * for a field without default is accepted as "not set" without constraint checks, so the result
 * validates again to itself. Throws
 * {@link InputError} naming the field and the rule (`sshPort: 70000 is above maxval 65535`) with
 * the location `options.locate` gives for the key. Secret values are never put in messages.
 */
export function validateData(
  fields: readonly FieldSpec[],
  input: unknown,
  options: ValidateOptions = {},
): Record<string, unknown> {
  const where = (key?: string): SourceLocation | undefined => {
    const pos = key === undefined ? undefined : options.locate?.(key);
    if (options.file === undefined && pos === undefined) return undefined;
    return { file: options.file ?? "<input>", ...pos };
  };
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) {
    throw new InputError(`expected a mapping of field values, got ${kindOf(input)}`, {
      location: where(),
    });
  }
  const given = new Map<FieldSpec, { key: string; value: unknown }>();
  for (const [key, value] of Object.entries(input)) {
    const field = resolveField(fields, key);
    if (!field) {
      const known = fields.map((f) => f.camelName).join(", ") || "none";
      throw new InputError(`unknown field "${key}" (fields: ${known})`, { location: where(key) });
    }
    const earlier = given.get(field);
    if (earlier) {
      throw new InputError(
        `"${earlier.key}" and "${key}" both set field ${field.camelName}`,
        { location: where(key) },
      );
    }
    given.set(field, { key, value });
  }
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    const entry = given.get(field);
    if (!entry) {
      if (!options.partial) data[field.camelName] = defaultValue(field);
      continue;
    }
    if (entry.value === null || entry.value === undefined) {
      data[field.camelName] = defaultValue(field);
      continue;
    }
    if (field.default === undefined && isZeroValue(field, entry.value)) {
      // The zero value of a field without default means "not set": accepting it keeps
      // validation idempotent (validated data validates again to itself).
      data[field.camelName] = zeroValue(field);
      continue;
    }
    const check = checkFieldValue(field, entry.value);
    if (!check.ok) {
      const sep = check.message.startsWith("[") ? "" : ": ";
      throw new InputError(`${field.camelName}${sep}${check.message}`, {
        location: where(entry.key),
      });
    }
    data[field.camelName] = check.value;
  }
  return data;
}

/** A copy of `data` with non-empty secret fields shown as `***` (docs/hrd.md). */
export function maskSecrets(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const field of fields) {
    if (!field.secret || !(field.camelName in data)) continue;
    const value = data[field.camelName];
    const empty = value === "" || value === undefined || value === null ||
      (Array.isArray(value) && value.length === 0);
    if (!empty) out[field.camelName] = "***";
  }
  return out;
}
