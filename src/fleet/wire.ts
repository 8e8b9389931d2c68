/**
 * The messages between a coordinator and the workers of the fleet besides the payload
 * (docs/fleet.md, "Messages"): progress events of a running job (its start on a worker, its
 * log), the outcome a worker answers with, and the control messages (cancel, kill) a
 * coordinator publishes.
 *
 * @module
 */
import type { JobOutcome, JobRequest } from "../run/mod.ts";

/** What {@link failedOutcome} adds to a failed attempt's outcome. */
export interface FailedOutcomeOptions {
  /** How long the attempt took (default 0: it never ran). */
  millis?: number;
  /** The worker that refused or failed it. */
  worker?: string;
  cancelled?: boolean;
  timedOut?: boolean;
}

/**
 * A failed attempt's outcome made by the fleet itself (the coordinator or a worker), not by
 * the job: no result, no log, the service's data unchanged.
 */
export function failedOutcome(
  request: JobRequest,
  message: string,
  options: FailedOutcomeOptions = {},
): JobOutcome {
  const { millis = 0, ...flags } = options;
  return {
    ok: false,
    result: null,
    data: request.service.data,
    log: "",
    error: { message },
    ...flags,
    attempt: request.attempt ?? 1,
    millis,
  };
}

/** A BullMQ progress event of a fleet job. */
export type ProgressData =
  | { t: "start"; worker: string }
  | { t: "log"; text: string };

/** A coordinator's message on the control channel. */
export interface ControlMessage {
  /** The BullMQ job id. */
  id: string;
  /** `cancel` fires `job.signal`; `kill` ends the job at once. */
  kind: "cancel" | "kill";
  reason: string;
}

/** What a worker's processor returns: the attempt's outcome (its worker named in it). */
export interface FleetResult {
  outcome: JobOutcome;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The outcome in a worker's answer; a malformed answer is a failed attempt saying so, never
 * guessed at.
 */
export function parseResult(value: unknown, request: JobRequest): JobOutcome {
  const o = isRecord(value) ? value.outcome : undefined;
  const good = isRecord(o) && typeof o.ok === "boolean" && isRecord(o.data) &&
    typeof o.log === "string" &&
    (o.error === null || (isRecord(o.error) && typeof o.error.message === "string")) &&
    (o.worker === undefined || typeof o.worker === "string");
  if (!good) {
    return {
      ok: false,
      result: null,
      data: request.service.data,
      log: "",
      error: { message: "the worker answered with a malformed outcome" },
      attempt: request.attempt ?? 1,
      millis: 0,
    };
  }
  const outcome = o as unknown as JobOutcome;
  return {
    ...outcome,
    result: outcome.result ?? null,
    attempt: Number.isSafeInteger(outcome.attempt) ? outcome.attempt : request.attempt ?? 1,
    millis: typeof outcome.millis === "number" ? outcome.millis : 0,
  };
}

/** A control message, or null when `text` is not one. */
export function parseControl(text: string): ControlMessage | null {
  try {
    const m = JSON.parse(text) as ControlMessage;
    return typeof m?.id === "string" && (m.kind === "cancel" || m.kind === "kill") &&
        typeof m.reason === "string"
      ? m
      : null;
  } catch {
    return null;
  }
}
