/**
 * What the event tests share: SQLite drivers on one temporary file for a suite, and an event
 * log whose appends are counted.
 *
 * @module
 */
import { join } from "node:path";
import { after, before } from "node:test";
import { EventLog } from "../../src/events/mod.ts";
import { openSqliteDriver, type StoreDriver } from "../../src/store/mod.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";

/**
 * Registers the suite's `before` and `after` (call inside `describe`) and returns a maker of
 * drivers: each a namespace of its own in one store file, all closed and the file removed after
 * the suite.
 */
export function suiteDrivers(prefix: string): () => StoreDriver {
  let dir: TempDir | undefined;
  const drivers: StoreDriver[] = [];
  before(async () => {
    dir = await makeTempDir(prefix);
  });
  after(async () => {
    for (const d of drivers) await d.close();
    await dir?.remove();
  });
  return () => {
    if (!dir) throw new Error("suiteDrivers: a driver is made inside a test");
    const opened = openSqliteDriver(join(dir.path, "store.db"), {
      namespace: `r${drivers.length + 1}`,
    });
    drivers.push(opened);
    return opened;
  };
}

/** An event log of repository `web` over `store` that tells `onAppend` each append's size. */
export function countingLog(store: StoreDriver, onAppend: (events: number) => void): EventLog {
  return new EventLog({
    kind: store.kind,
    location: store.location,
    namespace: store.namespace,
    appendEvents: (data, options) => (onAppend(data.length), store.appendEvents(data, options)),
    readEvents: (after, options) => store.readEvents(after, options),
    lastEventId: () => store.lastEventId(),
    pruneEvents: (before) => store.pruneEvents(before),
  }, { repo: "web" });
}
