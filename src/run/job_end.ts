/**
 * What happens when a job ends, shared by runs and the daemon's recurring jobs: a successful
 * job's data is checked against the schema, the action gets its final state, and the log
 * text becomes lines. Pure functions; the callers write the results.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import {
  type ActionState,
  type ActorRecord,
  onActionSucceeded,
  type ServiceRecord,
  validateData,
} from "../model/mod.ts";
import type { JobOutcome } from "./job_protocol.ts";

/**
 * A successful job's data must still fit the actor's schema, or the job fails (not retried:
 * the action itself succeeded). Other outcomes, and jobs without an actor, pass unchanged.
 */
export function acceptOutcome(actor: ActorRecord | undefined, outcome: JobOutcome): JobOutcome {
  if (!actor || !outcome.ok) return outcome;
  try {
    return { ...outcome, data: validateData(actor.fields, outcome.data) };
  } catch (error) {
    const message = error instanceof InputError ? error.message : String(error);
    return {
      ...outcome,
      ok: false,
      error: { message: `the job's data changes are invalid: ${message}` },
    };
  }
}

/** Options of {@link endAction}. */
export interface EndActionOptions {
  /** How the job ended. */
  state: "ok" | "error" | "cancelled";
  /** The action's state before its job set it `running`. */
  before: ActionState;
  /** The service data the job left (used when `state` is `ok`). */
  data?: Record<string, unknown>;
  /** The job's id, kept as the action's `lastJob`. */
  jobId: string;
}

/**
 * The service after one of its action's jobs ended: `ok` takes the job's data and marks the
 * action ok (with what that implies for the others), `error` marks it error, and a cancelled
 * job leaves it as it was found (`running` there, an interrupted attempt, becomes
 * `scheduled`) to be taken again. Pure: `service` is not changed. An unknown action leaves
 * the service as it is.
 */
export function endAction(
  service: ServiceRecord,
  action: string,
  options: EndActionOptions,
): ServiceRecord {
  const current = service.actions[action];
  if (!current) return service;
  if (options.state === "ok") {
    const next = onActionSucceeded({ ...service, data: options.data ?? service.data }, action);
    next.actions[action] = { ...next.actions[action], lastJob: options.jobId };
    return next;
  }
  const back: ActionState = options.state === "error"
    ? "error"
    : options.before === "running"
    ? "scheduled"
    : options.before;
  return {
    ...service,
    actions: { ...service.actions, [action]: { ...current, state: back, lastJob: options.jobId } },
  };
}

/** Log text as lines: split at newlines, without the empty line after a final newline. */
export function logLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The `[error]` line a failed job's log ends with, if it has an error. */
export function errorLogLine(outcome: JobOutcome | undefined): string | undefined {
  return outcome && !outcome.ok && outcome.error ? `[error] ${outcome.error.message}` : undefined;
}
