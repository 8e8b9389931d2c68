/**
 * `ays worker` (docs/fleet.md): a long-running worker of the fleet in the foreground, logging
 * to stdout. It needs no repository, only the shared Redis (`--store` or `AYS_STORE`). SIGTERM
 * or SIGINT: it takes no new jobs, lets the running ones finish, leaves the fleet and exits 0;
 * a second signal ends the running jobs at once.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import { ExitCode, InputError } from "../errors.ts";
import { FleetWorker } from "../fleet/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { StopSignals } from "./stop_signals.ts";

interface WorkerCliOptions {
  name?: string;
  label?: string[];
  concurrency?: string;
  cache?: string;
}

/** `--concurrency N`: a whole number ≥ 1. */
function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError(`--concurrency must be a whole number of at least 1, not '${value}'`);
  }
  return n;
}

/** `$XDG_CACHE_HOME/ays/fleet`, else `~/.cache/ays/fleet`. */
function defaultCache(env: Record<string, string | undefined>): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "ays", "fleet");
}

async function serveWorker(
  ctx: CliContext,
  command: CommandUnknownOpts,
  options: WorkerCliOptions,
): Promise<void> {
  const globals = globalsOf(command, ctx.io.env);
  const url = globals.store ?? ctx.io.env.AYS_STORE;
  if (!url) {
    throw new InputError("ays worker needs the fleet's Redis: --store redis://… (or AYS_STORE)");
  }
  const cache = options.cache ?? defaultCache(ctx.io.env);
  // The lines of one turn go out with one write: a worker running hundreds of short jobs a
  // second logs two lines for each.
  let lines = "";
  const flush = () => {
    const text = lines;
    lines = "";
    if (text !== "") ctx.io.stdout(text);
  };
  const log = (line: string) => {
    if (globals.quiet) return;
    if (lines === "") setImmediate(flush);
    lines += `${new Date().toISOString()} ${line}\n`;
  };
  const signals = new StopSignals();
  try {
    const worker = await FleetWorker.start(url, {
      name: options.name ?? hostname(),
      labels: options.label ?? [],
      concurrency: options.concurrency === undefined
        ? undefined
        : parseConcurrency(options.concurrency),
      key: ctx.io.env.AYS_FLEET_KEY || undefined,
      cacheDir: join(cache, "trees"),
      workDir: join(cache, "work"),
      log,
    });
    await new Promise<void>((resolve) => {
      let stopping = false;
      signals.handle((signal) => {
        if (stopping) {
          log(`${signal} again: ending the running jobs now`);
          void worker.stop({ force: true });
          return;
        }
        stopping = true;
        log(`${signal}: finishing the running jobs (${signal} again ends them now)`);
        worker.stop().then(resolve, (error) => {
          log(`stopping failed: ${String(error)}`);
          resolve();
        });
      });
    });
    ctx.exitCode = ExitCode.ok;
  } finally {
    flush();
    signals.close();
  }
}

/** Adds `ays worker` to the program. */
export function registerWorker(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("worker")
    .description("run jobs of the fleet, taken from the queues on the Redis store (docs/fleet.md)")
    .option("--name <name>", "its name in the fleet, AYS_WORKER of its jobs (default: host name)")
    .option(
      "--label <label>",
      "serve the jobs of this label too (repeatable; every worker serves default)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--concurrency <n>", "jobs at once (default 10)")
    .option(
      "--cache <dir>",
      "cache of template files and work folders (default ~/.cache/ays/fleet)",
    )
    .action(async (options, command) => {
      await serveWorker(ctx, command, options);
    });
}
