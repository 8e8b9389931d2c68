/**
 * The daemon's status record in each served repository's store (its key is in `store/record_keys.ts`; JSON),
 * written by the daemon and read by `ays daemon status`.
 *
 * @module
 */
import { DAEMON_STATUS_KEY, type KeyValueStore } from "../store/mod.ts";
import type { DaemonStatus, DaemonStatusStore } from "./backend.ts";

/** The status saved in this repository's store, or null (no daemon ever, or it stopped). */
export async function readDaemonStatus(driver: KeyValueStore): Promise<DaemonStatus | null> {
  const bytes = await driver.get(DAEMON_STATUS_KEY);
  if (bytes === null) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as DaemonStatus;
  } catch {
    // A torn or foreign value says nothing about a live daemon.
    return null;
  }
}

/**
 * A {@link DaemonStatusStore} over the drivers of the served repositories, by repository name.
 * `clear` removes a record only while it is still this daemon's (same pid, host and start), so a
 * daemon that stops late does not erase the record of one that took over.
 */
export function storeDaemonStatus(drivers: ReadonlyMap<string, KeyValueStore>): DaemonStatusStore {
  const driversOf = (status: DaemonStatus) =>
    status.repos.flatMap((repo) => {
      const driver = drivers.get(repo);
      return driver ? [driver] : [];
    });
  return {
    async save(status) {
      const bytes = new TextEncoder().encode(JSON.stringify(status));
      await Promise.all(driversOf(status).map((driver) => driver.set(DAEMON_STATUS_KEY, bytes)));
    },
    async clear(status) {
      await Promise.all(
        driversOf(status).map(async (driver) => {
          const current = await readDaemonStatus(driver);
          if (
            current && current.pid === status.pid && current.host === status.host &&
            current.since === status.since
          ) {
            await driver.delete(DAEMON_STATUS_KEY);
          }
        }),
      );
    },
  };
}
