/**
 * The fleet's workers for the dashboard's Workers tab (docs/dashboard.md, "API"):
 * `GET /ui/api/repos/{name}/workers` answers what `ays workers --json` prints, read from the
 * registry on the repository's Redis store; a repository on SQLite has no fleet, which is
 * 409 with a message the page shows as it is (not as a failure).
 *
 * @module
 */
import type { ServedRepo } from "../daemon/mod.ts";
import type { WorkerView } from "../fleet/mod.ts";
import { DashboardError } from "./answer.ts";

/** The message of a repository without a Redis store. */
export const NO_FLEET_MESSAGE =
  "the fleet needs a Redis store shared with its workers (redis://…); this repository's store is not one (docs/fleet.md)";

/** The workers of the fleet on `repo`'s Redis, by name; DashboardError 409 without one. */
export async function fleetWorkers(repo: ServedRepo): Promise<WorkerView[]> {
  if (repo.driver.kind !== "redis") throw new DashboardError(409, NO_FLEET_MESSAGE);
  if (repo.redisUrl === undefined) {
    throw new DashboardError(503, "the daemon was not given this repository's Redis URL");
  }
  // BullMQ and the fleet's modules load only when the tab asks.
  const { fleetConnection, listWorkers, workerView } = await import("../fleet/mod.ts");
  const redis = await fleetConnection(repo.redisUrl);
  try {
    return (await listWorkers(redis)).map(workerView);
  } finally {
    redis.disconnect();
  }
}
