/**
 * `ays run` (docs/runs.md) and `ays run show ID`: execute the due actions of the repository under
 * its lock, with live progress, cancellation on Ctrl-C / SIGTERM (exit 130), and the run
 * record as JSON at the end with `--json`. {@link executeFromCli} is shared with `ays do`.
 *
 * @module
 */
import { checkServiceFilter } from "../model/mod.ts";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import process from "node:process";
import { ExitCode, InputError } from "../errors.ts";
import { openRepoEvents } from "../events/mod.ts";
import type { OpenedRepo } from "../repo/mod.ts";
import {
  executeRepoRun,
  holdRunLock,
  type JobArgs,
  loadRunDetail,
  newRunId,
  runDetail,
  type RunScope,
  type RunSession,
} from "../run/mod.ts";
import type { HeldLock } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { type GlobalOptions, globalsOf } from "./global_options.ts";
import { openFleet, parseWorkerTimeout } from "./fleet_option.ts";
import { formatSeconds, RunView, terminalColumns } from "./progress.ts";
import { type FastCommand, flagOf, textOf } from "./fast_path.ts";
import { openSession, printJson, withGlobals, withSession } from "./session.ts";

/** Options `ays run` and `ays do` share. */
export interface RunCliOptions {
  parallel?: number;
  /** `--isolation`: of the actions whose actor.yaml names none (over `.ays/config.yaml`). */
  isolation?: Isolation;
  failFast?: boolean;
  wait?: boolean;
  role?: string;
  instance?: string;
  /** `--events`: every event of the run as a JSON line on standard output (docs/events.md). */
  events?: boolean;
  /** `--fleet`: send the jobs to the fleet of `ays worker`s (docs/fleet.md). */
  fleet?: boolean;
  /** `--worker-timeout` in milliseconds. */
  workerTimeoutMs?: number;
}

/** `--parallel N`: a whole number ≥ 1. */
export function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError(`--parallel must be a whole number of at least 1, not '${value}'`);
  }
  return n;
}

/** Where a job runs: a pooled worker, a fresh one, or a child process (docs/runs.md). */
export type Isolation = "pool" | "job" | "process";

const ISOLATIONS: readonly Isolation[] = ["pool", "job", "process"];

/** `--isolation pool|job|process`. */
export function parseIsolation(value: string): Isolation {
  const found = ISOLATIONS.find((isolation) => isolation === value);
  if (found === undefined) {
    throw new InputError(`--isolation must be pool, job or process, not '${value}'`);
  }
  return found;
}

/** What {@link executeFromCli} lets a command do under the lock before the run. */
export interface BeforeRun {
  session: RunSession;
  repo: OpenedRepo;
  globals: GlobalOptions;
  lock: HeldLock;
  warn(text: string): void;
}

/** Options of {@link executeFromCli}. */
export interface ExecuteFromCliOptions extends RunCliOptions {
  /** The run's scope (default: `-r`/`-i` of the options). */
  scope?: RunScope;
  args?: JobArgs;
  /**
   * Runs under the lock before the run (`ays do` schedules here); returning false ends the
   * command without running.
   */
  before?: (context: BeforeRun) => Promise<boolean>;
}

/**
 * Opens the repository and its store, takes the repository lock under a new run id, lets
 * `before` work under it, executes the run with progress on stderr, prints the run with
 * `--json`, and sets the exit code: 0 all ok, 1 otherwise, 130 cancelled.
 */
export async function executeFromCli(
  ctx: CliContext,
  globals: GlobalOptions,
  options: ExecuteFromCliOptions,
): Promise<void> {
  if (options.events && globals.json) {
    throw new InputError("--events and --json cannot be combined: both print on standard output");
  }
  const opened = await openSession(ctx, globals, { mirror: true });
  const { repo, warn } = opened;
  const cancel = new AbortController();
  const kill = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: string) => {
    interrupts++;
    if (interrupts === 1) {
      if (!globals.quiet) {
        ctx.io.stderr(
          `\nays: ${signal}: stopping; running jobs get 10 s to finish (Ctrl-C again ends them now)\n`,
        );
      }
      cancel.abort(new Error(`cancelled by ${signal}`));
    } else {
      kill.abort(new Error(`killed by a second ${signal}`));
    }
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const session: RunSession = {
    store: opened.store,
    driver: opened.driver,
    repo: {
      name: repo.name,
      path: repo.path,
      config: {
        parallel: repo.config.parallel,
        noexec: repo.config.noexec,
        isolation: options.isolation ?? repo.config.isolation,
        memory: repo.config.memory,
      },
    },
  };
  let lock: HeldLock | undefined;
  // The run publishes to the repository's stream; the terminal view and --events read it.
  const stream = openRepoEvents(opened.driver, {
    repo: repo.name,
    onError: (error) => warn(`events were not stored: ${String(error)}`),
  });
  const view = new RunView(ctx.io, {
    quiet: globals.quiet,
    color: globals.color,
    columns: terminalColumns(ctx.io.env),
  });
  const unsubscribe = stream.bus.subscribe((event) => {
    view.onEvent(event);
    if (options.events) ctx.io.stdout(JSON.stringify(event) + "\n");
  });
  let fleet: Awaited<ReturnType<typeof openFleet>> = null;
  try {
    fleet = await openFleet(ctx, opened, {
      fleet: options.fleet,
      workerTimeoutMs: options.workerTimeoutMs,
      quiet: globals.quiet,
      events: stream,
    });
    const runId = newRunId();
    try {
      lock = await holdRunLock(opened.driver, runId, {
        wait: options.wait,
        signal: cancel.signal,
        onLost: () => cancel.abort(new Error("the repository lock was lost")),
      });
    } catch (error) {
      // Ctrl-C while waiting for the lock (--wait) is an interruption, not "locked".
      if (!(options.wait && cancel.signal.aborted)) throw error;
    }
    if (cancel.signal.aborted || lock === undefined) {
      ctx.exitCode = ExitCode.interrupted;
      return;
    }
    const scope = options.scope ??
      { role: options.role || undefined, instance: options.instance || undefined };
    if (scope.role !== undefined || scope.instance !== undefined) {
      // A typo in -r or -i is exit 2 with a suggestion, not a run of nothing.
      const [services, actors] = await Promise.all([
        session.store.loadServices(),
        session.store.loadActors(),
      ]);
      checkServiceFilter(services, scope, { actors });
    }
    if (options.before) {
      const go = await options.before({ session, repo, globals, lock, warn });
      if (!go) return;
    }
    const result = await executeRepoRun(session, {
      runId,
      lock,
      scope,
      // With the fleet the workers' concurrency paces the jobs (docs/fleet.md).
      parallel: options.parallel ?? fleet?.size,
      ...(fleet ? { pool: fleet } : {}),
      failFast: options.failFast,
      args: options.args,
      signal: cancel.signal,
      killSignal: kill.signal,
      events: stream.writer,
      onMirrorError: (error) => warn(`the mirror was not written: ${String(error)}`),
      skipEmpty: true,
    });
    // The run's end is stored (and shown) before the command ends.
    await stream.writer.flush();
    view.end();
    const { run, jobs } = result;
    const counts: Record<string, number> = {};
    for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
    if (globals.json) {
      printJson(ctx, runDetail(run, jobs));
    }
    // The view said how the run ended; without its run.ended (events not stored) say it here.
    if ((!globals.quiet || run.state !== "ok") && !view.ended) {
      const summary = Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(", ");
      const took = run.startedAt !== null && run.endedAt !== null
        ? ` in ${formatSeconds(run.endedAt - run.startedAt)}`
        : "";
      ctx.io.stderr(
        jobs.length === 0
          ? "nothing to do (no run recorded)\n"
          : `run ${run.id} ${run.state}: ${summary}${took}\n`,
      );
    }
    ctx.exitCode = run.state === "ok"
      ? ExitCode.ok
      : run.state === "cancelled"
      ? ExitCode.interrupted
      : ExitCode.failed;
  } finally {
    await stream.writer.flush();
    unsubscribe();
    view.end();
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    await lock?.release().catch(() => {});
    await fleet?.close();
    await opened.driver.close();
  }
}

/**
 * `ays run --queue`: puts the request into the repository's queue in the store for the daemon
 * (docs/daemon.md) and prints its id, which is also the id of the run that executes it.
 */
async function queueFromCli(
  ctx: CliContext,
  globals: GlobalOptions,
  options: RunActionOptions,
): Promise<void> {
  if (options.failFast || options.wait || options.events) {
    const flag = options.failFast ? "--fail-fast" : options.wait ? "--wait" : "--events";
    const hint = options.events ? " (follow the queued run with ays watch ID)" : "";
    throw new InputError(`--queue cannot be combined with ${flag}${hint}`);
  }
  // The daemon's modules are loaded only here (src/cli/mod.ts, "Loading").
  const { checkRunRequest, parseRunRequest, queueRunRequest } = await import("../daemon/mod.ts");
  // The same validation as a POST to the API, so a bad filter fails now, not in the daemon.
  const request = parseRunRequest({
    ...(options.role ? { role: options.role } : {}),
    ...(options.instance ? { instance: options.instance } : {}),
    ...(options.parallel === undefined ? {} : { parallel: parseParallel(options.parallel) }),
  });
  await withGlobals(ctx, globals, {}, async (session) => {
    await checkRunRequest(session.store, request);
    const id = await queueRunRequest(session.driver, request, {
      repo: session.repo.name,
      source: "cli",
    });
    if (session.globals.json) printJson(ctx, { id });
    else ctx.io.stdout(id + "\n");
    if (!session.globals.quiet) {
      ctx.io.stderr(`queued run ${id}: a daemon serving ${session.repo.name} executes it\n`);
    }
  });
}

/** The options of `ays run` as commander gives them. */
interface RunActionOptions {
  parallel?: string;
  failFast?: boolean;
  wait?: boolean;
  isolation?: string;
  role?: string;
  instance?: string;
  queue?: boolean;
  events?: boolean;
  fleet?: boolean;
  workerTimeout?: string;
}

/** The options of `ays run` (flags and description), for commander and the fast path alike. */
const RUN_OPTIONS: readonly (readonly [flags: string, description: string])[] = [
  ["--parallel <n>", "jobs at once (default: parallel of .ays/config.yaml, else 10)"],
  ["--fail-fast", "start no new job after the first failure"],
  ["--wait", "wait for the repository lock instead of exiting 3"],
  [
    "--isolation <how>",
    "pool, job or process, for actions whose actor.yaml names none (default: isolation of " +
    ".ays/config.yaml, else pool)",
  ],
  ["-r, --role <role>", "only services of this role or actor"],
  ["-i, --instance <regex>", "only instances matching this regex (whole name)"],
  ["--queue", "hand the run to the daemon: queue it, print the request id, exit 0"],
  ["--events", "print every event of the run as one JSON line on standard output"],
  ["--fleet", "send the jobs to the fleet of ays workers (Redis store; docs/fleet.md)"],
  ["--worker-timeout <dur>", "with the fleet: fail a job no worker takes within dur (default 10m)"],
];

/** `ays run` (not `ays run show`) on the fast path (src/cli/fast_path.ts). */
export const RUN_FAST: FastCommand = {
  options: RUN_OPTIONS.map(([flags]) => flags),
  run: (ctx, globals, values) =>
    runAction(ctx, globals, {
      parallel: textOf(values, "parallel"),
      failFast: flagOf(values, "failFast"),
      wait: flagOf(values, "wait"),
      isolation: textOf(values, "isolation"),
      role: textOf(values, "role"),
      instance: textOf(values, "instance"),
      queue: flagOf(values, "queue"),
      events: flagOf(values, "events"),
      fleet: flagOf(values, "fleet"),
      workerTimeout: textOf(values, "workerTimeout"),
    }),
};

/** What `ays run` does with its options. */
async function runAction(
  ctx: CliContext,
  globals: GlobalOptions,
  options: RunActionOptions,
): Promise<void> {
  if (options.queue) {
    await queueFromCli(ctx, globals, options);
    return;
  }
  await executeFromCli(ctx, globals, {
    parallel: options.parallel === undefined ? undefined : parseParallel(options.parallel),
    isolation: options.isolation === undefined ? undefined : parseIsolation(options.isolation),
    failFast: Boolean(options.failFast),
    wait: Boolean(options.wait),
    role: options.role,
    instance: options.instance,
    events: Boolean(options.events),
    fleet: Boolean(options.fleet),
    workerTimeoutMs: options.workerTimeout === undefined
      ? undefined
      : parseWorkerTimeout(options.workerTimeout),
  });
}

/** Adds `ays run` and `ays run show ID` to the program. */
export function registerRun(program: CommandUnknownOpts, ctx: CliContext): void {
  const run = program
    .command("run")
    .description("execute the scheduled actions in dependency order, in parallel");
  for (const [flags, description] of RUN_OPTIONS) run.option(flags, description);
  run
    .action((options, command) => runAction(ctx, globalsOf(command, ctx.io.env), options));
  run
    .command("show")
    .description("show a run with its jobs and the tail of their logs")
    .argument("<id>", "run id (or an unambiguous prefix, or last)")
    .option("--tail <n>", "log lines per job (default 20)")
    .action(async (id, options, command) => {
      await withSession(ctx, command, {}, async (session) => {
        const tail = options.tail === undefined ? 20 : Number(options.tail);
        if (!Number.isInteger(tail) || tail < 0) {
          throw new InputError(`--tail must be a whole number, not '${options.tail}'`);
        }
        const detail = await loadRunDetail(session.store, id, { tail });
        if (session.globals.json) return printJson(ctx, detail);
        const lines = [
          `run ${detail.id}  ${detail.state}`,
          `  scope    ${scopeText(detail.scope)}`,
          `  created  ${detail.createdAt}`,
          `  started  ${detail.startedAt ?? "-"}`,
          `  ended    ${detail.endedAt ?? "-"}` +
          (detail.duration === null ? "" : `  (${detail.duration.toFixed(2)} s)`),
          `  holder   ${detail.holder ? `pid ${detail.holder.pid} on ${detail.holder.host}` : "-"}`,
          `  jobs     ${
            Object.entries(detail.counts).map(([s, n]) => `${n} ${s}`).join(", ") || "none"
          }`,
          "",
        ];
        for (const job of detail.jobs) {
          const took = job.duration === null ? "" : `  ${job.duration.toFixed(2)} s`;
          const tries = job.attempts > 1 ? `  (${job.attempts} attempts)` : "";
          const on = job.worker === undefined ? "" : `  on ${job.worker}`;
          lines.push(`${job.state.padEnd(9)} ${job.service} ${job.action}${took}${tries}${on}`);
          if (job.error) lines.push(`    error: ${job.error.message}`);
          for (const line of job.log ?? []) lines.push(`    | ${line}`);
        }
        ctx.io.stdout(lines.join("\n") + "\n");
      });
    });
}

/** `-r node -i web.*`, or `everything`. */
export function scopeText(scope: RunScope): string {
  const parts: string[] = [];
  if (scope.action) parts.push(scope.action);
  if (scope.role) parts.push(`-r ${scope.role}`);
  if (scope.instance) parts.push(`-i ${scope.instance}`);
  return parts.length === 0 ? "everything" : parts.join(" ");
}
