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

/** A served repository's fleet URL: its store's when `fleet: true`, else undefined. */
export function servedFleetUrl(
  repo: { name: string; config: { fleet?: boolean } },
  opened: { driver: StoreDriver; url: string; location: string },
): string | undefined {
  if (repo.config.fleet !== true) return undefined;
  if (opened.driver.kind !== "redis") {
    throw new InputError(
      `repository '${repo.name}' says fleet: true, but the fleet needs a Redis store shared with its workers (redis://…) and its store is ${opened.location} (docs/fleet.md)`,
    );
  }
  return opened.url;
}

/** Options of {@link daemonFleetRunner}. */
export interface DaemonFleetOptions {
  /** `AYS_FLEET_KEY`: payloads are signed with it. */
  key?: string;
  logger: Logger;
}

/**
 * `openRunner` of the daemon's queued runs: the fleet's runner for a repository that has a
 * fleet URL, null (the local pool) for the others.
 */
export function daemonFleetRunner(
  options: DaemonFleetOptions,
): (repo: ServedRepo) => Promise<(JobRunner & { close(): Promise<void> }) | null> {
  const { key, logger } = options;
  return async (repo) => {
    if (repo.fleetUrl === undefined) return null;
    // BullMQ and the fleet's modules load only for a repository that uses them.
    const { FleetRunner, storeRouter } = await import("../fleet/mod.ts");
    return await FleetRunner.open(repo.fleetUrl, {
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
