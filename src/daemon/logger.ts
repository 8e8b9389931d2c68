/**
 * The daemon's log: one line per event on standard output, readable text on a terminal or JSON
 * lines (`--log-format json`) for log collectors. Secrets never reach a line: fields named like
 * credentials are masked, and every string goes through the one secret masker (`maskText` of
 * `model/secrets.ts`): passwords in URLs, and the values the caller declares secret (the API
 * token), wherever they appear.
 *
 * @module
 */
import { MASK, maskText } from "../model/mod.ts";

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `text`: `TIME LEVEL msg key=value…`; `json`: `{"time","level","msg",...fields}`. */
export type LogFormat = "text" | "json";

/** Extra data of a log line; values are printed as JSON. */
export type LogFields = Record<string, unknown>;

/** The daemon's logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Default `text`. */
  format?: LogFormat;
  /**
   * Where each finished line (with its newline) goes. Required: the core never prints, so
   * the caller decides (the CLI passes its stdout).
   */
  write: (line: string) => void;
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Values replaced by `***` wherever they appear (the API token, store passwords). */
  secrets?: string[];
  /** Colour the level in text format (a terminal without `NO_COLOR`). */
  color?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const COLORS: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
/** Field names whose values are credentials whatever they hold. */
const SECRET_FIELD = /token|password|passwd|secret|authorization|credential|apikey|api_key/i;

/** A copy of `value` with credential-named fields and secret strings masked, depth-bounded. */
function scrub(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return maskText(value, secrets);
  if (value instanceof Error) {
    return { name: value.name, message: maskText(value.message, secrets) };
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > 5) return "[…]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) && item !== null && item !== undefined
      ? MASK
      : scrub(item, secrets, depth + 1);
  }
  return out;
}

/** `key=value` with the value bare when it is a simple word, JSON otherwise. */
function textField(key: string, value: unknown): string {
  if (typeof value === "string" && /^[\w.:/@!+-]+$/.test(value)) return `${key}=${value}`;
  if (typeof value === "number" || typeof value === "boolean") return `${key}=${value}`;
  return `${key}=${JSON.stringify(value) ?? "undefined"}`;
}

/** Makes a logger writing finished lines to `options.write`. */
export function createLogger(options: LoggerOptions): Logger {
  const format = options.format ?? "text";
  const write = options.write;
  const threshold = LEVELS[options.level ?? "info"];
  const secrets = options.secrets ?? [];
  const now = options.now ?? (() => new Date());
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LEVELS[level] < threshold) return;
    const time = now().toISOString();
    const clean = scrub(fields, secrets, 0) as LogFields;
    const message = maskText(msg, secrets);
    if (format === "json") {
      write(JSON.stringify({ time, level, msg: message, ...clean }) + "\n");
      return;
    }
    const label = level.toUpperCase().padEnd(5);
    const shown = options.color ? `${COLORS[level]}${label}\x1b[0m` : label;
    const extra = Object.entries(clean)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => textField(key, value));
    write([time, shown, message, ...extra].join(" ") + "\n");
  };
  return {
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
