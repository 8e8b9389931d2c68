/**
 * Connections of the fleet to the shared Redis (docs/fleet.md): ioredis clients for BullMQ,
 * which wants `maxRetriesPerRequest: null` on its workers' connections and reconnects for ever
 * — a worker outlives a Redis restart or a network cut, taking no jobs until it is back.
 *
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import { InputError, UnavailableError } from "../errors.ts";
import { maskUrl, parseRedisUrl, redact, storeKindOf } from "../store/mod.ts";

/** Options of {@link fleetConnection}. */
export interface FleetConnectionOptions {
  /** Called with each connection error (password masked), e.g. to log "lost the connection". */
  onError?: (message: string) => void;
  /** Called when the connection is (again) ready. */
  onReady?: () => void;
}

/** The connection settings of a fleet URL; InputError for anything but `redis://`/`rediss://`. */
export function fleetSettings(url: string): RedisOptions {
  if (storeKindOf(url) !== "redis") {
    throw new InputError(
      `the fleet needs a Redis store (redis://… or rediss://…), not ${maskUrl(url)}`,
    );
  }
  return parseRedisUrl(url) as RedisOptions;
}

/**
 * A connected client for the fleet at `url`. Rejects with UnavailableError (password masked)
 * when the first connection fails; afterwards it reconnects by itself.
 */
export async function fleetConnection(
  url: string,
  options: FleetConnectionOptions = {},
): Promise<Redis> {
  const settings = fleetSettings(url);
  let ready = false;
  let lastError: unknown = null;
  const masked = (error: unknown) =>
    redact(maskUrl(error instanceof Error ? error.message : String(error)), settings.password);
  const client = new Redis({
    ...settings,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    // The first connection fails fast (a CLI must not hang); later ones are retried for ever.
    retryStrategy: (times: number) => (ready ? Math.min(times * 200, 2000) : null),
  });
  client.on("error", (error: Error) => {
    lastError = error;
    if (ready) options.onError?.(masked(error));
  });
  // A server that shuts down cleanly closes the connection without an error; a disconnect of
  // our own does not reconnect.
  client.on("reconnecting", () => {
    if (ready) options.onError?.("the connection was closed");
  });
  client.on("ready", () => {
    if (ready) options.onReady?.();
    ready = true;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new UnavailableError(
      `cannot reach the fleet's Redis ${maskUrl(url)}: ${masked(lastError ?? error)}`,
    );
  }
  return client;
}
