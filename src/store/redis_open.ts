/**
 * Opening the Redis backend without loading it up front: the Redis client is a large module,
 * and a command on a SQLite store never needs it (`ays list` on three services spent a third
 * of its time loading it). The backend (`redis.ts`) is imported on the first open; the
 * compiled binary bundles it as a chunk of its own (docs/store.md, "Choosing the store").
 *
 * @module
 */
import type { StoreDriver } from "./driver.ts";
import type { RedisDriverOptions } from "./redis.ts";

export type { RedisDriverOptions };

/** Opens the Redis store at `url` (see `redis.ts`), loading the backend on first use. */
export async function openRedisDriver(
  url: string,
  options: RedisDriverOptions,
): Promise<StoreDriver> {
  const redis = await import("./redis.ts");
  return await redis.openRedisDriver(url, options);
}
