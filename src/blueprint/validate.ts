/**
 * `ays validate` without the CLI (docs/blueprints.md#validating-a-repository): checks a
 * repository without writing anything — every template loads, every actions file imports and
 * exports the actions its actor config and the blueprints name, every active blueprint reads
 * and resolves (against the services given, normally the store's) — and lists every problem
 * with its place, plus the warnings `ays blueprint` would print (in `compat: v81` mode, each
 * thing v8.1 would have done silently).
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { AysError, InputError, type SourceLocation } from "../errors.ts";
import { type ActorRecord, DEFAULT_ACTIONS, type ServiceRecord } from "../model/mod.ts";
import { discoverTemplates, loadRepoActors, type RepoActors, syncActors } from "../repo/mod.ts";
import { actionsImportError, checkActionsFile, importableActions } from "./actions_check.ts";
import { listBlueprints, readBlueprintFiles } from "./files.ts";
import { applyInputHooks } from "./input_hook.ts";
import type { BlueprintDoc } from "./read.ts";
import { applyBlueprints, type ChangeSet } from "./resolve.ts";

/** What a problem is about. */
export type ProblemKind = "template" | "actions" | "blueprint";

/** One thing that keeps the repository from working, with its place where there is one. */
export interface ValidationProblem {
  kind: ProblemKind;
  message: string;
  location?: SourceLocation;
}

/** Options of {@link validateRepository}. */
export interface ValidateOptions {
  /** The repository's name (service keys). */
  repoName: string;
  /** Global template folders (`AYS_TEMPLATES`). */
  globalDirs?: string[];
  /** `"v81"`: resolve as v8.1 did, each silent thing becoming a warning. */
  compat?: "v81";
  /** The services blueprints resolve against (the store's, read-only); default none. */
  services?: readonly ServiceRecord[];
  /** The store's actors (they win over templates, as in `ays blueprint`); default none. */
  storedActors?: readonly ActorRecord[];
  /** How long importing one actions file or one `input` hook may take (default 30 000 ms). */
  timeoutMs?: number;
}

/** What {@link validateRepository} found. */
export interface ValidationReport {
  templates: number;
  actionsFiles: number;
  blueprints: number;
  /** Every problem, by kind (template, actions, blueprint), then by file. */
  problems: ValidationProblem[];
  warnings: string[];
}

/** The problem of an error: an {@link AysError}'s message and place; anything else is a bug. */
function problemOf(kind: ProblemKind, error: unknown): ValidationProblem {
  if (!(error instanceof AysError)) throw error;
  return { kind, message: error.message, ...(error.location ? { location: error.location } : {}) };
}

/** The 1-based place of the first `name` in a file's text, else its start. */
async function placeOf(file: string, name: string): Promise<SourceLocation> {
  const text = await readFile(file, "utf8").catch(() => "");
  const match = new RegExp(`(^|[^\\w$])${name.replace(/[$]/g, "\\$")}(?![\\w$])`, "m").exec(text);
  if (!match) return { file, line: 1, column: 1 };
  const before = text.slice(0, match.index + match[1].length).split("\n");
  return { file, line: before.length, column: before[before.length - 1].length + 1 };
}

/** Loads the templates, turning each broken one into a problem. */
async function checkTemplates(
  repoPath: string,
  options: ValidateOptions,
  problems: ValidationProblem[],
): Promise<RepoActors & { count: number }> {
  const { globalDirs, compat } = options;
  let loaded: RepoActors;
  let duplicates: Set<string>;
  let count: number;
  try {
    const found = await discoverTemplates(repoPath, { globalDirs, duplicates: "report" });
    duplicates = new Set(found.duplicates.map((d) => d.name));
    count = found.templates.length;
    loaded = await loadRepoActors(repoPath, { globalDirs, tolerant: true, compat });
  } catch (error) {
    problems.push(problemOf("template", error));
    return { actors: new Map(), warnings: [], unusable: new Map(), count: 0 };
  }
  const broken = [...loaded.unusable].filter(([name]) => !duplicates.has(name));
  for (const [, reason] of broken) {
    problems.push({
      kind: "template",
      message: reason.message,
      ...(reason.location ? { location: reason.location } : {}),
    });
  }
  // A broken template is a problem here, not also a warning.
  const warnings = loaded.warnings.filter((warning) =>
    !broken.some(([name]) => warning.startsWith(`template ${name} is broken`))
  );
  return { ...loaded, warnings, count };
}

/**
 * Imports each actor's actions file; records what it exports as functions, and a problem for
 * a file that does not import or lacks an action its actor config names.
 */
async function checkActions(
  actors: ReadonlyMap<string, ActorRecord>,
  timeoutMs: number | undefined,
  problems: ValidationProblem[],
): Promise<{ exports: Map<string, Set<string>>; count: number }> {
  const exports = new Map<string, Set<string>>();
  let count = 0;
  for (const actor of actors.values()) {
    const path = importableActions(actor);
    if (!path) continue;
    count++;
    const checked = await checkActionsFile(path, { timeoutMs });
    if (!checked.ok) {
      problems.push(problemOf("actions", actionsImportError(path, checked)));
      continue;
    }
    const functions = new Set(checked.functions);
    exports.set(actor.name, functions);
    const configured = [
      ...Object.keys(actor.config.recurring),
      ...Object.keys(actor.config.actions),
    ];
    const configFile = await actorConfigFile(actor);
    for (const name of new Set(configured)) {
      // A lifecycle action without a function is a no-op, as in a run (docs/blueprints.md).
      if (functions.has(name) || (DEFAULT_ACTIONS as readonly string[]).includes(name)) continue;
      problems.push({
        kind: "actions",
        message: `actor ${actor.name} configures action '${name}', which ${
          relative(actor.templatePath, path)
        } does not export as a function`,
        location: configFile ? await placeOf(configFile, name) : { file: path },
      });
    }
  }
  return { exports, count };
}

/** The actor config file of an actor's template (`actor.yaml`, else `actor.hrd`), if any. */
async function actorConfigFile(actor: ActorRecord): Promise<string | undefined> {
  for (const name of ["actor.yaml", "actor.hrd"]) {
    const path = join(actor.templatePath, name);
    if ((await stat(path).catch(() => null))?.isFile()) return path;
  }
  return undefined;
}

/**
 * Resolves the unit of blueprints; when one fails, lists its error and resolves the others
 * without it, so that every broken blueprint is named.
 */
async function resolveUnit(
  docs: BlueprintDoc[],
  templates: RepoActors,
  options: ValidateOptions & { repoPath: string },
  problems: ValidationProblem[],
): Promise<{ changes?: ChangeSet; actors: Map<string, ActorRecord>; warnings: string[] }> {
  const { repoName, services = [], storedActors = [], compat, timeoutMs } = options;
  const synced = syncActors(storedActors, templates.actors, {
    unusable: new Set(templates.unusable.keys()),
  });
  let unit = docs;
  while (unit.length > 0) {
    try {
      const withInput = await applyInputHooks(unit, {
        actors: synced.actors,
        services,
        repo: { name: repoName, path: options.repoPath },
        timeoutMs,
      });
      const changes = applyBlueprints(withInput, {
        repoName,
        actors: synced.actors,
        services,
        unusable: templates.unusable,
        compat,
      });
      return { changes, actors: synced.actors, warnings: synced.warnings };
    } catch (error) {
      problems.push(problemOf("blueprint", error));
      const file = error instanceof AysError ? error.location?.file : undefined;
      const rest = unit.filter((doc) => doc.file !== file);
      if (rest.length === unit.length) break;
      unit = rest;
    }
  }
  return { actors: synced.actors, warnings: synced.warnings };
}

/**
 * Validates the repository at `repoPath` (see the module doc). Reads only: nothing is written,
 * not the store, its mirror or the registry. Throws only for errors that are not the
 * repository's (a bug, an unreadable folder).
 */
export async function validateRepository(
  repoPath: string,
  options: ValidateOptions,
): Promise<ValidationReport> {
  const { compat, timeoutMs } = options;
  if (compat !== undefined && compat !== "v81") {
    throw new InputError(`unknown compat mode '${compat}' (expected v81)`);
  }
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new TypeError(`timeoutMs must be positive, not ${timeoutMs}`);
  }
  const problems: ValidationProblem[] = [];
  const templates = await checkTemplates(repoPath, options, problems);
  const actions = await checkActions(templates.actors, timeoutMs, problems);
  const files = await listBlueprints(repoPath);
  const docs: BlueprintDoc[] = [];
  for (const file of files) {
    try {
      docs.push(...await readBlueprintFiles([file], { relativeTo: repoPath }));
    } catch (error) {
      problems.push(problemOf("blueprint", error));
    }
  }
  const resolved = await resolveUnit(docs, templates, { ...options, repoPath }, problems);
  // A configured action missing from the import is a problem above, not also a warning.
  const warnings = [...templates.warnings, ...resolved.warnings].filter((warning) => {
    const m = /^template (\S+): .* configures action '([^']+)'/.exec(warning);
    return !m ||
      !problems.some((p) => p.message.startsWith(`actor ${m[1]} configures action '${m[2]}'`));
  });
  if (resolved.changes) {
    warnings.push(...resolved.changes.warnings);
    problems.push(...scheduledProblems(resolved.changes, resolved.actors, actions.exports));
  }
  const order: ProblemKind[] = ["template", "actions", "blueprint"];
  // By kind, then by file (stable: one file's problems keep the order they were found in).
  const fileOf = (p: ValidationProblem) => p.location?.file ?? "";
  problems.sort((a, b) =>
    order.indexOf(a.kind) - order.indexOf(b.kind) ||
    (fileOf(a) < fileOf(b) ? -1 : fileOf(a) > fileOf(b) ? 1 : 0)
  );
  return {
    templates: templates.count,
    actionsFiles: actions.count,
    blueprints: files.length,
    problems,
    warnings,
  };
}

/** Actions the blueprints schedule that the imported actions file does not export. */
function scheduledProblems(
  changes: ChangeSet,
  actors: ReadonlyMap<string, ActorRecord>,
  exports: ReadonlyMap<string, ReadonlySet<string>>,
): ValidationProblem[] {
  const actorOf = new Map<string, string>();
  for (const service of changes.created) {
    actorOf.set(`${service.role}!${service.name}`, service.actor);
  }
  for (const { service } of changes.updated) {
    actorOf.set(`${service.role}!${service.name}`, service.actor);
  }
  const problems: ValidationProblem[] = [];
  const seen = new Set<string>();
  for (const { service, action } of changes.scheduled) {
    const actor = actors.get(actorOf.get(service) ?? "");
    const functions = actor ? exports.get(actor.name) : undefined;
    if (!actor || !functions || functions.has(action)) continue;
    if ((DEFAULT_ACTIONS as readonly string[]).includes(action)) continue;
    const key = `${actor.name}.${action}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      kind: "actions",
      message: `a blueprint schedules '${action}' on ${service}, which ${
        relative(actor.templatePath, actor.actionsPath!)
      } of actor ${actor.name} does not export as a function`,
      location: { file: actor.actionsPath! },
    });
  }
  return problems;
}
