/**
 * The layering check of `docs/development.md`: reads every import of `src/` and `workers/` and
 * reports, as `file:line:column: message`,
 *
 * - a module importing a module of a higher layer (the order is {@link LAYERS});
 * - a cross-folder import that does not go through the folder's `mod.ts` (its face), except in
 *   the entry points (`workers/`, `src/main.ts`): an entry loads only the modules its job needs;
 * - a file importing its own folder's `mod.ts` (the face is for other folders; inside a folder
 *   it would only make cycles);
 * - a folder or top-level file of `src/` the layer table does not know (add it to the table and
 *   to `docs/development.md`).
 *
 * `bun scripts/check_layers.ts [ROOT]` prints the findings and exits 1 if there are any
 * (`scripts/test.sh` runs it next to tsc, fmt and lint).
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The layers from the bottom up; a module may import its own layer and the layers below it.
 * A name ending in `.ts` is a top-level file of `src/`, any other name a folder of `src/`;
 * `workers` is the top-level `workers/` folder.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts", "runtime.ts", "version.ts", "digest.ts", "timers.ts"],
  ["model", "yaml"],
  ["hrd"],
  ["capnp"],
  ["store"],
  ["repo", "events", "executor"],
  ["blueprint"],
  ["run"],
  ["fleet"],
  ["daemon", "dashboard"],
  ["cli"],
  ["main.ts", "workers"],
];

/**
 * The entry points, which may import single modules past a folder's face: a worker entry loads
 * only what its job needs, and `main.ts` decides on a restart before it loads the CLI.
 */
const ENTRY_UNITS: ReadonlySet<string> = new Set(["workers", "main.ts"]);

/** One finding of {@link checkLayers}. */
export interface LayerViolation {
  /** The importing file, relative to the root, with `/` separators. */
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Options of {@link checkLayers}. */
export interface CheckLayersOptions {
  /** The layer order; default {@link LAYERS}. */
  layers?: readonly (readonly string[])[];
}

/** An import's specifier and where it is. */
interface ImportSite {
  specifier: string;
  line: number;
  column: number;
}

// `from "x"`, `import "x"`, `import("x")`, and `export … from "x"`; the group is the specifier.
const IMPORT_PATTERN = /\b(?:from|import)\s*\(?\s*"([^"]+)"/g;

/** Every relative import of `text`, with 1-based line and column of its specifier. */
function importsOf(text: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const match of text.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1];
    if (!specifier.startsWith(".")) continue;
    const at = match.index + match[0].lastIndexOf('"' + specifier);
    const lineStart = text.lastIndexOf("\n", at - 1) + 1;
    // Comments may quote code (JSDoc examples); a line that starts as a comment is not code.
    if (/^\s*(\*|\/\*|\/\/)/.test(text.slice(lineStart, at))) continue;
    const line = text.slice(0, at).split("\n").length;
    sites.push({ specifier, line, column: at - lineStart + 1 });
  }
  return sites;
}

/** `.ts` files below `dir`, relative to `root`, with `/` separators. */
function tsFiles(root: string, dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    const path = posix.join(dir, name);
    if (statSync(join(root, path)).isDirectory()) files.push(...tsFiles(root, path));
    else if (name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/**
 * The unit of the layer table a root-relative path belongs to: `workers`, a folder of `src/`,
 * a top-level file of `src/`, or null outside both.
 */
function unitOf(path: string): { unit: string; folder: string | null } | null {
  const parts = path.split("/");
  if (parts[0] === "workers") return { unit: "workers", folder: "workers" };
  if (parts[0] !== "src" || parts.length < 2) return null;
  if (parts.length === 2) return { unit: parts[1], folder: null };
  return { unit: parts[1], folder: `src/${parts[1]}` };
}

/** Finds every layering violation under `root`; an empty list means the tree is clean. */
export function checkLayers(root: string, options: CheckLayersOptions = {}): LayerViolation[] {
  const { layers = LAYERS } = options;
  if (typeof root !== "string" || root.length === 0) {
    throw new TypeError("checkLayers: root must be a folder path");
  }
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((name) => rank.set(name, i)));
  const violations: LayerViolation[] = [];
  const unknown = new Set<string>();
  for (const file of [...tsFiles(root, "src"), ...tsFiles(root, "workers")]) {
    const from = unitOf(file);
    if (!from) continue;
    if (!rank.has(from.unit)) {
      if (!unknown.has(from.unit)) {
        unknown.add(from.unit);
        violations.push({
          file,
          line: 1,
          column: 1,
          message: `"${from.unit}" has no layer: add it to the layer table`,
        });
      }
      continue;
    }
    const text = readFileSync(join(root, file), "utf8");
    for (const site of importsOf(text)) {
      const target = posix.normalize(posix.join(posix.dirname(file), site.specifier));
      const to = unitOf(target);
      if (!to || to.unit === from.unit && to.folder === from.folder) {
        if (to && from.folder && target === `${from.folder}/mod.ts` && file !== target) {
          violations.push({
            ...site,
            file,
            message: `imports its own folder's mod.ts: import ${posix.basename(target)}'s ` +
              "source module directly",
          });
        }
        continue;
      }
      const toRank = rank.get(to.unit);
      if (toRank === undefined) continue; // reported once for the unknown unit itself
      if (toRank > rank.get(from.unit)!) {
        violations.push({
          ...site,
          file,
          message: `${from.unit} (layer ${rank.get(from.unit)}) imports ${target} of ` +
            `${to.unit} (layer ${toRank}), a higher layer`,
        });
      }
      if (to.folder && !ENTRY_UNITS.has(from.unit) && target !== `${to.folder}/mod.ts`) {
        violations.push({
          ...site,
          file,
          message: `imports ${target} past its folder's face: import ${to.folder}/mod.ts`,
        });
      }
    }
  }
  return violations;
}

/** `file:line:column: message`, the way editors and terminals link to a place. */
export function formatViolation(violation: LayerViolation): string {
  return `${violation.file}:${violation.line}:${violation.column}: ${violation.message}`;
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const violations = checkLayers(root);
  for (const violation of violations) console.error(formatViolation(violation));
  const where = relative(process.cwd(), root).split(sep).join("/") || ".";
  if (violations.length > 0) {
    console.error(`check_layers: ${violations.length} violation(s) in ${where}`);
    process.exit(1);
  }
  console.error(`check_layers: ${where} keeps the layer order and the mod.ts faces`);
}
