/**
 * `ays update` without the CLI (docs/capnp.md, docs/blueprints.md): carries template changes to the stored actors
 * and their services. A changed schema converts every service's data **by field name** —
 * fields kept keep their value (when it is still valid for the field's new type), new fields
 * get their defaults, removed fields are dropped and reported. Actions the template no longer
 * has are dropped, new ones start `new`; a recurring period the template changed moves with it
 * unless a blueprint set the service's own. With `markChanged`, the `ok` actions of actors whose
 * actions file changed become `changed` (the planner treats that like `scheduled`). Pure.
 *
 * @module
 */
import {
  type ActorRecord,
  checkFieldValue,
  defaultValue,
  type FieldSpec,
  isNumericType,
  isTextType,
  newActionRecord,
  serviceName,
  type ServiceRecord,
} from "../model/mod.ts";
import { actionsFileChanged, actorDifferences } from "./sync.ts";

/** Options of {@link planUpdate}. */
export interface UpdateOptions {
  /** Only these actors (`-n NAME`); default every stored actor. */
  names?: readonly string[];
  /** Set the `ok` actions of actors whose actions file changed to `changed`. */
  markChanged?: boolean;
}

/** A value that could not be kept and was reset to the field's default. */
export interface ResetValue {
  service: string;
  field: string;
  reason: string;
}

/** What updating one actor does. */
export interface ActorUpdate {
  actor: string;
  /** What changed in the template: schema, configuration, actions, template folder, actions file. */
  differences: string[];
  /** Fields (camelCase) the new schema adds. */
  addedFields: string[];
  /** Fields (camelCase) the new schema no longer has: dropped from every service. */
  removedFields: string[];
  /** Values kept by name that the new field no longer accepts. */
  reset: ResetValue[];
  /** Actions added to and dropped from the services. */
  addedActions: string[];
  removedActions: string[];
  /** How many services of the actor were rewritten. */
  services: number;
  /** How many `ok` actions became `changed` (`markChanged`). */
  markedChanged: number;
}

/** What {@link planUpdate} would save and report. */
export interface UpdatePlan {
  /** New versions of the stored actors that changed. */
  actors: ActorRecord[];
  /** Converted services. */
  services: ServiceRecord[];
  updates: ActorUpdate[];
  /** e.g. an actor whose template is gone. */
  warnings: string[];
}

/** Tries to keep an old value for a field whose type may have changed. */
function convertValue(field: FieldSpec, value: unknown): { ok: true; value: unknown } | {
  ok: false;
  reason: string;
} {
  const direct = checkFieldValue(field, value);
  if (direct.ok) return direct;
  // The obvious conversions between scalar types; anything else goes back to the default.
  const candidates: unknown[] = [];
  const scalar = (v: unknown) => typeof v === "number" || typeof v === "boolean";
  if (!field.list && isTextType(field.type) && scalar(value)) candidates.push(String(value));
  if (!field.list && isNumericType(field.type) && typeof value === "string" && value.trim()) {
    candidates.push(Number(value));
  }
  if (field.list && !Array.isArray(value) && value !== "" && value !== null) {
    candidates.push([value]);
  }
  if (!field.list && Array.isArray(value) && value.length === 1) candidates.push(value[0]);
  for (const candidate of candidates) {
    const check = checkFieldValue(field, candidate);
    if (check.ok) return check;
  }
  return { ok: false, reason: direct.message };
}

/** The fields of a schema by camelCase name. */
function byName(fields: readonly FieldSpec[]): Map<string, FieldSpec> {
  return new Map(fields.map((f) => [f.camelName, f]));
}

/**
 * Plans `ays update`: compares each stored actor with its template (`templates`, from
 * {@link loadRepoActors}) and converts the services of those that changed.
 */
export function planUpdate(
  storedActors: readonly ActorRecord[],
  templates: ReadonlyMap<string, ActorRecord>,
  services: readonly ServiceRecord[],
  options: UpdateOptions = {},
): UpdatePlan {
  const plan: UpdatePlan = { actors: [], services: [], updates: [], warnings: [] };
  const wanted = options.names ? new Set(options.names) : undefined;
  for (const stored of storedActors) {
    if (wanted && !wanted.has(stored.name)) continue;
    const template = templates.get(stored.name);
    if (!template) {
      plan.warnings.push(
        `actor ${stored.name} has no template any more; it and its services are kept as stored`,
      );
      continue;
    }
    const differences = actorDifferences(stored, template);
    const fileChanged = actionsFileChanged(stored, template);
    if (fileChanged) differences.push("actions file");
    if (differences.length === 0) continue;
    plan.actors.push(template);

    const oldFields = byName(stored.fields);
    const newFields = byName(template.fields);
    const schemaChanged = differences.includes("schema");
    const update: ActorUpdate = {
      actor: stored.name,
      differences,
      addedFields: [...newFields.keys()].filter((name) => !oldFields.has(name)),
      removedFields: [...oldFields.keys()].filter((name) => !newFields.has(name)),
      reset: [],
      addedActions: template.actionNames.filter((a) => !stored.actionNames.includes(a)),
      removedActions: stored.actionNames.filter((a) => !template.actionNames.includes(a)),
      services: 0,
      markedChanged: 0,
    };
    const mark = Boolean(options.markChanged) && fileChanged;
    for (const service of services) {
      if (service.actor !== stored.name) continue;
      const next: ServiceRecord = structuredClone(service);
      const sname = serviceName(service.role, service.name);
      if (schemaChanged) {
        const data: Record<string, unknown> = {};
        for (const field of template.fields) {
          const name = field.camelName;
          if (!Object.hasOwn(service.data, name)) {
            data[name] = defaultValue(field);
            continue;
          }
          const converted = convertValue(field, service.data[name]);
          if (converted.ok) data[name] = converted.value;
          else {
            data[name] = defaultValue(field);
            update.reset.push({ service: sname, field: name, reason: converted.reason });
          }
        }
        next.data = data;
      }
      for (const action of update.removedActions) delete next.actions[action];
      for (const action of template.actionNames) {
        const oldPeriod = stored.config.recurring[action]?.period ?? 0;
        const newPeriod = template.config.recurring[action]?.period ?? 0;
        const record = next.actions[action];
        if (!record) next.actions[action] = newActionRecord(newPeriod);
        else if (oldPeriod !== newPeriod && record.period === oldPeriod) record.period = newPeriod;
      }
      if (mark) {
        for (const record of Object.values(next.actions)) {
          if (record.state !== "ok") continue;
          record.state = "changed";
          update.markedChanged++;
        }
      }
      // Data encoded with the old capnp schema must be re-encoded even when it reads the same.
      const reencode = stored.capnpSchema !== template.capnpSchema;
      if (!reencode && JSON.stringify(next) === JSON.stringify(service)) continue;
      plan.services.push(next);
      update.services++;
    }
    plan.updates.push(update);
  }
  return plan;
}
