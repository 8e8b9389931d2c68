/**
 * A daemon stand-in that takes a queued run from a real store and then hangs, so a test can
 * `kill -9` it with the request leased. Usage: `pop_fixture.ts sqlite|redis PATH|URL NAMESPACE`.
 *
 * @module
 */
import { storeRunQueue } from "../../src/daemon/store_queue.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";

const [kind, location, namespace] = process.argv.slice(-3);
const driver = kind === "redis"
  ? await openRedisDriver(location, { namespace })
  : openSqliteDriver(location, { namespace });
const queue = storeRunQueue(driver, { leaseMs: 60_000 });
const item = await queue.pop("doomed-daemon", { timeoutMs: 0 });
process.stdout.write(`popped ${item?.id ?? "nothing"}\n`);
setInterval(() => {}, 1000);
