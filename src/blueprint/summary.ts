/**
 * What `ays blueprint --dry-run` prints: a change set as lines or as JSON, with the values of
 * secret fields shown as `***` (docs/hrd.md: never printed).
 *
 * @module
 */
import { type ActorRecord, serviceName, type ServiceRecord } from "../model/mod.ts";
import type { ChangeSet, FieldChange } from "./resolve.ts";

/** Options of the summary functions. */
export interface SummaryOptions {
  /** The actors, to know which fields are secret. */
  actors: ReadonlyMap<string, ActorRecord>;
  /** Show secret values (`--reveal`). */
  reveal?: boolean;
}

/** A change set as data: services by `role!name`, changes with secrets masked. */
export interface ChangeSetSummary {
  created: { service: string; actor: string }[];
  updated: { service: string; changes: Record<string, FieldChange> }[];
  scheduled: { service: string; action: string; changes?: string[] }[];
  warnings: string[];
}

const MASK = "***";

/** The camelCase names of an actor's secret fields. */
function secretsOf(actor: ActorRecord | undefined): Set<string> {
  return new Set(
    (actor?.fields ?? []).filter((f) => f.secret || f.type === "password").map((f) => f.camelName),
  );
}

/** A value as shown: masked when secret and not empty. */
function shown(value: unknown, secret: boolean, reveal: boolean): unknown {
  if (!secret || reveal || value === "" || value === null || value === undefined) return value;
  return MASK;
}

/** The change set as data for `--json`, secrets masked unless `reveal`. */
export function summarizeChangeSet(changes: ChangeSet, options: SummaryOptions): ChangeSetSummary {
  const reveal = options.reveal ?? false;
  const mask = (service: ServiceRecord, fieldChanges: Record<string, FieldChange>) => {
    const secrets = secretsOf(options.actors.get(service.actor));
    const out: Record<string, FieldChange> = {};
    for (const [field, change] of Object.entries(fieldChanges)) {
      const secret = secrets.has(field);
      out[field] = {
        old: shown(change.old, secret, reveal),
        new: shown(change.new, secret, reveal),
      };
    }
    return out;
  };
  return {
    created: changes.created.map((s) => ({ service: serviceName(s.role, s.name), actor: s.actor })),
    updated: changes.updated.map((u) => ({
      service: serviceName(u.service.role, u.service.name),
      changes: mask(u.service, u.changes),
    })),
    scheduled: changes.scheduled.map((s) =>
      s.args
        ? { service: s.service, action: s.action, changes: Object.keys(s.args.changes) }
        : { service: s.service, action: s.action }
    ),
    warnings: [...changes.warnings],
  };
}

/** A value in one line of text. */
function text(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "null";
}

/**
 * The change set as lines for people: `create`, `update` (one line per changed field),
 * `schedule`, `warning`; `nothing to do` when empty.
 */
export function describeChangeSet(changes: ChangeSet, options: SummaryOptions): string[] {
  const summary = summarizeChangeSet(changes, options);
  const lines: string[] = [];
  for (const c of summary.created) lines.push(`create ${c.service} (${c.actor})`);
  for (const u of summary.updated) {
    const fields = Object.entries(u.changes);
    if (fields.length === 0) lines.push(`update ${u.service} (links, actions or filters)`);
    for (const [field, change] of fields) {
      lines.push(`update ${u.service}: ${field} ${text(change.old)} → ${text(change.new)}`);
    }
  }
  for (const s of summary.scheduled) {
    lines.push(`schedule ${s.service} ${s.action}${s.changes ? ` (${s.changes.join(", ")})` : ""}`);
  }
  for (const w of summary.warnings) lines.push(`warning: ${w}`);
  if (lines.length === 0) lines.push("nothing to do");
  return lines;
}
