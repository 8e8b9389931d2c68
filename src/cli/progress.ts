/**
 * What `ays run` and `ays do` show while a run executes, on standard error (docs/runs.md): on a
 * terminal one live line (step, done / running / failed, elapsed), otherwise one line per job
 * event, so logs and CI output stay readable.
 *
 * @module
 */
import type { JobRecord, RunRecord } from "../model/mod.ts";
import type { RepoRunEvent } from "../run/mod.ts";
import type { CliIo } from "./io.ts";

/** Options of {@link RunProgress}. */
export interface ProgressOptions {
  /** Only failures (`--quiet`). */
  quiet?: boolean;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Renders run events on standard error; call {@link RunProgress.end} when the run is over. */
export class RunProgress {
  readonly #io: CliIo;
  readonly #options: ProgressOptions;
  readonly #live: boolean;
  readonly #stepOf = new Map<string, number>();
  readonly #states = new Map<string, JobRecord["state"]>();
  #steps = 0;
  #step = 0;
  #started = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lineShown = false;

  constructor(io: CliIo, options: ProgressOptions = {}) {
    this.#io = io;
    this.#options = options;
    this.#live = io.isTTY && !options.quiet;
  }

  #now(): number {
    return (this.#options.now ?? (() => performance.now()))();
  }

  /** Takes one event of `executeRepoRun`. */
  onEvent = (event: RepoRunEvent): void => {
    if (event.type === "run") return this.#onRun(event.run, event.jobs);
    if (event.type === "retry") {
      this.#say(
        `retry ${event.job.service} ${event.job.action} (attempt ${event.job.attempts}) in ` +
          `${formatSeconds(event.delayMs)}: ${event.error}`,
        false,
      );
      return;
    }
    const job = event.job;
    this.#states.set(job.id, job.state);
    if (job.state === "running") {
      // The furthest step with a job that started: where the run is.
      const step = this.#stepOf.get(`${job.service} ${job.action}`) ?? 0;
      if (step > this.#step) this.#step = step;
    }
    if (this.#live) return this.#draw();
    const name = `${job.service} ${job.action}`;
    switch (job.state) {
      case "running":
        this.#say(`start ${name}`, false);
        break;
      case "ok":
        this.#say(`ok ${name} (${formatSeconds(job.endedAt! - job.startedAt!)})`, false);
        break;
      case "error":
        this.#say(`error ${name}: ${job.error?.message ?? "failed"}`, true);
        break;
      default:
        this.#say(`${job.state} ${name}: ${job.error?.message ?? ""}`.trimEnd(), false);
    }
  };

  #onRun(run: RunRecord, jobs: readonly JobRecord[]): void {
    if (run.state === "new") {
      this.#steps = run.steps.length;
      run.steps.forEach((step, i) => {
        for (const job of step) this.#stepOf.set(`${job.service} ${job.action}`, i + 1);
      });
      for (const job of jobs) this.#states.set(job.id, job.state);
      const count = run.steps.reduce((n, step) => n + step.length, 0);
      const steps = run.steps.length;
      this.#say(
        `run ${run.id}: ${count} ${count === 1 ? "job" : "jobs"} in ${steps} ${
          steps === 1 ? "step" : "steps"
        }`,
        false,
      );
    } else if (run.state === "running") {
      this.#started = this.#now();
      if (this.#live) this.#timer = setInterval(() => this.#draw(), 250);
    } else {
      this.end();
    }
  }

  /** Removes the live line and stops its timer. */
  end(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#lineShown) this.#io.stderr("\r\x1b[K");
    this.#lineShown = false;
  }

  #counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const state of this.#states.values()) counts[state] = (counts[state] ?? 0) + 1;
    return counts;
  }

  #draw(): void {
    const c = this.#counts();
    const total = this.#states.size;
    const elapsed = formatSeconds(this.#now() - this.#started);
    const failed = c.error ?? 0;
    const line = `step ${this.#step}/${this.#steps} · ${c.ok ?? 0}/${total} done · ` +
      `${c.running ?? 0} running · ${failed} failed` +
      ((c.skipped ?? 0) > 0 ? ` · ${c.skipped} skipped` : "") + ` · ${elapsed}`;
    this.#io.stderr(`\r\x1b[K${line}`);
    this.#lineShown = true;
  }

  #say(text: string, important: boolean): void {
    if (this.#options.quiet && !important) return;
    if (this.#lineShown) this.#io.stderr("\r\x1b[K");
    const time = new Date().toISOString().slice(11, 19);
    this.#io.stderr(`${time} ${text}\n`);
    this.#lineShown = false;
    if (this.#live && this.#timer !== undefined) this.#draw();
  }
}

/** `0.42 s`, `12.3 s`, `2 min 05 s`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}
