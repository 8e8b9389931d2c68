/**
 * `ays blueprint` without the CLI (docs/blueprints.md): read a unit of blueprints, sync the actors
 * (src/repo/sync.ts), apply the unit to the services in the store, and save the result as ONE
 * atomic change — or only describe it (`--dry-run`). Any error is thrown before the store is
 * written, so the store and its mirror stay exactly as they were.
 *
 * Where `processChange` finds its changes: a scheduled `processChange` carries
 * `args = {changes: {field: {old, new}}}` on its action record
 * (`service.actions.processChange.args`), merged with the changes of earlier units that it has
 * not processed yet; the run passes them to the job as `job.args`. Values of secret fields are
 * kept there as `***` (the record is mirrored); the action reads the new value from
 * `job.service.data`.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { InputError } from "../errors.ts";
import { collectGarbage } from "../runtime.ts";
import { type ActorRecord, MASK, roleOf, serviceName, type ServiceRecord } from "../model/mod.ts";
import { loadRepoActors, syncActors } from "../repo/mod.ts";
import type { RecordChange, RepoStore } from "../store/mod.ts";
import {
  archiveBlueprints,
  listBlueprintFolder,
  listBlueprints,
  readBlueprintFiles,
} from "./files.ts";
import { checkActorsImport } from "./actions_check.ts";
import { applyInputHooks } from "./input_hook.ts";
import type { BlueprintDoc } from "./read.ts";
import { applyBlueprints, type ChangeSet, type FieldChange } from "./resolve.ts";

/** Options of {@link applyBlueprintUnit}. */
export interface ApplyUnitOptions {
  /** The repository folder (templates, `blueprints/`). */
  repoPath: string;
  /** Absolute paths of the blueprints to apply; default: every active one of the repository. */
  files?: readonly string[];
  /** Locations name files relative to this folder (default: the repository folder). */
  relativeTo?: string;
  /** Global template folders (`AYS_TEMPLATES`). */
  globalDirs?: string[];
  /** Work out and return the change, write nothing. */
  dryRun?: boolean;
  /** Rename the applied files to `_<name>` after saving. */
  archive?: boolean;
  /** `"v81"`: apply as v8.1 did, with a warning for each thing it did silently. */
  compat?: "v81";
  /**
   * Apply only the service entries of this role (or actor) and/or instance, as v8.1's
   * `ays blueprint -r ROLE -i INSTANCE` did; `actions:` and `eventfilters:` still apply.
   */
  only?: { role?: string; instance?: string };
  /**
   * How long one `input(ctx)` hook, or the import check of one actions file, may take
   * (default 30 000 ms).
   */
  inputTimeoutMs?: number;
}

/** What {@link applyBlueprintUnit} did (or, dry, would do). */
export interface AppliedUnit {
  /** The blueprint files of the unit, absolute, in the order applied. */
  files: string[];
  changes: ChangeSet;
  /** Actors stored with the unit (templates the store did not have yet). */
  newActors: ActorRecord[];
  /** Every actor the unit was applied with, by name (for summaries). */
  actors: Map<string, ActorRecord>;
  /** The change saved, or that would be saved. */
  record: RecordChange;
  /** New paths of archived files (`--archive`). */
  archived: string[];
  /** Actor sync and template warnings (the change set has its own). */
  warnings: string[];
  /** Whether anything was written. */
  written: boolean;
}

/**
 * From how many services (stored, plus entries read) an apply collects garbage between its
 * phases: below it the collections cost more than the memory they give back. A re-apply of
 * 10,010 services counts 20,020 and peaks near 190 MiB without them (12 MiB more), while the
 * two collections took 0.1–0.24 s of its ~1.2 s of CPU (docs/benchmarks.md, "Re-apply").
 */
const COLLECT_FROM = 50_000;

/**
 * Below how many service entries an apply reads the stored services as heads
 * (`RepoStore.loadServiceHeads`): the heads hold their records' bytes, which at 100,010 services
 * raised a re-apply's peak from 1.06–1.08 to 1.17 GiB, for ~1 s of its ~7 s of CPU.
 */
const HEADS_BELOW = 50_000;

/** How many service entries the documents hold. */
function entryCount(docs: readonly BlueprintDoc[]): number {
  let count = 0;
  for (const doc of docs) count += doc.services.length;
  return count;
}

/** Whether a change set creates and updates nothing. */
function isEmpty(changes: ChangeSet): boolean {
  return changes.created.length === 0 && changes.updated.length === 0;
}

/** Secret field names (camelCase) of an actor. */
function secretFields(actor: ActorRecord | undefined): Set<string> {
  return new Set(
    (actor?.fields ?? []).filter((f) => f.secret || f.type === "password").map((f) => f.camelName),
  );
}

/** Whether two JSON-like values are the same. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Puts `args.changes` on each scheduled `processChange` of the change set: the unit's changes
 * merged over those of an earlier, not yet processed change (the oldest `old` wins, the newest
 * `new`; a field changed back to its old value drops out). Secret values become `***`.
 * Changes the records of `changes` in place (they are the change set's own copies).
 */
export function attachChangeArgs(
  changes: ChangeSet,
  actors: ReadonlyMap<string, ActorRecord>,
): void {
  const byName = new Map<string, ServiceRecord>();
  for (const service of changes.created) {
    byName.set(serviceName(service.role, service.name), service);
  }
  for (const { service } of changes.updated) {
    byName.set(serviceName(service.role, service.name), service);
  }
  for (const scheduled of changes.scheduled) {
    if (!scheduled.args) continue;
    const service = byName.get(scheduled.service);
    const record = service?.actions[scheduled.action];
    if (!service || !record) continue;
    const all = (record.args?.changes ?? {}) as Record<string, unknown>;
    const next: Record<string, unknown> = { ...all };
    for (const [key, change] of Object.entries(scheduled.args.changes)) {
      if (!key.includes("!")) continue;
      // A producer's changes (`role!instance`), masked by the producer's own secret fields.
      const producer = byName.get(key);
      const merged = mergeChanges(
        (all[key] ?? {}) as Record<string, FieldChange>,
        change as Record<string, FieldChange>,
        secretFields(actors.get(producer?.actor ?? "")),
      );
      if (Object.keys(merged).length > 0) next[key] = merged;
      else delete next[key];
    }
    const own: Record<string, FieldChange> = {};
    const earlier: Record<string, FieldChange> = {};
    for (const [key, change] of Object.entries(scheduled.args.changes)) {
      if (!key.includes("!")) own[key] = change as FieldChange;
    }
    for (const [key, change] of Object.entries(all)) {
      if (!key.includes("!")) earlier[key] = change as FieldChange;
    }
    const ownMerged = mergeChanges(earlier, own, secretFields(actors.get(service.actor)));
    for (const key of Object.keys(earlier)) delete next[key];
    Object.assign(next, ownMerged);
    record.args = { ...(record.args ?? {}), changes: next };
  }
}

/**
 * `changes` merged over `earlier` (the oldest `old` wins, the newest `new`; a field changed
 * back to its old value drops out); `secret` fields become `***`.
 */
function mergeChanges(
  earlier: Record<string, FieldChange>,
  changes: Record<string, FieldChange>,
  secret: ReadonlySet<string>,
): Record<string, FieldChange> {
  const merged: Record<string, FieldChange> = { ...earlier };
  for (const [field, change] of Object.entries(changes)) {
    const value = secret.has(field)
      ? { old: MASK, new: MASK }
      : { old: change.old, new: change.new };
    if (earlier[field] && !secret.has(field)) value.old = earlier[field].old;
    if (!secret.has(field) && sameJson(value.old, value.new)) delete merged[field];
    else merged[field] = value;
  }
  return merged;
}

/** The one change to save for an applied unit: new actors, created and updated services. */
export function unitRecordChange(
  changes: ChangeSet,
  actors: ReadonlyMap<string, ActorRecord>,
  fresh: ReadonlySet<string>,
): { record: RecordChange; newActors: ActorRecord[] } {
  const services = [...changes.created, ...changes.updated.map((u) => u.service)];
  const needed = new Set(services.map((service) => service.actor));
  const newActors = [...needed].filter((name) => fresh.has(name)).sort().map((name) =>
    actors.get(name)!
  );
  const record: RecordChange = { services };
  if (newActors.length > 0) record.actors = newActors;
  return { record, newActors };
}

/**
 * The files given, with each folder replaced by its active blueprints in file-name order (as
 * v8.1's `ays blueprint PATH` took a folder).
 */
async function expandFolders(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path).catch(() => null))?.isDirectory()) {
      files.push(...await listBlueprintFolder(path));
    } else {
      files.push(path);
    }
  }
  return files;
}

/** A blueprint with only the service entries of `only.role` (role or actor) and `only.instance`. */
function onlyServices(doc: BlueprintDoc, only: { role?: string; instance?: string }): BlueprintDoc {
  return {
    ...doc,
    services: doc.services.filter((entry) =>
      (only.role === undefined || entry.actor === only.role ||
        roleOf(entry.actor) === only.role) &&
      (only.instance === undefined || entry.instance === only.instance)
    ),
  };
}

/** The actors a unit names: of its service entries, and those its `actions:` entries match. */
function namedActors(
  docs: readonly BlueprintDoc[],
  actors: ReadonlyMap<string, ActorRecord>,
): ActorRecord[] {
  const names = new Set<string>();
  for (const doc of docs) {
    for (const entry of doc.services) {
      names.add(actors.has(entry.actor) ? entry.actor : `blueprint.${entry.actor}`);
    }
    for (const entry of doc.actions) {
      if (entry.actor === undefined) continue;
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${entry.actor})$`);
      } catch {
        continue; // the resolver reports the bad pattern
      }
      for (const name of actors.keys()) if (pattern.test(name)) names.add(name);
    }
  }
  return [...names].flatMap((name) => actors.get(name) ?? []);
}

/** The actors of the services the change set creates or changes, except those `done`. */
function changedActors(
  changes: ChangeSet,
  actors: ReadonlyMap<string, ActorRecord>,
  done: readonly ActorRecord[],
): ActorRecord[] {
  const names = new Set<string>();
  for (const service of changes.created) names.add(service.actor);
  for (const { service } of changes.updated) names.add(service.actor);
  for (const actor of done) names.delete(actor.name);
  return [...names].flatMap((name) => actors.get(name) ?? []);
}

/** Refuses `--archive` before anything is written when a `_<name>` is in the way. */
async function checkArchiveTargets(files: readonly string[]): Promise<void> {
  for (const path of files) {
    const name = basename(path);
    if (name.startsWith("_")) continue;
    const target = join(dirname(path), `_${name}`);
    if (await stat(target).catch(() => null)) {
      throw new InputError(`cannot archive ${path}: ${target} exists`);
    }
  }
}

/**
 * Applies a unit of blueprints to the repository's store (docs/blueprints.md): all active blueprints
 * in file-name order, or `options.files` in the order given. The caller holds the repository
 * lock. Throws {@link InputError} (with `file:line:column` where known) before anything is
 * written.
 */
export async function applyBlueprintUnit(
  store: RepoStore,
  options: ApplyUnitOptions,
): Promise<AppliedUnit> {
  const { compat } = options;
  if (compat !== undefined && compat !== "v81") {
    throw new InputError(`unknown compat mode '${compat}' (expected v81)`);
  }
  const files = options.files
    ? await expandFolders(options.files)
    : await listBlueprints(options.repoPath);
  const templates = await loadRepoActors(options.repoPath, {
    globalDirs: options.globalDirs,
    tolerant: true,
    compat,
  });
  // The documents read (every attribute with its positions: about half the memory of a large
  // apply) and the stored services are needed only to resolve: resolveUnit lets them go before
  // the records are saved.
  const { changes, synced, large } = await resolveUnit(store, { files, templates, options });
  // What resolving held (about 60 % of the heap at 100,000 services) is garbage now: collected
  // before the save, it does not set how much the save may allocate before the next collection
  // (docs/blueprints.md, "Memory"). With nothing to save (a re-apply that changes nothing)
  // there is no save's garbage to make room for.
  if (large && !isEmpty(changes)) collectGarbage();
  return await saveUnit(store, { files, changes, synced, templates, options });
}

/** Context of {@link resolveUnit} and {@link saveUnit}. */
interface UnitContext {
  files: string[];
  templates: Awaited<ReturnType<typeof loadRepoActors>>;
  options: ApplyUnitOptions;
}

/**
 * Reads the unit's blueprints, loads the store's actors and services, syncs the actors, runs
 * the input hooks, checks the actions files and resolves the unit into a change set.
 */
async function resolveUnit(
  store: RepoStore,
  context: UnitContext,
): Promise<{ changes: ChangeSet; synced: ReturnType<typeof syncActors>; large: boolean }> {
  const { files, templates, options } = context;
  const { compat, only } = options;
  const docs: BlueprintDoc[] = (await readBlueprintFiles(files, {
    relativeTo: options.relativeTo ?? options.repoPath,
  })).map((doc) => only ? onlyServices(doc, only) : doc);
  // The stored services without their actions and event filters: those are read only for the
  // services the unit changes or whose actions it names (docs/blueprints.md, "How stored
  // services are read"). Not for a large unit: the heads hold their records' bytes.
  const [storedActors, { services, whole }] = await Promise.all([
    store.loadActors(),
    entryCount(docs) < HEADS_BELOW
      ? store.loadServiceHeads()
      : store.loadServices().then((all) => ({ services: all, whole: undefined })),
  ]);
  // Decoding every stored service leaves several times their size as garbage (a re-apply of
  // 100,000: ~500 MB): collected now, it does not add to what resolving may allocate before the
  // next collection (docs/blueprints.md, "Memory").
  const large = services.length + entryCount(docs) >= COLLECT_FROM;
  if (large) collectGarbage();
  const synced = syncActors(storedActors, templates.actors, {
    unusable: new Set(templates.unusable.keys()),
  });
  const withInput = await applyInputHooks(docs, {
    actors: synced.actors,
    services,
    repo: { name: store.repoName, path: options.repoPath },
    timeoutMs: options.inputTimeoutMs,
  });
  // An actions file that does not import would fail every job of the run without a place:
  // refuse it now, with its file:line:column (docs/blueprints.md#checking-actions-files).
  // Before resolving: an action the broken file names would otherwise be reported as unknown.
  const importOptions = { timeoutMs: options.inputTimeoutMs };
  const named = namedActors(withInput, synced.actors);
  await checkActorsImport(named, importOptions);
  const changes = applyBlueprints(withInput, {
    repoName: store.repoName,
    actors: synced.actors,
    services,
    wholeService: whole,
    unusable: templates.unusable,
    compat,
    collectGarbage: services.length >= COLLECT_FROM,
  });
  await checkActorsImport(changedActors(changes, synced.actors, named), importOptions);
  return { changes, synced, large };
}

/** Completes the change set and saves it as one change (unless dry). */
async function saveUnit(
  store: RepoStore,
  context: UnitContext & { changes: ChangeSet; synced: ReturnType<typeof syncActors> },
): Promise<AppliedUnit> {
  const { files, changes, synced, templates, options } = context;
  attachChangeArgs(changes, synced.actors);
  const { record, newActors } = unitRecordChange(changes, synced.actors, synced.fresh);
  const warnings = [...templates.warnings, ...synced.warnings];
  const result: AppliedUnit = {
    files,
    changes,
    newActors,
    actors: synced.actors,
    record,
    archived: [],
    warnings,
    written: false,
  };
  if (options.dryRun) return result;
  if (options.archive) await checkArchiveTargets(files);
  if ((record.services ?? []).length > 0 || (record.actors ?? []).length > 0) {
    await store.save(record);
    result.written = true;
  }
  if (options.archive) result.archived = await archiveBlueprints(files);
  return result;
}
