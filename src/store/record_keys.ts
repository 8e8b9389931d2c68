/**
 * Every key, log name, lock name and queue name ays uses in a repository's store, in one
 * place (docs/store.md, "Records and keys"). Nothing outside `src/store/` builds a key: the
 * records modules (`repo_store.ts`, `run_records.ts`) and the store's own helpers call these.
 *
 * One namespace per repository, so no repository name appears in a key:
 *
 * | key                            | value                                                  |
 * | ------------------------------ | ------------------------------------------------------ |
 * | `repo`                         | the repository record                                  |
 * | `actor:<name>`                 | an actor                                               |
 * | `service:<key>`                | a service; its data encoded with the actor's schema    |
 * | `idx:actor:<actor>:<key>`      | empty: the services of an actor                        |
 * | `idx:parent:<role!name>:<key>` | empty: the children of a service                       |
 * | `idx:due:<key>`                | empty: a service with an action a run may take         |
 * | `idx:open-run:<id>`            | empty: a run not final yet (`new` or `running`)        |
 * | `run:<id>`                     | a run (its steps, scope, state, times)                 |
 * | `job:<runId>:<jobId>`          | a job of a run, a record of its own                    |
 * | `source:<sha256>`              | the text of an actions file, by its SHA-256            |
 * | `meta:path`                    | the folder that owns the repository name               |
 * | `daemon:status`                | the serving daemon's status (JSON)                     |
 *
 * Job logs are driver logs named `job:<jobId>`. The jobs of one recurring action of one
 * service are kept under the pseudo run id `recurring.<role!name>.<action>` (no run record).
 * Index values inside keys are URI-encoded so that a `:` in a name cannot make one prefix
 * match another.
 *
 * @module
 */

/** The repository record. */
export const REPO_KEY = "repo";

/** The key recording which folder owns the repository name on a store. */
export const REPO_PATH_KEY = "meta:path";

/** The daemon's status record in each served repository's store (JSON). */
export const DAEMON_STATUS_KEY = "daemon:status";

/** The lock a run (and every other writing command) takes (docs/runs.md). */
export const REPO_LOCK = "repo";

/** The queue of run requests the daemon serves (docs/daemon.md). */
export const RUN_QUEUE = "runs";

/** Prefix of every actor record. */
export const ACTOR_PREFIX = "actor:";

/** Prefix of every service record. */
export const SERVICE_PREFIX = "service:";

/** Prefix of every run record. */
export const RUN_PREFIX = "run:";

/** Prefix of every job record (of every run). */
export const JOB_PREFIX = "job:";

/** The key of an actor. */
export function actorKey(name: string): string {
  return ACTOR_PREFIX + name;
}

/** The key of a service record, by the service's key (see `serviceKey` of the model). */
export function serviceRecordKey(key: string): string {
  return SERVICE_PREFIX + key;
}

/** Prefix of every index entry. */
export const INDEX_PREFIX = "idx:";

/** `idx:<kind>:<encoded value>:` — the prefix of one index value. */
export function indexPrefix(kind: "actor" | "parent", value: string): string {
  return `${INDEX_PREFIX}${kind}:${encodeURIComponent(value)}:`;
}

/**
 * Prefix of the due index (docs/store.md, "The due index"): one entry per service with an
 * action in one of {@link DUE_STATES}, so that a run with nothing due reads no service.
 */
export const DUE_PREFIX = `${INDEX_PREFIX}due:`;

/**
 * The action states a run may take an action in (scheduled, changed, a failed one retried,
 * a running one a dead run left): every due action is in one of them. A superset of what is
 * due — the planner decides — but the planner takes no action in any other state.
 */
export const DUE_STATES: ReadonlySet<string> = new Set([
  "scheduled",
  "changed",
  "error",
  "running",
]);

/** Whether a service has an action in one of {@link DUE_STATES}. */
export function hasDueAction(
  service: { actions: Readonly<Record<string, { state: string }>> },
): boolean {
  for (const name in service.actions) {
    if (Object.hasOwn(service.actions, name) && DUE_STATES.has(service.actions[name].state)) {
      return true;
    }
  }
  return false;
}

/**
 * The index entries a service needs: by actor, by parent when it has one, and in the due
 * index when it has an action in a {@link DUE_STATES} state.
 */
export function indexKeys(
  service: {
    key: string;
    actor: string;
    parent: string | null;
    actions: Readonly<Record<string, { state: string }>>;
  },
): string[] {
  const keys = [indexPrefix("actor", service.actor) + service.key];
  if (service.parent) keys.push(indexPrefix("parent", service.parent) + service.key);
  if (hasDueAction(service)) keys.push(DUE_PREFIX + service.key);
  return keys;
}

/** The last `:`-separated part of a key (a service key in an index entry, a job id). */
export function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf(":") + 1);
}

/**
 * Prefix of the open-runs index (docs/store.md, "The open-runs index"): one entry per run
 * whose state is not final (`new`, `running`), so that a run looking for what a dead one left
 * reads those runs only instead of decoding every run record of the history.
 */
export const OPEN_RUN_PREFIX = `${INDEX_PREFIX}open-run:`;

/** The open-runs index entry of a run. */
export function openRunKey(id: string): string {
  return OPEN_RUN_PREFIX + id;
}

/** The key of a run record. */
export function runKey(id: string): string {
  return RUN_PREFIX + id;
}

/** The prefix of the job records of one run. */
export function jobPrefix(runId: string): string {
  return `${JOB_PREFIX}${runId}:`;
}

/** The key of one job record. */
export function jobKey(runId: string, jobId: string): string {
  return jobPrefix(runId) + jobId;
}

/** The driver log of one job. */
export function jobLogName(jobId: string): string {
  return JOB_PREFIX + jobId;
}

/** The key of an actions file's text, by its SHA-256 (hex). */
export function sourceKey(sha: string): string {
  return `source:${sha}`;
}

/**
 * The pseudo run id under which the jobs of one recurring action of one service are
 * recorded: `recurring.<role!instance>.<action>`. There is no run record with this id
 * (recurring jobs are not runs and do not show in `ays runs`).
 */
export function recurringRunId(service: string, action: string): string {
  return `recurring.${service}.${action}`;
}
