/**
 * The offending source line under an error, with a caret under the column, as compilers
 * print it (docs/cli.md, "Errors"):
 *
 * ```text
 * ays: blueprints/1_web.yaml:2:3: unknown attribute 'prot' for actor 'redis' (did you mean 'port'?)
 *     2 |   prot: 1
 *       |   ^
 * ```
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { SourceLocation } from "../errors.ts";

/**
 * Renders line `location.line` of `text` with a caret under `location.column` (a tab before
 * the column is kept, so the caret lines up); `""` when the line does not exist.
 */
export function renderExcerpt(text: string, location: SourceLocation): string {
  const { line, column } = location;
  if (line === undefined || line < 1) return "";
  const lines = text.split(/\r?\n/);
  if (line > lines.length || (line === lines.length && lines[line - 1] === "")) return "";
  const source = lines[line - 1];
  const number = String(line);
  const gutter = " ".repeat(number.length);
  let out = `    ${number} | ${source}\n`;
  if (column !== undefined && column >= 1 && column <= source.length + 1) {
    const pad = source.slice(0, column - 1).replace(/[^\t]/g, " ");
    out += `    ${gutter} | ${pad}^\n`;
  }
  return out;
}

/**
 * The excerpt for an error's location, reading the file: an absolute path as it is, a relative
 * one (repository-relative, as errors name files) against `cwd` and each folder above it.
 * `""` when the file cannot be found or read — the excerpt is a help, never a second error.
 */
export function excerptFor(location: SourceLocation | undefined, cwd: string): string {
  if (!location || location.line === undefined) return "";
  const candidates: string[] = [];
  if (isAbsolute(location.file)) candidates.push(location.file);
  else {
    for (let dir = cwd;; dir = dirname(dir)) {
      candidates.push(join(dir, location.file));
      if (dirname(dir) === dir) break;
    }
  }
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    return renderExcerpt(text, location);
  }
  return "";
}
