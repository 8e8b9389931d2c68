/**
 * Actor configuration (docs/hrd.md): `actor.hrd` of v8.1 (`recurring.<action>`, `flists.<name>`,
 * `event.*` / `events.*`) and `actor.yaml`, which says the same in YAML plus per-action settings.
 *
 * @module
 */
import { isMap, isScalar, isSeq, LineCounter, type Node } from "yaml";
import * as z from "zod/mini";
import { InputError, type SourceLocation } from "../errors.ts";
import { parseYaml } from "../yaml/mod.ts";
import type { ActionSettings, ActorConfig, RecurringSpec } from "../model/mod.ts";
import { type HrdEntry, type HrdReadOptions, readHrd, splitHrdDict } from "./hrd.ts";
import { parsePeriod } from "./period.ts";
import { parseMemorySize } from "./memory_size.ts";

/** An empty configuration: no recurring actions, no per-action settings. */
export function emptyActorConfig(): ActorConfig {
  return { recurring: {}, actions: {}, flists: {}, events: {} };
}

/**
 * The error of `__proto__` as an action or entry name: JavaScript objects cannot hold it as a
 * plain key (assigning it replaces the object's prototype), so it would vanish silently.
 */
function protoKeyError(section: string, location: SourceLocation): InputError {
  return new InputError(
    `${section}: "__proto__" cannot be the name of an action or an entry`,
    { location },
  );
}

const TRUE_WORDS = new Set(["true", "yes", "1"]);
const FALSE_WORDS = new Set(["false", "no", "0"]);

function hrdBool(text: string, what: string, location: SourceLocation): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new InputError(`${what}: expected True or False, found ${JSON.stringify(text)}`, {
    location,
  });
}

function hrdRecurring(entry: HrdEntry, action: string): RecurringSpec {
  const what = entry.key;
  if (!/:/.test(entry.raw) || entry.quoted) {
    // `recurring.monitor = 5m`: only a period.
    return {
      period: parsePeriod(entry.value, { what, location: entry.valueLocation }),
      log: false,
    };
  }
  let period: number | undefined;
  let log = false;
  for (const pair of splitHrdDict(entry)) {
    const key = pair.key.toLowerCase();
    if (key === "period") {
      period = parsePeriod(pair.value.text, {
        what: `${what} period`,
        location: pair.value.location,
      });
    } else if (key === "log") {
      log = hrdBool(pair.value.text, `${what} log`, pair.value.location);
    } else {
      throw new InputError(`${what}: unknown setting "${pair.key}" (expected period, log)`, {
        location: pair.keyLocation,
      });
    }
  }
  if (period === undefined) {
    throw new InputError(`${what}: no period for recurring action "${action}"`, {
      location: entry.valueLocation,
    });
  }
  return { period, log };
}

/** The key prefixes of `actor.hrd` that name an action, a flist or an event. */
const HRD_SECTIONS: ReadonlySet<string> = new Set(["recurring", "flists", "event", "events"]);

/**
 * Reads a v8.1 `actor.hrd`: `recurring.<action> = period: 1m, log: True,` (the value may go on
 * indented lines, or be a bare period), `flists.<name> = …`, `event.<name> = …` and
 * `events.<name> = …`. Throws {@link InputError} with file, line and column for any other key,
 * a key given twice, a bad period or a `log` that is not a boolean.
 */
export function readActorHrd(
  text: string | Uint8Array,
  options: HrdReadOptions = {},
): ActorConfig {
  const config = emptyActorConfig();
  const seen = new Map<string, HrdEntry>();
  for (const entry of readHrd(text, options)) {
    const earlier = seen.get(entry.key);
    if (earlier) {
      throw new InputError(
        `"${entry.key}" is given twice (first at line ${earlier.location.line})`,
        {
          location: entry.location,
        },
      );
    }
    seen.set(entry.key, entry);
    const dot = entry.key.indexOf(".");
    const prefix = dot === -1 ? entry.key : entry.key.slice(0, dot);
    const name = dot === -1 ? "" : entry.key.slice(dot + 1);
    if (name === "__proto__" && HRD_SECTIONS.has(prefix)) {
      throw protoKeyError(prefix, entry.location);
    }
    if (name !== "" && prefix === "recurring") {
      config.recurring[name] = hrdRecurring(entry, name);
    } else if (name !== "" && prefix === "flists") {
      config.flists[name] = entry.value;
    } else if (name !== "" && (prefix === "event" || prefix === "events")) {
      config.events[name] = entry.value;
    } else {
      throw new InputError(
        `unknown actor setting "${entry.key}" (expected recurring.<action>, flists.<name>, ` +
          `event.<name> or events.<name>)`,
        { location: entry.location },
      );
    }
  }
  return config;
}

// ---- actor.yaml ----

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const expected = (what: string) => ({
  error: (iss: { input?: unknown }) => `expected ${what}, got ${kindOf(iss.input)}`,
});

/** A period (number or text) turned into seconds; `positive` rejects 0. */
function periodSchema(positive: boolean) {
  return z.pipe(
    z.union([z.number(), z.string()], expected("a period such as 90, 90s, 5m or 1h30m")),
    z.transform((v: number | string, ctx) => {
      try {
        const seconds = parsePeriod(v);
        if (positive && seconds === 0) {
          ctx.issues.push({ code: "custom", input: v, message: "must be more than 0" });
          return z.NEVER;
        }
        return seconds;
      } catch (error) {
        ctx.issues.push({ code: "custom", input: v, message: (error as Error).message });
        return z.NEVER;
      }
    }),
  );
}

/** A memory size (bytes or text such as 512M) turned into bytes. */
const memorySchema = z.pipe(
  z.union([z.number(), z.string()], expected("a memory size such as 512M or 2G")),
  z.transform((v: number | string, ctx) => {
    try {
      return parseMemorySize(v);
    } catch (error) {
      ctx.issues.push({ code: "custom", input: v, message: (error as Error).message });
      return z.NEVER;
    }
  }),
);

const scalarText = z.pipe(
  z.union([z.string(), z.number(), z.boolean()], expected("text")),
  z.transform((v: string | number | boolean) => String(v)),
);

// A bare period is the short form of `{ period }`; turning it into that form first gives
// errors about the object form a precise path (`recurring.monitor.period`).
const recurringSchema = z.pipe(
  z.transform((v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? v : { period: v }
  ),
  z.strictObject({
    period: periodSchema(false),
    log: z.optional(z.boolean(expected("true or false"))),
  }),
);

// A comma-separated string is the short form of a list (`deps: init, install`).
const depsSchema = z.pipe(
  z.transform((v: unknown) =>
    typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v
  ),
  z.array(z.string(expected("an action name")), expected("a list of actions")),
);

const actionSchema = z.pipe(
  z.transform((v: unknown) => (v === null ? {} : v)),
  z.strictObject({
    timeout: z.optional(periodSchema(true)),
    retries: z.optional(
      z.int(expected("a whole number")).check(
        z.refine((n) => n >= 0, { error: "must be 0 or more" }),
      ),
    ),
    retryDelay: z.optional(periodSchema(false)),
    deps: z.optional(depsSchema),
    producers: z.optional(z.boolean(expected("true or false"))),
    isolation: z.optional(z.enum(["pool", "job", "process"], expected("pool, job or process"))),
    memory: z.optional(memorySchema),
  }, expected("a mapping of action settings")).check(
    // Only a process of its own can be limited (docs/runs.md, "Memory limits").
    z.refine(
      (s) => s.memory === undefined || s.isolation === undefined || s.isolation === "process",
      {
        error: "memory needs isolation: process (a worker thread cannot be limited)",
        path: ["memory"],
      },
    ),
  ),
);

const mapping = <T extends z.core.SomeType>(value: T) =>
  z.optional(z.nullable(z.record(z.string(), value, expected("a mapping"))));

const actorYamlSchema = z.strictObject({
  recurring: mapping(recurringSchema),
  actions: mapping(actionSchema),
  flists: mapping(scalarText),
  events: mapping(scalarText),
  event: mapping(scalarText),
  executor: z.optional(z.literal("local", expected("local"))),
  // The fleet label (docs/fleet.md): a name that goes into Redis keys.
  worker: z.optional(
    z.string(expected("a worker label")).check(
      z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
        error: "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'",
      }),
    ),
  ),
}, expected("a mapping with recurring, actions, flists, events, executor, worker"));

/** The top-level keys whose values map names (of actions, flists, events) to settings. */
const SECTIONS = ["recurring", "actions", "flists", "events", "event"] as const;

/** The node at `path` under `root`, or the key node of its last step when `wantKey`. */
function nodeAt(root: unknown, path: readonly PropertyKey[], wantKey = false): Node | undefined {
  let node = root as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return node;
      const last = i === path.length - 1;
      if (last && wantKey) return pair.key as Node;
      node = (pair.value ?? pair.key) as Node;
    } else if (isSeq(node)) {
      const item = node.items[Number(step)];
      if (!item) return node;
      node = item as Node;
    } else {
      return node;
    }
  }
  return node;
}

/**
 * Reads `actor.yaml` (docs/hrd.md):
 *
 * ```yaml
 * recurring:
 *   monitor: { period: 5m, log: true }
 * actions:
 *   install: { timeout: 10m, retries: 2, retryDelay: 5s, deps: [init] }
 *   backup:  { timeout: 2h, producers: true }
 * ```
 *
 * plus `flists:` and `events:` mappings and `worker: LABEL` (docs/fleet.md). Only the settings given appear in `actions` (defaults
 * are the scheduler's). Throws {@link InputError} with file, line and column at the offending
 * key or value.
 */
export function readActorYaml(text: string, options: HrdReadOptions = {}): ActorConfig {
  const file = options.file ?? "<actor.yaml>";
  const lineCounter = new LineCounter();
  const yaml = parseYaml(text, { file, keepSourceTokens: true, lineCounter });
  const doc = yaml.doc;
  const locate = (path: readonly PropertyKey[], wantKey = false): SourceLocation => {
    const node = nodeAt(doc.contents, path, wantKey);
    const offset = node?.range?.[0];
    if (offset === undefined) return { file, line: 1, column: 1 };
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  const raw = yaml.data.toJS() ?? {};
  for (const section of SECTIONS) {
    const map = typeof raw === "object" && Object.hasOwn(raw, section)
      ? (raw as Record<string, unknown>)[section]
      : undefined;
    if (typeof map === "object" && map !== null && Object.hasOwn(map, "__proto__")) {
      throw protoKeyError(section, locate([section, "__proto__"], true));
    }
  }
  const result = z.safeParse(actorYamlSchema, raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      const key = issue.keys[0];
      const where = path.length > 0 ? `${path.join(".")}: ` : "";
      throw new InputError(`${where}unknown setting "${key}"`, {
        location: locate([...path, key], true),
      });
    }
    const where = path.length > 0 ? `${path.join(".")}: ` : "";
    throw new InputError(`${where}${issue.message}`, { location: locate(path) });
  }
  const parsed = result.data;
  const config = emptyActorConfig();
  for (const [action, spec] of Object.entries(parsed.recurring ?? {})) {
    config.recurring[action] = { period: spec.period, log: spec.log ?? false };
  }
  for (const [action, settings] of Object.entries(parsed.actions ?? {})) {
    const out: Partial<ActionSettings> = {};
    for (const [key, value] of Object.entries(settings)) {
      if (value !== undefined) (out as Record<string, unknown>)[key] = value;
    }
    config.actions[action] = out;
  }
  Object.assign(config.flists, parsed.flists ?? {});
  Object.assign(config.events, parsed.event ?? {}, parsed.events ?? {});
  if (parsed.executor === "local") config.executor = "local";
  if (parsed.worker !== undefined) config.worker = parsed.worker;
  return config;
}
