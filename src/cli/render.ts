/**
 * Services as text for people (`ays list`, `ays show`, `ays state`): aligned tables and
 * indented blocks. The JSON forms are `src/model/views.ts`; these are built from them, so
 * text and JSON never disagree (secrets are masked the same way).
 *
 * @module
 */
import {
  type FieldSpec,
  type ServiceListEntry,
  serviceName,
  type ServiceShowEntry,
} from "../model/mod.ts";
import { formatPeriod } from "../hrd/mod.ts";

/** Lays out rows as columns separated by two spaces; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")
        .trimEnd()
    )
    .join("\n") + "\n";
}

/** `a, b, c`, or `-` for none. */
function joined(items: readonly string[]): string {
  return items.length === 0 ? "-" : items.join(", ");
}

/** Options of {@link renderList}. */
export interface RenderListOptions {
  /** Corrupted service records (`ROLE!INSTANCE`, or the store key): rows marked `CORRUPTED`. */
  corrupt?: readonly string[];
}

/** `ays list`: one row per service, then one per corrupted service record. */
export function renderList(
  entries: readonly ServiceListEntry[],
  options: RenderListOptions = {},
): string {
  const { corrupt = [] } = options;
  if (entries.length === 0 && corrupt.length === 0) return "no services\n";
  return table(
    ["SERVICE", "ACTOR", "STATE", "PARENT", "PRODUCERS"],
    [
      ...entries.map((e) => [
        serviceName(e.role, e.name),
        e.actor,
        e.state,
        e.parent ?? "-",
        joined(e.producers),
      ]),
      ...corrupt.map((name) => [name, "?", "CORRUPTED", "?", "?"]),
    ],
  );
}

/** A data value on one line. */
function valueText(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? "null";
}

/** Whether a value counts as not set (for `@ask` fields). */
function isEmpty(value: unknown): boolean {
  return value === "" || value === null || value === undefined ||
    (Array.isArray(value) && value.length === 0);
}

/** A period in seconds as `5m`, `1h30m`, `1w` (the HRD notation); `-` for none. */
export function periodText(seconds: number): string {
  if (!seconds) return "-";
  return formatPeriod(Math.round(seconds));
}

/** Options of {@link renderShow}. */
export interface RenderShowOptions {
  /** The actor's fields: `@ask` fields are marked when empty. */
  fields?: readonly FieldSpec[];
  /** Children of the service, `role!name`. */
  children?: readonly string[];
  /** Where its jobs run (docs/executors.md); a line only when not `local`. */
  executor?: string;
}

/** `ays show`: one block per service. */
export function renderShow(entry: ServiceShowEntry, options: RenderShowOptions = {}): string {
  const lines = [
    serviceName(entry.role, entry.name),
    `  key:        ${entry.key}`,
    `  actor:      ${entry.actor}`,
    `  state:      ${entry.state}`,
    `  parent:     ${entry.parent ?? "-"}`,
    `  producers:  ${joined(entry.producers)}`,
    `  consumers:  ${joined(entry.consumers)}`,
  ];
  if (options.children) lines.push(`  children:   ${joined(options.children)}`);
  if (options.executor && options.executor !== "local") {
    lines.push(`  executor:   ${options.executor}`);
  }
  const ask = new Set((options.fields ?? []).filter((f) => f.ask).map((f) => f.camelName));
  const names = Object.keys(entry.data);
  lines.push(names.length === 0 ? "  data:       -" : "  data:");
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) {
    const value = entry.data[name];
    const mark = ask.has(name) && isEmpty(value) ? "  (@ask: not set)" : "";
    lines.push(`    ${`${name}:`.padEnd(width + 1)} ${valueText(value)}${mark}`);
  }
  lines.push("  actions:");
  const actions = Object.entries(entry.actions);
  const actionWidth = Math.max(0, ...actions.map(([n]) => n.length));
  for (const [name, action] of actions) {
    const extra = [
      action.period ? `every ${periodText(action.period)}` : "",
      action.lastRun ? `last run ${action.lastRun}` : "",
    ].filter(Boolean).join(", ");
    lines.push(
      `    ${name.padEnd(actionWidth)}  ${action.state}${extra ? `  (${extra})` : ""}`.trimEnd(),
    );
    const job = action.lastJob;
    if (job) {
      const pad = " ".repeat(actionWidth + 6);
      lines.push(`${pad}last job ${job.state}${job.at ? ` at ${job.at}` : ""}, run ${job.run}`);
      if (job.error) lines.push(`${pad}error: ${job.error.split("\n")[0]}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** One service in `ays state --json`. */
export interface ServiceStateEntry {
  /** `role!name`. */
  service: string;
  key: string;
  actor: string;
  state: ServiceShowEntry["state"];
  actions: ServiceShowEntry["actions"];
}

/** The `ays state --json` entry of a service (from its show entry, without data or links). */
export function stateEntry(entry: ServiceShowEntry): ServiceStateEntry {
  return {
    service: serviceName(entry.role, entry.name),
    key: entry.key,
    actor: entry.actor,
    state: entry.state,
    actions: entry.actions,
  };
}

/** `ays state`: one row per action of each service. */
export function renderState(entries: readonly ServiceStateEntry[]): string {
  if (entries.length === 0) return "no services\n";
  const rows: string[][] = [];
  for (const entry of entries) {
    for (const [name, action] of Object.entries(entry.actions)) {
      rows.push([
        entry.service,
        entry.state,
        name,
        action.paused === undefined ? action.state : `paused: ${action.paused}`,
        periodText(action.period),
        action.lastRun ?? "-",
      ]);
    }
  }
  return table(["SERVICE", "SERVICE STATE", "ACTION", "STATE", "PERIOD", "LAST RUN"], rows);
}
