/**
 * `ays run --fleet` / `ays do --fleet` and `fleet: true` of `.ays/config.yaml` (docs/fleet.md):
 * the job runner a run sends its jobs to — the fleet of `ays worker`s on the repository's
 * Redis — with `--worker-timeout`. Kept out of `run.ts`, which only asks for it.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { parsePeriod } from "../hrd/mod.ts";
import type { RepoEvents } from "../events/mod.ts";
import type { JobRunner } from "../run/mod.ts";
import type { CliContext } from "./context.ts";
import type { OpenedSession } from "./session.ts";

/** `--worker-timeout 10m`: milliseconds, at least one second. */
export function parseWorkerTimeout(value: string): number {
  const seconds = parsePeriod(value, { what: "--worker-timeout" });
  if (seconds < 1) throw new InputError(`--worker-timeout must be at least 1s, not '${value}'`);
  return seconds * 1000;
}

/** Options of {@link openFleet}. */
export interface OpenFleetOptions {
  /** `--fleet` given. */
  fleet?: boolean;
  /** `--worker-timeout` in milliseconds (default 10 min). */
  workerTimeoutMs?: number;
  /** `--quiet`: no notices on stderr. */
  quiet?: boolean;
  /**
   * The run's event stream: while the run runs (from its `run.started` to its `run.ended`) the
   * fleet's workers joining and leaving are published there (docs/fleet.md, "Events").
   */
  events?: Pick<RepoEvents, "bus" | "writer">;
}

/**
 * The fleet's runner when the run goes to the fleet (`--fleet` or `fleet: true`), else null.
 * InputError (exit 2) when the store is not Redis; UnavailableError when it cannot be reached.
 */
export async function openFleet(
  ctx: CliContext,
  opened: OpenedSession,
  options: OpenFleetOptions,
): Promise<(JobRunner & { close(): Promise<void> }) | null> {
  const { fleet = false, workerTimeoutMs, quiet = false, events } = options;
  if (!fleet && opened.repo.config.fleet !== true) return null;
  // BullMQ and the fleet's modules load only for a run that uses them (src/cli/mod.ts, "Loading").
  const { DEFAULT_WORKER_TIMEOUT_MS, FleetRunner, storeRouter } = await import("../fleet/mod.ts");
  if (opened.driver.kind !== "redis") {
    throw new InputError(
      `the fleet needs a Redis store shared with its workers (redis://…), but this repository's store is ${opened.location} (docs/fleet.md)`,
    );
  }
  const key = ctx.io.env.AYS_FLEET_KEY || undefined;
  const runner = await FleetRunner.open(opened.url, {
    repo: opened.repo.name,
    store: opened.driver,
    router: storeRouter(opened.store),
    key,
    workerTimeoutMs: workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS,
    onNotice: (request, text) => {
      if (!quiet) {
        ctx.io.stderr(
          `ays: ${request.service.role}!${request.service.name} ${request.action}: ${text}\n`,
        );
      }
    },
  });
  return events ? await withPresence(runner, opened, events) : runner;
}

/**
 * The runner, watching the fleet's workers into the run's stream between its `run.started`
 * and its `run.ended` (so `ays run --events` still ends with `run.ended`).
 */
async function withPresence(
  runner: JobRunner & { close(): Promise<void> },
  opened: OpenedSession,
  events: Pick<RepoEvents, "bus" | "writer">,
): Promise<JobRunner & { close(): Promise<void> }> {
  const { fleetConnection, watchPresence } = await import("../fleet/mod.ts");
  const redis = await fleetConnection(opened.url).catch(async (error) => {
    await runner.close();
    throw error;
  });
  let watch: { stop(): Promise<void> } | null = null;
  let ended = false;
  const unsubscribe = events.bus.subscribe((event) => {
    if (event.type === "run.started" && !watch && !ended) {
      watch = watchPresence(redis, { repo: opened.repo.name, sink: events.writer });
    } else if (event.type === "run.ended") {
      ended = true;
      void watch?.stop();
    }
  });
  return {
    get size() {
      return runner.size;
    },
    run: (request, runOptions) => runner.run(request, runOptions),
    async close() {
      unsubscribe();
      ended = true;
      await (watch as { stop(): Promise<void> } | null)?.stop();
      redis.disconnect();
      await runner.close();
    },
  };
}
