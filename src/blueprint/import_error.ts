/**
 * Where the import of an actions file failed (docs/blueprints.md#checking-actions-files): the
 * runtimes report a syntax error or a missing module each in their own shape, and this turns
 * any of them into one message with a `file:line:column`. Shared by the host and
 * `workers/actions_check_worker.ts`, which imports this module alone.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** A place in a file, 1-based (the shape of `SourceLocation` in src/errors.ts). */
export interface ImportErrorLocation {
  file: string;
  line: number;
  column: number;
}

/** An import failure as one line of text and, when it can be found, its place. */
export interface LocatedImportError {
  message: string;
  location?: ImportErrorLocation;
}

/** Options of {@link locateImportError}. */
export interface LocateImportErrorOptions {
  /**
   * Reads a file's text, to find a missing module's specifier in the file that imports it
   * (Bun names the importing file but not the place); return undefined when unreadable.
   */
  readSource?: (path: string) => string | undefined;
}

// deno-lint-ignore no-control-regex -- ANSI colour codes are exactly what is removed
const ANSI = /\u001b\[[0-9;]*m/g;

function isRecord(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null;
}

function pathOf(file: string): string {
  return file.startsWith("file:") ? fileURLToPath(file) : file;
}

/** Bun's `BuildMessage.position` (1-based line, 1-based column). */
function bunPosition(value: unknown): ImportErrorLocation | undefined {
  if (!isRecord(value)) return undefined;
  const position = value.position;
  if (!isRecord(position)) return undefined;
  const { file, line, column } = position;
  if (typeof file !== "string" || typeof line !== "number" || typeof column !== "number") {
    return undefined;
  }
  return { file: pathOf(file), line, column: Math.max(1, column) };
}

/** The 1-based place of the first quoted `specifier` in `source`. */
function specifierPlace(source: string, specifier: string): { line: number; column: number } {
  for (const quote of ['"', "'", "`"]) {
    const index = source.indexOf(`${quote}${specifier}${quote}`);
    if (index === -1) continue;
    const before = source.slice(0, index).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }
  return { line: 1, column: 1 };
}

/** The first `at file:///…:L:C` (Deno) or `at /abs/path:L:C` in a message or stack. */
function textPlace(text: string, file?: string): ImportErrorLocation | undefined {
  for (const m of text.matchAll(/(?:\(|\bat\s+)((?:file:\/\/)?\/[^\s():]+):(\d+):(\d+)/g)) {
    const path = pathOf(m[1]);
    if (file !== undefined && path !== file) continue;
    return { file: path, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/**
 * One message and place for an error thrown by `import(actionsFile)`: Bun's build errors
 * (one `BuildMessage` or an `AggregateError` of them), Bun's `ResolveMessage` (a missing module
 * or package, placed at its specifier in the importing file), Deno's errors (the place is in the
 * message), and errors thrown by the module's top level (the first stack frame in
 * `actionsPath`). Colour codes are removed; only the first line of the message is kept.
 */
export function locateImportError(
  error: unknown,
  actionsPath: string,
  options: LocateImportErrorOptions = {},
): LocatedImportError {
  const { readSource } = options;
  const firstLine = (text: string) => text.replace(ANSI, "").split("\n")[0].trim();
  if (!isRecord(error)) return { message: String(error) };
  const errors = Array.isArray(error.errors) ? error.errors : [];
  if (errors.length > 0) {
    const first = errors[0];
    const message = firstLine(String(isRecord(first) ? first.message : first));
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    return { message: `${message}${more}`, location: bunPosition(first) };
  }
  const raw = String(error.message ?? error);
  const message = firstLine(raw);
  const direct = bunPosition(error);
  if (direct) return { message, location: direct };
  if (typeof error.specifier === "string" && typeof error.referrer === "string") {
    const file = pathOf(error.referrer);
    const source = readSource?.(file);
    const place = source === undefined
      ? { line: 1, column: 1 }
      : specifierPlace(source, error.specifier);
    return { message, location: { file, ...place } };
  }
  const inMessage = textPlace(raw.replace(ANSI, ""));
  if (inMessage) return { message, location: inMessage };
  const stack = typeof error.stack === "string" ? error.stack.replace(ANSI, "") : "";
  return { message, location: textPlace(stack, actionsPath) };
}
