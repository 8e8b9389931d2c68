/**
 * One job in the worker pool with its action settings (docs/runs.md, "Retries"): each attempt gets the
 * timeout, isolation, cancellation and kill signals; failed attempts are retried. Shared by
 * the runs ({@link executePlan}) and the daemon's recurring jobs so both execute alike.
 *
 * @module
 */
import type { ActionSettings } from "../model/mod.ts";
import type { JobOutcome, JobRequest, JobRunner } from "./job_protocol.ts";
import { runWithRetries } from "./retry.ts";

/** Options of {@link runJob}. */
export interface RunJobSettingsOptions {
  /** The action's settings (timeout and retry delay in seconds). */
  settings: ActionSettings;
  /** Cancellation: the job gets `job.signal`; no retry starts. */
  signal?: AbortSignal;
  /** Terminates the running attempt at once (its worker and exec process groups). */
  kill?: AbortSignal;
  /** The job log as it is written. */
  onLog?: (text: string) => void;
  /** A failed attempt that will be retried after `delayMs`. */
  onRetry?: (outcome: JobOutcome, delayMs: number) => void | Promise<void>;
}

/** Runs `request` in `pool` with retries; resolves with the last attempt's outcome. */
export function runJob(
  pool: JobRunner,
  request: JobRequest,
  options: RunJobSettingsOptions,
): Promise<JobOutcome> {
  const { settings } = options;
  return runWithRetries(
    (attempt) =>
      pool.run({ ...request, attempt }, {
        timeoutMs: settings.timeout * 1000,
        isolation: settings.isolation,
        memory: settings.memory,
        signal: options.signal,
        kill: options.kill,
        onLog: options.onLog,
      }),
    {
      retries: settings.retries,
      retryDelayMs: settings.retryDelay * 1000,
      signal: options.signal,
      onRetry: options.onRetry,
    },
  );
}
