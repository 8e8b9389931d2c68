/**
 * `ays blueprint --dry-run` as a diff, as `terraform plan` is (docs/blueprints.md, "Dry run"):
 * new services with their attributes and links (`+`), updated ones with each changed field
 * `old → new` and the links added and removed (`~`), the actions that will be scheduled, and
 * the services of the store that no blueprint declares any more (`-`). The same content as
 * data for `--json`; secrets masked unless revealed.
 *
 * @module
 */
import { type ActorRecord, maskedData, serviceName, type ServiceRecord } from "../model/mod.ts";
import type { ChangeSet, FieldChange } from "./resolve.ts";
import { summarizeChangeSet } from "./summary.ts";

/** The dry run as data (`ays blueprint --dry-run --json`, key `diff`). */
export interface BlueprintDiff {
  create: { service: string; actor: string; data: Record<string, unknown>; links: string[] }[];
  update: {
    service: string;
    changes: Record<string, FieldChange>;
    linksAdded: string[];
    linksRemoved: string[];
  }[];
  schedule: { service: string; action: string; changes?: string[] }[];
  /** Services in the store that no applied blueprint declares, nor links to. */
  notInBlueprints: string[];
}

/** Options of {@link blueprintDiff}. */
export interface DiffOptions {
  /** The actors, for secret fields. */
  actors: ReadonlyMap<string, ActorRecord>;
  /** The services of the store before the unit. */
  stored: readonly ServiceRecord[];
  /**
   * `role!instance` of every service the applied blueprints declare; omit when only some
   * blueprint files were applied (then nothing is reported as not in any blueprint).
   */
  declared?: ReadonlySet<string>;
  /** Show secret values. */
  reveal?: boolean;
}

/** A service's links: its parent and producers, `role!instance`, sorted, once each. */
function linksOf(service: ServiceRecord): string[] {
  const out = new Set<string>();
  if (service.parent) out.add(service.parent);
  for (const names of Object.values(service.producers)) for (const n of names) out.add(n);
  return [...out].sort();
}

/** The diff of a change set against the stored services. Pure. */
export function blueprintDiff(changes: ChangeSet, options: DiffOptions): BlueprintDiff {
  const { actors, stored, declared, reveal = false } = options;
  const summary = summarizeChangeSet(changes, { actors, reveal });
  const before = new Map(stored.map((s) => [serviceName(s.role, s.name), s]));
  const create = changes.created.map((s) => ({
    service: serviceName(s.role, s.name),
    actor: s.actor,
    data: maskedData(actors.get(s.actor)?.fields ?? [], s.data, { reveal }),
    links: linksOf(s),
  }));
  const update = changes.updated.map((u, i) => {
    const name = serviceName(u.service.role, u.service.name);
    const old = before.get(name);
    const was = old ? linksOf(old) : [];
    const now = linksOf(u.service);
    return {
      service: name,
      changes: summary.updated[i].changes,
      linksAdded: now.filter((l) => !was.includes(l)),
      linksRemoved: was.filter((l) => !now.includes(l)),
    };
  });
  const notInBlueprints: string[] = [];
  if (declared) {
    // Kept: what a blueprint declares, and whatever those link to (auto-created producers).
    const after = new Map(before);
    for (const s of [...changes.created, ...changes.updated.map((u) => u.service)]) {
      after.set(serviceName(s.role, s.name), s);
    }
    const kept = new Set<string>();
    const keep = (name: string) => {
      if (kept.has(name)) return;
      kept.add(name);
      const service = after.get(name);
      if (service) linksOf(service).forEach(keep);
    };
    for (const name of declared) keep(name);
    for (const name of [...before.keys()].sort()) if (!kept.has(name)) notInBlueprints.push(name);
  }
  return { create, update, schedule: summary.scheduled, notInBlueprints };
}

/** Options of {@link renderDiff}. */
export interface RenderDiffOptions {
  /** ANSI colours: `+` green, `~` yellow, `-` red, scheduled actions cyan. */
  color?: boolean;
}

const COLORS = { "+": "32", "~": "33", "-": "31", " ": "36" } as const;

function valueText(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/** The diff as text lines for people; `no changes` when there is nothing in it. */
export function renderDiff(diff: BlueprintDiff, options: RenderDiffOptions = {}): string {
  const { color = false } = options;
  const lines: string[] = [];
  const line = (sign: keyof typeof COLORS, text: string) => {
    const plain = `${sign} ${text}`;
    lines.push(color ? `\x1b[${COLORS[sign]}m${plain}\x1b[0m` : plain);
  };
  for (const c of diff.create) {
    line("+", `${c.service} (${c.actor})`);
    for (const [field, value] of Object.entries(c.data)) {
      line("+", `    ${field}: ${valueText(value)}`);
    }
    for (const link of c.links) line("+", `    link ${link}`);
  }
  for (const u of diff.update) {
    line("~", u.service);
    for (const [field, change] of Object.entries(u.changes)) {
      line("~", `    ${field}: ${valueText(change.old)} → ${valueText(change.new)}`);
    }
    for (const link of u.linksAdded) line("+", `    link ${link}`);
    for (const link of u.linksRemoved) line("-", `    link ${link}`);
  }
  for (const s of diff.schedule) {
    line(" ", `schedule ${s.service} ${s.action}${s.changes ? ` (${s.changes.join(", ")})` : ""}`);
  }
  for (const name of diff.notInBlueprints) {
    line("-", `not in any blueprint: ${name} — \`ays delete ${name}\` to remove`);
  }
  if (lines.length === 0) return "no changes\n";
  return lines.join("\n") + "\n";
}
