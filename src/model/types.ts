/**
 * The records ays keeps in its store (docs/repositories.md, docs/blueprints.md, docs/runs.md): actors, services with their action
 * states, runs and jobs. These are the in-memory shapes; `src/store/` encodes them with the
 * Cap'n Proto models of `schemas/ays.capnp`.
 *
 * @module
 */
import type { FieldSpec } from "./field_spec.ts";

/** States of one action of one service (docs/blueprints.md). */
export type ActionState = "new" | "scheduled" | "running" | "ok" | "error" | "changed" | "disabled";

/** Every action state, in display order. */
export const ACTION_STATES: readonly ActionState[] = [
  "new",
  "scheduled",
  "running",
  "ok",
  "error",
  "changed",
  "disabled",
];

/** Actions every actor has even when its actions file does not define them (docs/runs.md). */
export const DEFAULT_ACTIONS: readonly string[] = [
  "init",
  "install",
  "start",
  "stop",
  "monitor",
  "uninstall",
  "processChange",
];

/** Default prerequisites on the same service; `actor.yaml` `deps:` replaces an action's list. */
export const DEFAULT_DEPS: Readonly<Record<string, readonly string[]>> = {
  install: ["init"],
  start: ["install"],
  monitor: ["start"],
  uninstall: ["stop"],
};

/** Derived service state for display (docs/blueprints.md). */
export type ServiceState = "error" | "changed" | "ok" | "new";

/** Settings of one action from `actor.yaml` (docs/hrd.md); durations in seconds. */
export interface ActionSettings {
  /** Default 3600. */
  timeout: number;
  /** Default 0. */
  retries: number;
  /** Default 1; doubles per attempt. */
  retryDelay: number;
  /** Replaces the default prerequisites on the same service. */
  deps?: string[];
  /** A custom action ordered after the same action of the producers. */
  producers?: boolean;
  /**
   * `job`: a fresh worker for each job of this action; `process`: a worker in a child process
   * with a memory limit (docs/runs.md, "Memory limits").
   */
  isolation?: "pool" | "job" | "process";
  /** Bytes a job of this action may use with `isolation: process` (default 1 GiB). */
  memory?: number;
}

/** `recurring.<action>` of an actor (docs/hrd.md). */
export interface RecurringSpec {
  /** Seconds; 0 disables. */
  period: number;
  log: boolean;
}

/** An actor's configuration from `actor.hrd` or `actor.yaml`. */
export interface ActorConfig {
  recurring: Record<string, RecurringSpec>;
  actions: Record<string, Partial<ActionSettings>>;
  /** `flists.<name>`: stored and shown, no behaviour. */
  flists: Record<string, string>;
  /** `event.*` / `events.*`: stored and shown, no behaviour. */
  events: Record<string, string>;
  /** `executor: local`: the actor's jobs run on the machine ays runs on (docs/executors.md). */
  executor?: "local";
  /**
   * `worker: LABEL`: with the fleet, this actor's jobs (and those of its descendants without a
   * label of their own) go to workers with that label (docs/fleet.md). Absent when not set.
   */
  worker?: string;
}

/** The repository's copy of a template. */
export interface ActorRecord {
  /** e.g. `node.ssh`. */
  name: string;
  /** The part before the first dot, e.g. `node`. */
  role: string;
  /** Folder of the template it came from. */
  templatePath: string;
  /** The schema fields (from `schema.hrd`, or derived from `schema.capnp`). */
  fields: FieldSpec[];
  /** The capnp schema text services' data is encoded with. */
  capnpSchema: string;
  /** Absolute path of `actions.ts` / `actions.js`, or null when the template has none. */
  actionsPath: string | null;
  /** SHA-256 (hex) of the actions file when it was last read. */
  actionsHash: string | null;
  /** Names of the actions the file exports plus the default ones. */
  actionNames: string[];
  /**
   * Names of the actions the file really exports (`[]` without a file): a default action that
   * is not among them is satisfied without a job. Absent in records stored before ays knew it:
   * then every action counts as exported.
   */
  exported?: string[];
  config: ActorConfig;
}

/** One action of one service. */
export interface ActionRecord {
  state: ActionState;
  /** Seconds; 0 = not recurring. */
  period: number;
  /** Epoch milliseconds of the last start, or null. */
  lastRun: number | null;
  /** Id of the last job, or null. */
  lastJob: string | null;
  /**
   * Arguments for the next job of this action (its `job.args`), kept until the action
   * succeeds: `ays blueprint` puts `{changes: {field: {old, new}}}` on a scheduled
   * `processChange` (secret values as `***`). Absent when there are none.
   */
  args?: Record<string, unknown>;
}

/** A service: one instance of an actor. `parent`, `producers`, `consumers` are `role!name`. */
export interface ServiceRecord {
  /** Derived from repository name and `role!instance` ({@link serviceKey}). */
  key: string;
  /** The instance, e.g. `web1`. */
  name: string;
  actor: string;
  role: string;
  parent: string | null;
  /** Producers by role (the parent is also a producer). */
  producers: Record<string, string[]>;
  consumers: string[];
  /** Decoded data, typed by the actor's schema. */
  data: Record<string, unknown>;
  /** Set when a blueprint changed the data; cleared when `processChange` succeeds. */
  changed: boolean;
  actions: Record<string, ActionRecord>;
  /** `eventfilters:` entries from blueprints: stored and shown. */
  eventFilters: EventFilter[];
}

/**
 * What a listing shows of a service (`ays list`): the record without its data, event filters
 * and the actions' details. Read without decoding the rest (docs/store.md).
 */
export type ServiceSummary =
  & Pick<
    ServiceRecord,
    "key" | "name" | "actor" | "role" | "parent" | "producers" | "consumers" | "changed"
  >
  & { actions: Record<string, Pick<ActionRecord, "state">> };

/** One `eventfilters:` entry of a blueprint. */
export interface EventFilter {
  actor?: string;
  service?: string;
  channel?: string;
  cmd?: string;
  secret?: string;
  action?: string;
}

/** States of a run. */
export type RunState = "new" | "running" | "ok" | "error" | "cancelled";

/** States of a job. */
export type JobState = "new" | "running" | "ok" | "error" | "skipped" | "cancelled";

/** One planned job: an action of a service. */
export interface PlannedJob {
  /** `role!name`. */
  service: string;
  action: string;
}

/** A run (docs/runs.md): recorded before it starts; its jobs are records of their own. */
export interface RunRecord {
  id: string;
  repo: string;
  /** The filters the run was planned with. */
  scope: { role?: string; instance?: string; action?: string };
  steps: PlannedJob[][];
  state: RunState;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Who executes it: pid, host. */
  holder: { pid: number; host: string } | null;
}

/** One action of one service in one run. */
export interface JobRecord {
  id: string;
  runId: string;
  /** `role!name`. */
  service: string;
  action: string;
  state: JobState;
  attempts: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The action's JSON return value. */
  result: unknown;
  error: { message: string; stack?: string } | null;
  /** SHA-256 of the actions file the job ran. */
  actionsHash: string | null;
  /** The fleet worker that ran its last attempt (docs/fleet.md); absent for the local pool. */
  worker?: string;
}
