/**
 * The daemon's queued runs on the fleet (docs/fleet.md, "Queued runs of the daemon"): a served
 * repository whose `.ays/config.yaml` says `fleet: true` sends the jobs of its queued runs to
 * the fleet of `ays worker`s on its Redis store, as `ays run` does. Kept out of `daemon.ts`,
 * which only asks for it.
 *
 * @module
 */
import type { Logger, ServedRepo } from "../daemon/mod.ts";
import { InputError } from "../errors.ts";
import type { JobRunner } from "../run/mod.ts";
import type { StoreDriver } from "../store/mod.ts";

/**
 * The URL of a served repository's store when it is Redis (its fleet's Redis), else
 * undefined. InputError (exit 2) for `fleet: true` on another store.
 */
export function servedRedisUrl(
  repo: { name: string; config: { fleet?: boolean } },
  opened: { driver: StoreDriver; url: string; location: string },
): string | undefined {
  if (opened.driver.kind === "redis") return opened.url;
  if (repo.config.fleet === true) {
    throw new InputError(
      `repository '${repo.name}' says fleet: true, but the fleet needs a Redis store shared with its workers (redis://…) and its store is ${opened.location} (docs/fleet.md)`,
    );
  }
  return undefined;
}

/** Options of {@link daemonFleetRunner}. */
export interface DaemonFleetOptions {
  /** `AYS_FLEET_KEY`: payloads are signed with it. */
  key?: string;
  logger: Logger;
}

/**
 * `openRunner` of the daemon's queued runs: the fleet's runner for a repository with
 * `fleet: true`, null (the local pool) for the others.
 */
export function daemonFleetRunner(
  options: DaemonFleetOptions,
): (repo: ServedRepo) => Promise<(JobRunner & { close(): Promise<void> }) | null> {
  const { key, logger } = options;
  return async (repo) => {
    if (repo.config?.fleet !== true || repo.redisUrl === undefined) return null;
    // BullMQ and the fleet's modules load only for a repository that uses them.
    const { FleetRunner, storeRouter } = await import("../fleet/mod.ts");
    return await FleetRunner.open(repo.redisUrl, {
      repo: repo.name,
      store: repo.driver,
      router: storeRouter(repo.store),
      key,
      onNotice: (request, text) =>
        logger.info(text, {
          repo: repo.name,
          service: `${request.service.role}!${request.service.name}`,
          action: request.action,
        }),
    });
  };
}

/** What {@link watchServedPresence} started: stop it before the daemon stops. */
export interface ServedPresence {
  stop(): Promise<void>;
}

/**
 * `worker.joined` / `worker.left` into the stream of each served repository on a Redis store
 * (docs/fleet.md, "Events"): one watcher per repository, one connection per Redis. A Redis
 * that cannot be reached is logged, and that repository's stream gets no worker events.
 */
export async function watchServedPresence(
  served: readonly ServedRepo[],
  options: { logger: Logger },
): Promise<ServedPresence> {
  const { logger } = options;
  const targets = served.filter((repo) => repo.redisUrl !== undefined && repo.events);
  if (targets.length === 0) return { stop: () => Promise.resolve() };
  const { fleetConnection, watchPresence } = await import("../fleet/mod.ts");
  const connections = new Map<string, Awaited<ReturnType<typeof fleetConnection>> | null>();
  const watches: { stop(): Promise<void> }[] = [];
  for (const repo of targets) {
    const url = repo.redisUrl!;
    if (!connections.has(url)) {
      connections.set(
        url,
        await fleetConnection(url).catch((error) => {
          logger.warn("cannot watch the fleet's workers", { repo: repo.name, error });
          return null;
        }),
      );
    }
    const redis = connections.get(url);
    if (!redis) continue;
    watches.push(watchPresence(redis, {
      repo: repo.name,
      sink: repo.events!.writer,
      onError: (error) =>
        logger.warn("could not compare the fleet's workers", { repo: repo.name, error }),
    }));
  }
  return {
    async stop() {
      await Promise.all(watches.map((w) => w.stop()));
      for (const redis of connections.values()) redis?.disconnect();
    },
  };
}
