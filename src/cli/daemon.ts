/**
 * `ays daemon` (alias `ays start`) and `ays daemon status` (docs/daemon.md): serve one or more
 * repositories in the foreground — recurring actions, the run queue, the HTTP API — until
 * SIGTERM or SIGINT, then stop cleanly and exit 0 (the explicit exit is `src/main.ts`'s).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import process from "node:process";
import { ExitCode, InputError, LockedError } from "../errors.ts";
// Types only: the daemon's modules (HTTP server, queues) are loaded when a daemon command
// runs, not for every command (src/cli/mod.ts, "Loading").
import type { DaemonStatus, ServedRepo } from "../daemon/mod.ts";
import { WorkerPool } from "../run/mod.ts";
import type { StoreDriver } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import {
  daemonFleetRunner,
  type ServedPresence,
  servedRedisUrl,
  watchServedPresence,
} from "./daemon_fleet.ts";
import { globalsOf } from "./global_options.ts";
import { openSession, printJson } from "./session.ts";
import { StopSignals } from "./stop_signals.ts";

/** Workers shared by the recurring jobs of all served repositories. */
const RECURRING_WORKERS = 10;

interface DaemonCliOptions {
  listen?: string;
  token?: string;
  logFormat?: string;
}

/** Opens every repository of `--repo` (default: the current one) with its store. */
async function openServed(
  ctx: CliContext,
  command: CommandUnknownOpts,
  options: { mirror: boolean; serve: boolean },
): Promise<ServedRepo[]> {
  const globals = globalsOf(command, ctx.io.env);
  const paths = globals.repos.length > 0 ? globals.repos : [undefined];
  const served: ServedRepo[] = [];
  try {
    for (const repoFlag of paths) {
      const opened = await openSession(ctx, globals, {
        repoFlag,
        mirror: options.mirror,
        checkRepo: (repo) => {
          const twin = served.find((other) => other.name === repo.name);
          if (twin && twin.path !== repo.path) {
            throw new InputError(
              `two repositories are named '${repo.name}' (${twin.path}, ${repo.path}): ` +
                `the API names repositories, so give one of them another name in .ays/config.yaml`,
            );
          }
        },
      });
      const { repo } = opened;
      if (served.some((other) => other.path === repo.path)) {
        // The same repository given twice: serve it once.
        await opened.driver.close();
        continue;
      }
      served.push({
        name: repo.name,
        path: repo.path,
        config: {
          parallel: repo.config.parallel,
          noexec: repo.config.noexec,
          isolation: repo.config.isolation,
          memory: repo.config.memory,
          fleet: repo.config.fleet,
        },
        store: opened.store,
        driver: opened.driver,
        // `ays daemon status` only reads: a fleet on the wrong store is the serving daemon's error.
        ...(options.serve ? { redisUrl: servedRedisUrl(repo, opened) } : {}),
      });
    }
  } catch (error) {
    await closeAll(served);
    throw error;
  }
  return served;
}

async function closeAll(served: readonly ServedRepo[]): Promise<void> {
  await Promise.all(served.map((repo) => repo.driver.close().catch(() => {})));
}

/** Refuses (exit 3) when a live daemon already serves one of the repositories. */
async function refuseSecondDaemon(served: readonly ServedRepo[]): Promise<void> {
  const { isDaemonAlive, readDaemonStatus } = await import("../daemon/mod.ts");
  for (const repo of served) {
    const status = await readDaemonStatus(repo.driver);
    if (status && isDaemonAlive(status)) {
      throw new LockedError(
        `a daemon already serves repository '${repo.name}': pid ${status.pid} on ` +
          `${status.host} since ${status.since}, API http://${status.address} ` +
          `(stop it first; see ays daemon status)`,
      );
    }
  }
}

async function serve(
  ctx: CliContext,
  command: CommandUnknownOpts,
  flags: DaemonCliOptions,
): Promise<void> {
  const {
    createLogger,
    resolveDaemonSettings,
    startDaemon,
    storeBackend,
    storeDaemonRepos,
    storeDaemonStatus,
    storeExecuteRun,
    storeLoadServices,
    storeRunRecurring,
  } = await import("../daemon/mod.ts");
  const { dashboard } = await import("../dashboard/mod.ts");
  const { openRepoEvents } = await import("../events/mod.ts");
  const globals = globalsOf(command, ctx.io.env);
  const settings = resolveDaemonSettings(
    { listen: flags.listen, token: flags.token, logFormat: flags.logFormat, color: globals.color },
    ctx.io.env,
    { isTerminal: Boolean(process.stdout.isTTY) },
  );
  const served = await openServed(ctx, command, { mirror: true, serve: true });
  const logger = createLogger({
    format: settings.logFormat,
    color: settings.color,
    write: (line) => ctx.io.stdout(line),
    secrets: settings.token ? [settings.token] : [],
  });
  const pool = new WorkerPool({ size: RECURRING_WORKERS });
  let presence: ServedPresence | undefined;
  // Signals that come while starting stop the daemon as soon as it runs.
  const signals = new StopSignals();
  try {
    await refuseSecondDaemon(served);
    for (const repo of served) {
      repo.events = openRepoEvents(repo.driver, {
        repo: repo.name,
        onError: (error) => logger.warn("could not store events", { repo: repo.name, error }),
      });
    }
    const drivers = new Map<string, StoreDriver>(served.map((repo) => [repo.name, repo.driver]));
    const daemon = await startDaemon(storeDaemonRepos(served, logger), {
      backend: storeBackend(served),
      loadServices: storeLoadServices(served),
      runRecurring: storeRunRecurring(served, { pool, logger }),
      executeRun: storeExecuteRun(served, {
        logger,
        openRunner: daemonFleetRunner({ key: ctx.io.env.AYS_FLEET_KEY || undefined, logger }),
      }),
      statusStore: storeDaemonStatus(drivers),
      listen: settings.listen,
      token: settings.token,
      logger,
      events: new Map(served.flatMap((repo) => repo.events ? [[repo.name, repo.events]] : [])),
      ...dashboard(served, { token: settings.token, logger }),
    });
    // After daemon.started: the streams tell the daemon's start, then the fleet's workers.
    presence = await watchServedPresence(served, { logger });
    await new Promise<void>((resolve) => {
      let stopping = false;
      signals.handle((signal) => {
        if (stopping) {
          logger.warn("already stopping: waiting for running jobs to finish or time out", {
            signal,
          });
          return;
        }
        stopping = true;
        logger.info("signal received", { signal });
        // Worker events stop first, so daemon.stopped stays the streams' last event.
        const stopped = presence ? presence.stop().then(() => daemon.stop()) : daemon.stop();
        stopped.then(resolve, (error) => {
          logger.error("stopping failed", { error });
          resolve();
        });
      });
    });
    ctx.exitCode = ExitCode.ok;
  } finally {
    signals.close();
    await presence?.stop().catch(() => {});
    await pool.close().catch(() => {});
    await closeAll(served);
  }
}

/** The `--json` of `ays daemon status` for one repository. */
export interface DaemonStatusView {
  repo: string;
  /** Whether a live daemon serves the repository. */
  serving: boolean;
  /** The saved status (also a dead daemon's, for diagnosis), or null. */
  status: DaemonStatus | null;
}

async function showStatus(ctx: CliContext, command: CommandUnknownOpts): Promise<void> {
  const { formatDaemonStatus, isDaemonAlive, readDaemonStatus } = await import(
    "../daemon/mod.ts"
  );
  const globals = globalsOf(command, ctx.io.env);
  const served = await openServed(ctx, command, { mirror: false, serve: false });
  try {
    const views: DaemonStatusView[] = [];
    for (const repo of served) {
      const status = await readDaemonStatus(repo.driver);
      views.push({ repo: repo.name, serving: status !== null && isDaemonAlive(status), status });
    }
    if (globals.json) {
      printJson(ctx, views.length === 1 ? views[0] : views);
      return;
    }
    for (const view of views) {
      ctx.io.stdout(formatDaemonStatus(view.repo, view.status, { alive: view.serving }));
    }
  } finally {
    await closeAll(served);
  }
}

/** Adds `ays daemon` (alias `start`) and `ays daemon status` to the program. */
export function registerDaemon(program: CommandUnknownOpts, ctx: CliContext): void {
  const daemon = program
    .command("daemon")
    .alias("start")
    .description(
      "serve the repositories (--repo, repeatable) in the foreground: recurring actions, " +
        "queued runs, the HTTP API; SIGTERM/SIGINT stop it",
    )
    .option("--listen <host:port>", "where the HTTP API listens (default 127.0.0.1:5000)")
    .option("--token <token>", "bearer token of the API (else AYS_TOKEN); required off loopback")
    .option("--log-format <format>", "text or json (JSON lines)")
    .action(async (options, command) => {
      await serve(ctx, command, options);
    });
  daemon
    .command("status")
    .description("whether a daemon serves the repository, since when, its address, its jobs")
    .action(async (_options, command) => {
      await showStatus(ctx, command);
    });
}
