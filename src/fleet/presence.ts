/**
 * `worker.joined` and `worker.left` in a repository's event stream (docs/fleet.md, "Events"):
 * workers belong to a fleet, events to a repository, so whoever watches a repository on the
 * fleet's Redis — `ays run --fleet` during its run, the daemon for each repository it serves
 * on a Redis store — compares the registry's live workers with the workers that repository's
 * stream has seen, and publishes the difference.
 *
 * What a repository's stream has seen is kept in Redis (`ays:~fleet:present:<repo>`, worker
 * instance → name), and each change is claimed with one atomic command (HSETNX for a join,
 * HDEL for a leave): several watchers of one repository (a run beside the daemon) publish each
 * join and leave once, and a watcher that starts later catches up on what changed meanwhile.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { EventSink } from "../events/mod.ts";
import { FLEET_PREFIX } from "./names.ts";
import { listWorkers } from "./registry.ts";

/** How often a watcher compares (the registry's heartbeats are 5 s apart, gone after 15 s). */
export const PRESENCE_CHECK_MS = 2_000;

/** Hash: worker instance → name, the workers a repository's stream has seen join. */
export function presentKey(repo: string): string {
  return `${FLEET_PREFIX}:present:${repo}`;
}

/** Options of {@link checkPresence}. */
export interface CheckPresenceOptions {
  /** The repository whose stream gets the events. */
  repo: string;
  /** Its event stream (the writer of the run or of the daemon). */
  sink: EventSink;
  /** Clock (default `Date.now`): a worker is live while its heartbeat is at most 15 s old. */
  now?: number;
}

/** What one comparison published: names of the workers that joined and that left. */
export interface PresenceChange {
  joined: string[];
  left: string[];
}

/**
 * One comparison: publishes `worker.left` for each worker the stream has seen that is no
 * longer live (stopped: its entry is gone; or gone: its heartbeat is older than 15 s) and
 * `worker.joined` for each live worker it has not seen — a restarted worker (a new instance
 * under the same name) leaves, then joins.
 */
export async function checkPresence(
  redis: Redis,
  options: CheckPresenceOptions,
): Promise<PresenceChange> {
  const { repo, sink, now = Date.now() } = options;
  if (typeof sink?.publish !== "function") {
    throw new TypeError("checkPresence: sink must have publish()");
  }
  const key = presentKey(repo);
  const listed = await listWorkers(redis, { now });
  const live = new Map(listed.filter((w) => w.live).map((w) => [w.instance, w]));
  const known = new Map(listed.map((w) => [w.instance, w]));
  const seen = await redis.hgetall(key);
  const change: PresenceChange = { joined: [], left: [] };
  for (const [instance, name] of Object.entries(seen)) {
    if (live.has(instance)) continue;
    if ((await redis.hdel(key, instance)) !== 1) continue; // another watcher told it
    const reason = known.has(instance) ? "gone" : "stopped";
    sink.publish({ type: "worker.left", worker: name, reason });
    change.left.push(name);
  }
  for (const [instance, w] of live) {
    if (Object.hasOwn(seen, instance)) continue;
    if ((await redis.hsetnx(key, instance, w.name)) !== 1) continue;
    sink.publish({
      type: "worker.joined",
      worker: w.name,
      host: w.host,
      labels: [...w.labels],
      concurrency: w.concurrency,
    });
    change.joined.push(w.name);
  }
  return change;
}

/** Options of {@link watchPresence}. */
export interface WatchPresenceOptions extends Omit<CheckPresenceOptions, "now"> {
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** Milliseconds between comparisons (default {@link PRESENCE_CHECK_MS}). */
  everyMs?: number;
  /** A comparison that failed (Redis unreachable): the next one tries again. */
  onError?: (error: unknown) => void;
}

/** A running watcher. */
export interface PresenceWatch {
  /**
   * Compares no more and publishes nothing more; waits (at most {@link STOP_WAIT_MS}) for a
   * comparison in flight, which may be stuck on a lost connection until it is closed.
   */
  stop(): Promise<void>;
}

/** How long {@link PresenceWatch.stop} waits for a comparison in flight. */
export const STOP_WAIT_MS = 1_000;

/**
 * Compares at once, then every `everyMs`, until stopped (one comparison at a time). The
 * connection stays the caller's: close it after `stop()`.
 */
export function watchPresence(redis: Redis, options: WatchPresenceOptions): PresenceWatch {
  const { repo, sink, now = Date.now, everyMs = PRESENCE_CHECK_MS, onError = () => {} } = options;
  if (!(everyMs > 0)) throw new RangeError(`everyMs must be positive, not ${everyMs}`);
  if (typeof sink?.publish !== "function") {
    throw new TypeError("watchPresence: sink must have publish()");
  }
  let stopped = false;
  let busy = false;
  let inFlight: Promise<void> = Promise.resolve();
  // Nothing is published once stopped: a stream's last event (run.ended) stays its last.
  const gated: EventSink = { publish: (event) => void (!stopped && sink.publish(event)) };
  const tick = () => {
    if (stopped || busy) return;
    busy = true;
    inFlight = checkPresence(redis, { repo, sink: gated, now: now() }).then(
      () => {},
      (error) => {
        if (!stopped) onError(error);
      },
    ).finally(() => (busy = false));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      let bound: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        inFlight,
        new Promise<void>((resolve) => (bound = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(bound);
    },
  };
}
