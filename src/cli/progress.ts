/**
 * The terminal view of a run (docs/events.md, "The terminal view"), drawn from the run's
 * events — the same for `ays run`, `ays do` and `ays watch`. On a terminal: one live line
 * naming the running jobs, the longest-running first with their elapsed time; each failure
 * printed when it happens with its first error line and the tail of its log; at the end every
 * failed and skipped job and where to look further. Otherwise one line per job event, so logs
 * and CI output stay readable. Everything goes to standard error.
 *
 * @module
 */
import process from "node:process";
import type { AysEvent } from "../events/mod.ts";
import type { CliIo } from "./io.ts";

/** Options of {@link RunView}. */
export interface RunViewOptions {
  /** Only failures and the end (`--quiet`). */
  quiet?: boolean;
  /** Colour (only on a terminal; `--no-color` and `NO_COLOR` turn it off). Default true. */
  color?: boolean;
  /** The live line; default: on a terminal and not quiet. */
  live?: boolean;
  /** Epoch milliseconds now (default `Date.now`); elapsed times count from the events' times. */
  now?: () => number;
  /**
   * Calls `redraw` every `ms` until the returned function is called. Default `setInterval`;
   * tests inject their own and redraw by hand.
   */
  every?: (redraw: () => void, ms: number) => () => void;
  /** Log lines shown under a failure; default 5. */
  tailLines?: number;
  /** Width of the live line in columns; default 100. */
  columns?: number;
}

interface RunningJob {
  name: string;
  startedAt: number;
  tail: string[];
}

interface EndedJob {
  name: string;
  error?: string;
}

const STYLES = { red: "31", green: "32", yellow: "33", dim: "2", bold: "1" } as const;

/** Renders one run's events on standard error; call {@link RunView.end} when it is over. */
export class RunView {
  readonly #io: CliIo;
  readonly #quiet: boolean;
  readonly #live: boolean;
  readonly #color: boolean;
  readonly #now: () => number;
  readonly #every: (redraw: () => void, ms: number) => () => void;
  readonly #tailLines: number;
  readonly #columns: number;
  readonly #running = new Map<string, RunningJob>();
  readonly #failed: EndedJob[] = [];
  readonly #skipped: EndedJob[] = [];
  #runId = "";
  #total = 0;
  #done = 0;
  #startedAt: number | null = null;
  #stopTimer: (() => void) | null = null;
  #lineShown = false;
  #ended = false;

  constructor(io: CliIo, options: RunViewOptions = {}) {
    const {
      quiet = false,
      color = true,
      live = io.isTTY && !quiet,
      now = Date.now,
      every = (redraw, ms) => {
        const timer = setInterval(redraw, ms);
        return () => clearInterval(timer);
      },
      tailLines = 5,
      columns = 100,
    } = options;
    this.#io = io;
    this.#quiet = quiet;
    this.#live = live;
    this.#color = color && io.isTTY;
    this.#now = now;
    this.#every = every;
    this.#tailLines = Math.max(0, tailLines);
    this.#columns = Math.max(40, columns);
  }

  /** Whether the run's `run.ended` was seen. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Takes one event of the run (others are ignored by the caller's choice). */
  onEvent = (event: AysEvent): void => {
    switch (event.type) {
      case "run.started":
        return this.#onStarted(event.runId, event.jobs, Date.parse(event.time));
      case "job.started":
        this.#running.set(event.jobId, {
          name: `${event.service} ${event.action}`,
          startedAt: Date.parse(event.time),
          tail: [],
        });
        if (!this.#live) this.#say(`start ${event.service} ${event.action}`);
        else this.#draw();
        return;
      case "job.log": {
        const job = this.#running.get(event.jobId);
        if (!job || this.#tailLines === 0) return;
        job.tail.push(...event.lines);
        if (job.tail.length > this.#tailLines) {
          job.tail.splice(0, job.tail.length - this.#tailLines);
        }
        return;
      }
      case "job.retry": {
        const name = this.#running.get(event.jobId)?.name ?? event.jobId;
        this.#say(
          this.#paint("yellow", `retry ${name} (attempt ${event.attempt}): `) +
            firstLine(event.error),
        );
        return;
      }
      case "job.ended":
        return this.#onJobEnded(event);
      case "run.ended":
        return this.#onEnded(event.runId, event.state, event.counts, Date.parse(event.time));
      case "worker.joined":
        return this.#say(`worker ${event.worker} joined the fleet`);
      case "worker.left":
        return this.#say(
          `worker ${event.worker} left the fleet${
            event.reason === "gone" ? " (no heartbeat for 15 s)" : ""
          }`,
        );
    }
  };

  /** Removes the live line and stops redrawing. */
  end(): void {
    this.#stopTimer?.();
    this.#stopTimer = null;
    this.#clearLine();
  }

  /** Draws the live line now (the timer does this by itself). */
  redraw(): void {
    if (this.#live && !this.#ended) this.#draw();
  }

  #onStarted(runId: string, jobs: number, at: number): void {
    this.#runId = runId;
    this.#total = jobs;
    this.#startedAt = at;
    this.#say(`run ${runId}: ${jobs} ${jobs === 1 ? "job" : "jobs"}`);
    if (this.#live && this.#stopTimer === null) {
      this.#stopTimer = this.#every(() => this.redraw(), 250);
      this.#draw();
    }
  }

  #onJobEnded(event: Extract<AysEvent, { type: "job.ended" }>): void {
    const name = `${event.service} ${event.action}`;
    const job = this.#running.get(event.jobId);
    this.#running.delete(event.jobId);
    this.#done++;
    switch (event.state) {
      case "ok":
        if (!this.#live) this.#say(`ok ${name} (${formatSeconds(event.durationMs)})`);
        break;
      case "error": {
        const error = firstLine(event.error ?? "failed");
        this.#failed.push({ name, error });
        const lines = [`${this.#paint("red", "error")} ${name}: ${error}`];
        for (const line of job?.tail ?? []) lines.push(this.#paint("dim", `    | ${line}`));
        this.#say(lines.join("\n"), true);
        break;
      }
      default: {
        const reason = event.error ? `: ${firstLine(event.error)}` : "";
        if (event.state === "skipped") this.#skipped.push({ name, error: event.error });
        else this.#failed.push({ name, error: event.error ?? event.state });
        if (!this.#live) this.#say(`${event.state} ${name}${reason}`);
      }
    }
    if (this.#live) this.#draw();
  }

  #onEnded(runId: string, state: string, counts: Record<string, number>, at: number): void {
    this.#ended = true;
    this.end();
    const lines: string[] = [];
    if (this.#failed.length > 0 || this.#skipped.length > 0) {
      if (this.#failed.length > 0) {
        lines.push(this.#paint("red", `failed (${this.#failed.length}):`));
        for (const job of this.#failed) lines.push(`  ${job.name}: ${firstLine(job.error ?? "")}`);
      }
      if (this.#skipped.length > 0) {
        lines.push(this.#paint("yellow", `skipped (${this.#skipped.length}):`));
        for (const job of this.#skipped) lines.push(`  ${job.name}: ${firstLine(job.error ?? "")}`);
      }
      lines.push(`see ays run show ${runId || this.#runId} for the jobs' logs`);
    }
    const summary = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ");
    const took = this.#startedAt === null ? "" : ` in ${formatSeconds(at - this.#startedAt)}`;
    const style = state === "ok" ? "green" : state === "error" ? "red" : "yellow";
    lines.push(`run ${runId} ${this.#paint(style, state)}: ${summary}${took}`);
    this.#say(lines.join("\n"), state !== "ok");
  }

  #draw(): void {
    const now = this.#now();
    const elapsed = this.#startedAt === null ? "" : ` · ${formatSeconds(now - this.#startedAt)}`;
    const failed = this.#failed.length;
    let line = `${this.#done}/${this.#total} done · ${this.#running.size} running · ` +
      `${failed} failed${elapsed}`;
    // The longest-running first: the one a user waits for.
    const running = [...this.#running.values()].sort((a, b) => a.startedAt - b.startedAt);
    if (running.length > 0) {
      // As many as fit, then how many more: a cut name would say nothing.
      const room = this.#columns - 1;
      let text = `${line} · Still running…`;
      let shown = 0;
      for (const job of running) {
        const name = `${shown === 0 ? " " : ", "}${job.name} [${
          formatElapsed(now - job.startedAt)
        }]`;
        const more = running.length - shown - 1 > 0 ? ` +${running.length - shown - 1} more` : "";
        if (text.length + name.length + more.length > room && shown > 0) break;
        text += name;
        shown++;
      }
      if (shown < running.length) text += ` +${running.length - shown} more`;
      line = text;
    }
    if (line.length > this.#columns - 1) line = line.slice(0, this.#columns - 2) + "…";
    this.#io.stderr(`\r\x1b[K${line}`);
    this.#lineShown = true;
  }

  #clearLine(): void {
    if (this.#lineShown) this.#io.stderr("\r\x1b[K");
    this.#lineShown = false;
  }

  #say(text: string, important = false): void {
    if (this.#quiet && !important) return;
    this.#clearLine();
    const time = new Date(this.#now()).toISOString().slice(11, 19);
    this.#io.stderr(`${this.#paint("dim", time)} ${text}\n`);
    if (this.#live && this.#stopTimer !== null && !this.#ended) this.#draw();
  }

  #paint(style: keyof typeof STYLES, text: string): string {
    return this.#color ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.trim();
}

/**
 * The width of standard error's terminal: its reported size, else `COLUMNS` (a pseudo-terminal
 * without a size reports 0), else 100.
 */
export function terminalColumns(env: Record<string, string | undefined>): number {
  const reported = process.stderr.columns;
  if (reported > 0) return reported;
  const given = Number(env.COLUMNS);
  return Number.isInteger(given) && given > 0 ? given : 100;
}

/** `0.42 s`, `12.3 s`, `2 min 05 s`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
}

/** `40s`, `2m05s`, `1h02m`: the elapsed time of a running job, Terraform style. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
