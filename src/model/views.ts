/**
 * The JSON shapes ays shows services in (docs/cli.md): `ays list --json`, `ays show --json` and the
 * daemon's HTTP API give the same objects, built here.
 *
 * @module
 */
import type { FieldSpec } from "./field_spec.ts";
import { serviceState } from "./schedule.ts";
import type {
  ActionState,
  JobRecord,
  JobState,
  ServiceRecord,
  ServiceState,
  ServiceSummary,
} from "./types.ts";

/** One service as `ays list --json` prints it. */
export interface ServiceListEntry {
  key: string;
  /** The instance. */
  name: string;
  actor: string;
  role: string;
  state: ServiceState;
  /** `role!name` or null. */
  parent: string | null;
  /** Flat list of `role!name`. */
  producers: string[];
  consumers: string[];
  actions: Record<string, ActionState>;
}

/** One action as `ays show --json` prints it. */
export interface ActionView {
  state: ActionState;
  /** Seconds. */
  period: number;
  /** ISO 8601 or null. */
  lastRun: string | null;
  /** The action's last job, when it has one and the job record is still kept. */
  lastJob?: LastJobView;
  /** A recurring action the daemon does not run now, and why (`ays state`). */
  paused?: string;
}

/** The last job of an action, as `ays show` says why an action is in its state. */
export interface LastJobView {
  id: string;
  run: string;
  state: JobState;
  /** When it ended (ISO 8601), or when it started while it runs, or null. */
  at: string | null;
  /** The error message of a failed job. */
  error?: string;
}

/** One service as `ays show --json` prints it. */
export interface ServiceShowEntry extends Omit<ServiceListEntry, "actions"> {
  data: Record<string, unknown>;
  actions: Record<string, ActionView>;
}

/** Options of {@link showEntry}. */
export interface ShowOptions {
  /** Show secret values instead of `***`. */
  reveal?: boolean;
  /** Job records by id, for each action's last job (`ays show`). */
  jobs?: ReadonlyMap<string, JobRecord>;
}

/** What secret values are replaced with. */
export const MASK = "***";

/** Services sorted by role, then instance name (the order of every listing). */
export function sortServices<T extends Pick<ServiceRecord, "role" | "name">>(services: T[]): T[] {
  return [...services].sort((a, b) =>
    a.role < b.role ? -1 : a.role > b.role ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
}

/** The flat, sorted producer list of a service. */
export function flatProducers(service: Pick<ServiceRecord, "producers">): string[] {
  return Object.values(service.producers).flat().sort();
}

/** The `ays list --json` entry of a service. */
export function listEntry(service: ServiceSummary): ServiceListEntry {
  const actions: Record<string, ActionState> = {};
  for (const [name, action] of Object.entries(service.actions)) actions[name] = action.state;
  return {
    key: service.key,
    name: service.name,
    actor: service.actor,
    role: service.role,
    state: serviceState(service),
    parent: service.parent,
    producers: flatProducers(service),
    consumers: [...service.consumers].sort(),
    actions,
  };
}

/** The data of a service with secret fields masked, unless `reveal`. */
export function maskedData(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  options: ShowOptions = {},
): Record<string, unknown> {
  if (options.reveal) return { ...data };
  const secret = new Set(fields.filter((f) => f.secret).map((f) => f.camelName));
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(data)) {
    shown[name] = secret.has(name) && value !== "" && value !== undefined ? MASK : value;
  }
  return shown;
}

/** The `ays show --json` entry of a service; `fields` are its actor's schema fields. */
export function showEntry(
  service: ServiceRecord,
  fields: readonly FieldSpec[],
  options: ShowOptions = {},
): ServiceShowEntry {
  const actions: Record<string, ActionView> = {};
  for (const [name, action] of Object.entries(service.actions)) {
    actions[name] = {
      state: action.state,
      period: action.period,
      lastRun: action.lastRun === null ? null : new Date(action.lastRun).toISOString(),
    };
    const job = action.lastJob === null ? undefined : options.jobs?.get(action.lastJob);
    if (job) actions[name].lastJob = lastJobView(job);
  }
  return { ...listEntry(service), data: maskedData(fields, service.data, options), actions };
}

/** The {@link LastJobView} of a job record. */
export function lastJobView(job: JobRecord): LastJobView {
  const at = job.endedAt ?? job.startedAt;
  return {
    id: job.id,
    run: job.runId,
    state: job.state,
    at: at === null ? null : new Date(at).toISOString(),
    ...(job.error ? { error: job.error.message } : {}),
  };
}
