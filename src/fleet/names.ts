/**
 * Where the fleet lives in the shared Redis (docs/fleet.md, "Keys"): one fleet per Redis
 * database, shared by every repository that uses it, under `ays:~fleet:` — `~` can be in no
 * repository name, so the fleet's keys never meet a repository's `ays:<repo>:`.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** BullMQ's key prefix for the fleet's queues (`ays:~fleet:<queue>:…`). */
export const FLEET_PREFIX = "ays:~fleet";

/** The queue every worker serves: jobs without a label. */
export const DEFAULT_LABEL = "default";

/** Hash: worker name → its registration (JSON), refreshed by its heartbeat. */
export const WORKERS_KEY = `${FLEET_PREFIX}:workers`;

/** Pub/sub channel of cancellations and kills, from a coordinator to the workers. */
export const CONTROL_CHANNEL = `${FLEET_PREFIX}:control`;

/** Labels and worker names go into Redis keys: kept to characters needing no escaping. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `label`, or an InputError naming `what` (`--label`, `worker:` of actor.yaml…). */
export function checkLabel(label: string, what: string): string {
  if (!LABEL_PATTERN.test(label)) {
    throw new InputError(
      `${what} '${label}' must start with a letter or digit and hold only letters, digits, '.', '_' and '-'`,
    );
  }
  return label;
}

/** The BullMQ queue of a label. */
export function queueName(label: string): string {
  return `q-${label}`;
}

/** Marks a job cancelled (a worker checks it before it starts the job). */
export function cancelledKey(jobId: string): string {
  return `${FLEET_PREFIX}:cancelled:${jobId}`;
}

/** Hash of a repository's jobs handed to the fleet: `<service key>/<action>` → job id. */
export function handedKey(repo: string): string {
  return `${FLEET_PREFIX}:handed:${repo}`;
}
