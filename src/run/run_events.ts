/**
 * What a run publishes to the repository's event stream (docs/events.md): the engine's
 * records turned into events — the run's start and end, each job's start, log lines, retries
 * and end, and the actions' state changes. A state change is published after its record is
 * durable, so no view shows a state the store does not have; log lines as they come.
 *
 * @module
 */
import type { EventSink } from "../events/mod.ts";
import { runExitCode } from "../events/mod.ts";
import type { JobRecord, RunRecord } from "../model/mod.ts";

/** Publishes one run's events; a run without a sink publishes nothing. */
export class RunEvents {
  readonly #sink: EventSink | undefined;
  readonly #runId: string;
  /** Partial last lines of each job's log, until their newline comes. */
  readonly #partial = new Map<string, string>();

  constructor(sink: EventSink | undefined, runId: string) {
    this.#sink = sink;
    this.#runId = runId;
  }

  /** The run began executing. */
  started(run: RunRecord, jobs: number): void {
    const action = run.scope.action;
    this.#sink?.publish({
      type: "run.started",
      runId: this.#runId,
      ...(action ? { action } : {}),
      jobs,
    });
  }

  /** A job's record changed: `running` is its start, a final state its end. */
  job(job: JobRecord, options: { worker?: string } = {}): void {
    if (!this.#sink) return;
    const { runId, id: jobId, service, action } = job;
    if (job.state === "running") {
      this.#sink.publish({
        type: "job.started",
        runId,
        jobId,
        service,
        action,
        attempt: Math.max(1, job.attempts),
        ...(options.worker ? { worker: options.worker } : {}),
      });
      return;
    }
    if (job.state === "new") return;
    this.#flushLog(job);
    const started = job.startedAt;
    this.#sink.publish({
      type: "job.ended",
      runId,
      jobId,
      service,
      action,
      state: job.state,
      ...(job.state !== "ok" && job.error ? { error: job.error.message } : {}),
      durationMs: started !== null && job.endedAt !== null ? job.endedAt - started : 0,
    });
  }

  /** A failed attempt that will be tried again. */
  retry(job: JobRecord, error: string): void {
    this.#sink?.publish({
      type: "job.retry",
      runId: job.runId,
      jobId: job.id,
      attempt: job.attempts,
      error,
    });
  }

  /** Log text of a job (already masked): whole lines are published, the rest waits. */
  log(job: Pick<JobRecord, "id" | "runId">, text: string): void {
    if (!this.#sink) return;
    const pending = (this.#partial.get(job.id) ?? "") + text;
    const cut = pending.lastIndexOf("\n");
    if (cut < 0) {
      this.#partial.set(job.id, pending);
      return;
    }
    this.#partial.set(job.id, pending.slice(cut + 1));
    const lines = pending.slice(0, cut).split("\n").map((line) => line.replace(/\r$/, ""));
    this.#sink.publish({ type: "job.log", runId: job.runId, jobId: job.id, lines });
  }

  /** An action of a service is now in `state`. */
  serviceState(service: string, action: string, state: string): void {
    this.#sink?.publish({ type: "service.state", service, action, state });
  }

  /** The run ended; `jobs` are all its jobs as recorded. */
  ended(run: RunRecord, jobs: readonly JobRecord[]): void {
    const counts: Record<string, number> = {};
    for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
    this.#sink?.publish({
      type: "run.ended",
      runId: this.#runId,
      state: run.state,
      exitCode: runExitCode(run.state),
      counts,
    });
  }

  #flushLog(job: Pick<JobRecord, "id" | "runId">): void {
    const rest = this.#partial.get(job.id);
    this.#partial.delete(job.id);
    if (rest) {
      this.#sink!.publish({ type: "job.log", runId: job.runId, jobId: job.id, lines: [rest] });
    }
  }
}
