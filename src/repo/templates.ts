/**
 * Finding actor templates (docs/repositories.md): under a repository's `actorTemplates/` and in the global
 * folders of `AYS_TEMPLATES`. A folder is a template when it holds a schema, an actions file or
 * an actor config; `_`/`.` folders are skipped; other folders are categories and may nest.
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InputError } from "../errors.ts";

/** Where a template was found. */
export type TemplateSource = "repo" | "global";

/** A template folder and the files it has (absolute paths, or null). */
export interface TemplateInfo {
  /** The folder's name, which is the actor's name, e.g. `node.ssh`. */
  name: string;
  /** Absolute path of the template folder. */
  path: string;
  source: TemplateSource;
  schemaHrd: string | null;
  /** Wins over `schemaHrd` when both exist (docs/capnp.md). */
  schemaCapnp: string | null;
  /** `actions.ts`, else `actions.js`. */
  actions: string | null;
  /** v8.1's `actions.py`, when there is no `actions.ts`/`actions.js` (an unported template). */
  actionsPy: string | null;
  /** `actor.yaml`, else `actor.hrd`. */
  actorConfig: string | null;
}

/** Options of {@link discoverTemplates}. */
export interface DiscoverOptions {
  /** Global template folders (`AYS_TEMPLATES`), in order. */
  globalDirs?: string[];
  /**
   * One name found twice in the repository (or twice among the global folders): `"error"`
   * (default) throws; `"report"` keeps the first folder in path order and lists the name in
   * {@link DiscoveredTemplates.duplicates}, so that only blueprints using it fail.
   */
  duplicates?: "error" | "report";
}

/** A template name found in more than one folder of one tree. */
export interface DuplicateTemplate {
  name: string;
  /** Every folder holding it, in path order; the first is kept in `templates`. */
  paths: string[];
}

/** What {@link discoverTemplates} found. */
export interface DiscoveredTemplates {
  /** Sorted by name; a repository template replaces a global one of the same name. */
  templates: TemplateInfo[];
  /** Things that are not errors: missing global folders, files that lost to another. */
  warnings: string[];
  /** Names defined twice in one tree (only with `duplicates: "report"`). */
  duplicates: DuplicateTemplate[];
}

const MARKERS = [
  "schema.hrd",
  "schema.capnp",
  "actions.ts",
  "actions.js",
  "actor.hrd",
  "actor.yaml",
  "actions.py",
] as const;

/** Category folders deeper than this are surely a symlink loop. */
const MAX_DEPTH = 32;

/** The folders of `AYS_TEMPLATES` (`:`-separated; empty parts ignored). */
export function globalTemplateDirs(env: Record<string, string | undefined>): string[] {
  return (env.AYS_TEMPLATES ?? "").split(":").filter((part) => part.length > 0);
}

/** Whether `path` is a folder (following symlinks). */
async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** Whether `path` is a file (following symlinks). */
async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Walks one template root, adding every template found to `found`. */
async function walk(
  folder: string,
  source: TemplateSource,
  depth: number,
  found: TemplateInfo[],
  warnings: string[],
): Promise<void> {
  if (depth > MAX_DEPTH) {
    throw new InputError(`${folder}: template folders nest too deep (a symlink loop?)`);
  }
  const entries = (await readdir(folder)).sort();
  const present = new Set<string>();
  for (const entry of entries) {
    if ((MARKERS as readonly string[]).includes(entry) && await isFile(join(folder, entry))) {
      present.add(entry);
    }
  }
  if (present.size > 0 && depth > 0) {
    found.push(templateOf(folder, source, present, warnings));
    return;
  }
  for (const entry of entries) {
    if (entry.startsWith("_") || entry.startsWith(".")) continue;
    const child = join(folder, entry);
    if (await isDir(child)) await walk(child, source, depth + 1, found, warnings);
  }
}

/** Builds the info of a template folder and checks its name. */
function templateOf(
  folder: string,
  source: TemplateSource,
  present: Set<string>,
  warnings: string[],
): TemplateInfo {
  const name = folder.split(/[\\/]/).pop()!;
  if (name.includes("__")) {
    throw new InputError(
      `template ${folder}: an actor name may not contain '__' (blueprints split 'actor__instance' there)`,
    );
  }
  if (/[!:\s]/.test(name)) {
    throw new InputError(`template ${folder}: an actor name may not contain '!', ':' or spaces`);
  }
  const pick = (preferred: string, other: string): string | null => {
    if (present.has(preferred)) {
      if (present.has(other)) {
        warnings.push(`template ${name}: both ${preferred} and ${other}; using ${preferred}`);
      }
      return join(folder, preferred);
    }
    return present.has(other) ? join(folder, other) : null;
  };
  return {
    name,
    path: folder,
    source,
    schemaHrd: present.has("schema.hrd") ? join(folder, "schema.hrd") : null,
    schemaCapnp: present.has("schema.capnp") ? join(folder, "schema.capnp") : null,
    actions: pick("actions.ts", "actions.js"),
    actionsPy: present.has("actions.py") && !present.has("actions.ts") &&
        !present.has("actions.js")
      ? join(folder, "actions.py")
      : null,
    actorConfig: pick("actor.yaml", "actor.hrd"),
  };
}

/** The names that occur more than once in `templates`, with their folders in path order. */
function duplicatesOf(templates: TemplateInfo[]): DuplicateTemplate[] {
  const paths = new Map<string, string[]>();
  for (const template of templates) {
    const list = paths.get(template.name) ?? [];
    list.push(template.path);
    paths.set(template.name, list);
  }
  return [...paths].filter(([, list]) => list.length > 1).map(([name, list]) => ({
    name,
    paths: list.sort(),
  }));
}

/**
 * Fails (`"error"`) or reports the names that occur twice in `templates`, returning the
 * templates with one folder per name (the first in path order).
 */
function checkUnique(
  templates: TemplateInfo[],
  where: string,
  mode: "error" | "report",
  duplicates: DuplicateTemplate[],
): TemplateInfo[] {
  const found = duplicatesOf(templates);
  if (found.length === 0) return templates;
  if (mode === "error") {
    const [first] = found;
    throw new InputError(
      `actor template '${first.name}' is defined twice ${where}: ${first.paths.join(" and ")}`,
    );
  }
  duplicates.push(...found);
  const kept = new Map(found.map((d) => [d.name, d.paths[0]]));
  return templates.filter((t) => !kept.has(t.name) || kept.get(t.name) === t.path);
}

/**
 * Finds the templates of a repository and of the global folders (docs/repositories.md). The same name twice
 * inside the repository, or twice among the global folders, is an {@link InputError} (or, with
 * `duplicates: "report"`, listed in the result); a
 * repository template overrides a global one of the same name. A repository without
 * `actorTemplates/` has none; a global folder that does not exist is a warning.
 */
export async function discoverTemplates(
  repoPath: string,
  options: DiscoverOptions = {},
): Promise<DiscoveredTemplates> {
  const { globalDirs = [], duplicates: mode = "error" } = options;
  if (mode !== "error" && mode !== "report") {
    throw new TypeError(`duplicates must be "error" or "report", not ${JSON.stringify(mode)}`);
  }
  const warnings: string[] = [];
  const duplicates: DuplicateTemplate[] = [];
  const found: TemplateInfo[] = [];
  const root = join(resolve(repoPath), "actorTemplates");
  if (await isDir(root)) await walk(root, "repo", 0, found, warnings);
  const local = checkUnique(found, "in the repository", mode, duplicates);
  const foundGlobal: TemplateInfo[] = [];
  for (const dir of globalDirs) {
    const path = resolve(dir);
    if (!(await isDir(path))) {
      warnings.push(`AYS_TEMPLATES: ${path} is not a folder; skipped`);
      continue;
    }
    await walk(path, "global", 0, foundGlobal, warnings);
  }
  const global = checkUnique(
    foundGlobal,
    "among the global template folders (AYS_TEMPLATES)",
    mode,
    duplicates,
  );
  const localNames = new Set(local.map((t) => t.name));
  const templates = [...local, ...global.filter((t) => !localNames.has(t.name))];
  templates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { templates, warnings, duplicates };
}
