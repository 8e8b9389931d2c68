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
  /** `actor.yaml`, else `actor.hrd`. */
  actorConfig: string | null;
}

/** Options of {@link discoverTemplates}. */
export interface DiscoverOptions {
  /** Global template folders (`AYS_TEMPLATES`), in order. */
  globalDirs?: string[];
}

/** What {@link discoverTemplates} found. */
export interface DiscoveredTemplates {
  /** Sorted by name; a repository template replaces a global one of the same name. */
  templates: TemplateInfo[];
  /** Things that are not errors: missing global folders, files that lost to another. */
  warnings: string[];
}

const MARKERS = [
  "schema.hrd",
  "schema.capnp",
  "actions.ts",
  "actions.js",
  "actor.hrd",
  "actor.yaml",
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
    actorConfig: pick("actor.yaml", "actor.hrd"),
  };
}

/** Fails when a name occurs twice in `templates`. */
function checkUnique(templates: TemplateInfo[], where: string): void {
  const seen = new Map<string, string>();
  for (const template of templates) {
    const first = seen.get(template.name);
    if (first !== undefined) {
      throw new InputError(
        `actor template '${template.name}' is defined twice ${where}: ${first} and ${template.path}`,
      );
    }
    seen.set(template.name, template.path);
  }
}

/**
 * Finds the templates of a repository and of the global folders (docs/repositories.md). The same name twice
 * inside the repository, or twice among the global folders, is an {@link InputError}; a
 * repository template overrides a global one of the same name. A repository without
 * `actorTemplates/` has none; a global folder that does not exist is a warning.
 */
export async function discoverTemplates(
  repoPath: string,
  options: DiscoverOptions = {},
): Promise<DiscoveredTemplates> {
  const warnings: string[] = [];
  const local: TemplateInfo[] = [];
  const root = join(resolve(repoPath), "actorTemplates");
  if (await isDir(root)) await walk(root, "repo", 0, local, warnings);
  checkUnique(local, "in the repository");
  const global: TemplateInfo[] = [];
  for (const dir of options.globalDirs ?? []) {
    const path = resolve(dir);
    if (!(await isDir(path))) {
      warnings.push(`AYS_TEMPLATES: ${path} is not a folder; skipped`);
      continue;
    }
    await walk(path, "global", 0, global, warnings);
  }
  checkUnique(global, "among the global template folders (AYS_TEMPLATES)");
  const localNames = new Set(local.map((t) => t.name));
  const templates = [...local, ...global.filter((t) => !localNames.has(t.name))];
  templates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { templates, warnings };
}
