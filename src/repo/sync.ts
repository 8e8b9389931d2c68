/**
 * Actor sync (docs/repositories.md): which actors a command works with when the repository's templates
 * and the store's actors differ.
 *
 * The rule: an actor in the store is kept as stored — its schema is the one its services' data
 * is encoded with, so only `ays update` may replace it (and convert the data). A template with
 * no actor in the store yet gives a new actor, which `ays blueprint` stores together with the
 * first services that need it. An actor whose template changed is reported, suggesting
 * `ays update`; so is one whose template is gone (its services stay).
 *
 * @module
 */
import type { ActorRecord } from "../model/mod.ts";

/** JSON with object keys sorted and undefined members left out: equal values, equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/** What differs between a stored actor and its template, or `[]` when nothing matters. */
export function actorDifferences(stored: ActorRecord, template: ActorRecord): string[] {
  const differences: string[] = [];
  if (
    stored.capnpSchema !== template.capnpSchema ||
    canonical(stored.fields) !== canonical(template.fields)
  ) {
    differences.push("schema");
  }
  if (canonical(stored.config) !== canonical(template.config)) {
    differences.push("configuration");
  }
  if (
    stored.actionsPath !== template.actionsPath ||
    JSON.stringify([...stored.actionNames].sort()) !==
      JSON.stringify([...template.actionNames].sort()) ||
    JSON.stringify([...stored.exported ?? stored.actionNames].sort()) !==
      JSON.stringify([...template.exported ?? template.actionNames].sort())
  ) {
    differences.push("actions");
  }
  if (stored.templatePath !== template.templatePath) differences.push("template folder");
  return differences;
}

/** Whether the actions file of a template has other content than when the actor was stored. */
export function actionsFileChanged(stored: ActorRecord, template: ActorRecord): boolean {
  return stored.actionsHash !== template.actionsHash;
}

/** Options of {@link syncActors}. */
export interface SyncOptions {
  /** Names whose template exists but cannot be loaded: not "gone", so no warning here. */
  unusable?: ReadonlySet<string>;
}

/** The actors a command works with, and what to tell the user about them. */
export interface SyncedActors {
  /** Stored actors, plus template actors that the store does not have yet, by name. */
  actors: Map<string, ActorRecord>;
  /** Names of the actors that come from templates and are not stored yet. */
  fresh: Set<string>;
  /** Stored actors whose template changed, with what changed. */
  changed: { name: string; differences: string[] }[];
  /** Stored actors whose template is gone. */
  orphaned: string[];
  /** One line per changed or orphaned actor, for stderr. */
  warnings: string[];
}

/**
 * Merges the store's actors with the templates' (a schema change needs `ays update`, see docs/repositories.md):
 * stored actors win; templates add the actors the store lacks. Pure.
 */
export function syncActors(
  stored: readonly ActorRecord[],
  templates: ReadonlyMap<string, ActorRecord>,
  options: SyncOptions = {},
): SyncedActors {
  const { unusable = new Set<string>() } = options;
  const actors = new Map<string, ActorRecord>();
  const fresh = new Set<string>();
  const changed: SyncedActors["changed"] = [];
  const orphaned: string[] = [];
  const warnings: string[] = [];
  for (const actor of stored) {
    actors.set(actor.name, actor);
    const template = templates.get(actor.name);
    if (!template && unusable.has(actor.name)) continue;
    if (!template) {
      orphaned.push(actor.name);
      warnings.push(
        `actor ${actor.name} has no template any more; it and its services are kept as stored`,
      );
      continue;
    }
    const differences = actorDifferences(actor, template);
    if (differences.length > 0) {
      changed.push({ name: actor.name, differences });
      warnings.push(
        `the template of actor ${actor.name} changed (${
          differences.join(", ")
        }); the stored actor is used: run 'ays update -n ${actor.name}' to carry the change to it and its services`,
      );
    }
  }
  for (const [name, template] of templates) {
    if (actors.has(name)) continue;
    actors.set(name, template);
    fresh.add(name);
  }
  return { actors, fresh, changed, orphaned, warnings };
}
