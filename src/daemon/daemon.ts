/**
 * `ays daemon` without the CLI: the HTTP API, the recurring scheduler and one run-queue consumer
 * per repository, plus the status record `ays daemon status` reads. Signals are the CLI's
 * business: it calls {@link Daemon.stop} on SIGTERM/SIGINT and exits 0 when it resolves.
 *
 * @module
 */
import { hostname } from "node:os";
import type {
  DaemonBackend,
  DaemonJob,
  DaemonStatus,
  DaemonStatusStore,
  ExecuteQueuedRun,
  LoadServices,
  RunQueue,
  RunRecurring,
} from "./backend.ts";
import { type EventBus, type EventLog, EventTail, type EventWriter } from "../events/mod.ts";
import { isProcessAlive } from "../store/mod.ts";
import { eventsRoute, type RepoEventSource } from "./events_route.ts";
import { jobsRoute } from "./jobs_route.ts";
import { type HttpApi, type HttpRoute, type RequestAuthorizer, startHttpApi } from "./http.ts";
import { formatListen, type ListenAddress } from "./listen.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { type Recurring, startRecurring } from "./recurring.ts";
import { type RunQueueLoop, startRunQueue } from "./run_queue.ts";

/** One repository the daemon serves. */
export interface DaemonRepo {
  /** The repository's name (as in `GET /repos/{name}`). */
  name: string;
  /** Its run queue. */
  queue: RunQueue;
}

/** The event stream of a served repository (docs/events.md). */
export interface DaemonRepoEvents {
  /** Its stored log, which `GET /events` reads. */
  log: EventLog;
  /** Where this process's writer emits: wakes the stream at once instead of at the next poll. */
  bus?: EventBus;
  /** Where the daemon publishes its own events (`daemon.started`, `daemon.stopped`). */
  writer?: EventWriter;
}

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  /** Read side and queueing for the HTTP API. */
  backend: DaemonBackend;
  /** Services of every served repository, for the recurring scheduler. */
  loadServices: LoadServices;
  /** Runs one recurring action as a job of its own. */
  runRecurring: RunRecurring;
  /** Plans and executes one queued run. */
  executeRun: ExecuteQueuedRun;
  /** Where the status for `ays daemon status` is kept; none: not kept. */
  statusStore?: DaemonStatusStore;
  /** Default `127.0.0.1:5000`. */
  listen?: ListenAddress;
  /** Bearer token of the API (required off loopback). */
  token?: string;
  logger?: Logger;
  /** Lease holder name; default `host:pid:random`. */
  consumerId?: string;
  /** Reload of services for recurring actions; default 5000 ms. */
  reloadMs?: number;
  /** How often the status is saved even without changes; default 5000 ms. */
  heartbeatMs?: number;
  /** See {@link RunQueueOptions.popTimeoutMs}. */
  popTimeoutMs?: number;
  /** See {@link RunQueueOptions.leaseRenewMs}. */
  leaseRenewMs?: number;
  /** The event streams of the served repositories, by name: `GET /events` serves them. */
  events?: ReadonlyMap<string, DaemonRepoEvents>;
  /** How often `GET /events` looks for events of other processes; default 250 ms. */
  eventPollMs?: number;
  /** More routes that write their own answer (the dashboard), before `GET /events`. */
  routes?: readonly HttpRoute[];
  /** See {@link HttpApiOptions.authorize} (the dashboard's session cookie). */
  authorize?: RequestAuthorizer;
}

/** A running daemon. */
export interface Daemon {
  /** Where the HTTP API listens. */
  address: ListenAddress;
  /** `http://host:port`. */
  url: string;
  /** The current status record (what is saved for `ays daemon status`). */
  status(): DaemonStatus;
  /** Reloads services for recurring actions now (call after changing the store). */
  refresh(): Promise<void>;
  /**
   * Starts no new jobs, lets running ones end (they get an aborted signal), closes the API and
   * clears the saved status; resolves when all of that is done. Calling it again returns the
   * same promise.
   */
  stop(): Promise<void>;
}

/**
 * Starts the daemon. The API is started first, so a refused token rule ({@link InputError}) or
 * a port in use ({@link UnavailableError}) fails before any job starts.
 */
export async function startDaemon(repos: DaemonRepo[], options: DaemonOptions): Promise<Daemon> {
  const logger = options.logger ?? silentLogger;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const host = hostname();
  const since = new Date().toISOString();
  const consumerId = options.consumerId ??
    `${host}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;

  const tails = new Map<string, RepoEventSource>();
  for (const [name, events] of options.events ?? []) {
    const tail = new EventTail(events.log, {
      bus: events.bus,
      pollMs: options.eventPollMs,
      onError: (error) => logger.warn("reading events failed", { repo: name, error }),
    });
    await tail.start();
    tails.set(name, { log: events.log, tail });
  }
  const stream = eventsRoute(tails, { logger });
  const stopTails = () => Promise.all([...tails.values()].map(({ tail }) => tail.stop()));
  let http: HttpApi;
  try {
    http = await startHttpApi(options.backend, {
      listen: options.listen,
      token: options.token,
      logger,
      health: () => ({ since, repos: repos.map((repo) => repo.name) }),
      // The dashboard's guard refuses cross-site and rebinding requests before any route.
      routes: [...(options.routes ?? []), stream.route, jobsRoute(options.backend)],
      authorize: options.authorize,
    });
  } catch (error) {
    await stopTails();
    throw error;
  }
  const publish = (type: "daemon.started" | "daemon.stopped") => {
    for (const events of options.events?.values() ?? []) {
      events.writer?.publish(
        type === "daemon.started"
          ? { type, daemon: `${host}:${process.pid}`, address: formatListen(http.address) }
          : { type, daemon: `${host}:${process.pid}` },
      );
    }
  };
  const flushEvents = () =>
    Promise.all([...options.events?.values() ?? []].map((events) => events.writer?.flush()));

  let recurring: Recurring | undefined;
  const loops: { repo: string; loop: RunQueueLoop }[] = [];
  let saving: Promise<void> | null = null;
  let dirty = false;
  let stopping: Promise<void> | undefined;

  const status = (): DaemonStatus => {
    const jobs: DaemonJob[] = [];
    for (const job of recurring?.running() ?? []) {
      jobs.push({
        kind: "recurring",
        repo: job.repo,
        service: job.service,
        action: job.action,
        startedAt: new Date(job.startedAt).toISOString(),
      });
    }
    for (const { repo, loop } of loops) {
      const current = loop.current();
      if (!current) continue;
      jobs.push({
        kind: "run",
        repo,
        runId: current.item.id,
        ...(current.item.request.action ? { action: current.item.request.action } : {}),
        startedAt: new Date(current.startedAt).toISOString(),
      });
    }
    return {
      pid: process.pid,
      host,
      since,
      address: formatListen(http.address),
      repos: repos.map((repo) => repo.name),
      jobs,
      updatedAt: new Date().toISOString(),
      heartbeatMs,
    };
  };

  // One save at a time, so an older status never overwrites a newer one; changes made while a
  // save is in flight are coalesced into one more save of the latest status.
  const save = (): Promise<void> => {
    const store = options.statusStore;
    if (!store) return Promise.resolve();
    if (saving) {
      dirty = true;
      return saving;
    }
    saving = (async () => {
      do {
        dirty = false;
        try {
          await store.save(status());
        } catch (error) {
          logger.warn("could not save the daemon status", { error });
        }
      } while (dirty);
      saving = null;
    })();
    return saving;
  };

  try {
    await save();
    recurring = await startRecurring({
      load: options.loadServices,
      run: options.runRecurring,
      reloadMs: options.reloadMs,
      logger,
      onChange: () => void save(),
    });
    for (const repo of repos) {
      const loop = startRunQueue(repo.queue, {
        consumerId,
        execute: options.executeRun,
        repo: repo.name,
        logger,
        popTimeoutMs: options.popTimeoutMs,
        leaseRenewMs: options.leaseRenewMs,
        onChange: () => void save(),
      });
      loops.push({ repo: repo.name, loop });
    }
  } catch (error) {
    await recurring?.stop();
    await Promise.all(loops.map(({ loop }) => loop.stop()));
    stream.close();
    await stopTails();
    await http.close();
    throw error;
  }
  publish("daemon.started");
  const heartbeat = setInterval(() => void save(), heartbeatMs);
  logger.info("daemon started", {
    pid: process.pid,
    address: formatListen(http.address),
    repos: repos.map((repo) => repo.name),
  });

  return {
    address: http.address,
    url: http.url,
    status,
    refresh: () => recurring!.refresh(),
    stop() {
      stopping ??= (async () => {
        logger.info("daemon stopping: no new jobs; waiting for running ones", {
          jobs: status().jobs.length,
        });
        await Promise.all([recurring!.stop(), ...loops.map(({ loop }) => loop.stop())]);
        clearInterval(heartbeat);
        publish("daemon.stopped");
        await flushEvents();
        // Clients get the daemon.stopped event before their streams end.
        await Promise.all(
          [...tails.values()].map(async ({ log, tail }) => tail.reached(await log.lastId())),
        );
        stream.close();
        await stopTails();
        await http.close();
        await saving;
        if (options.statusStore) {
          await options.statusStore.clear(status()).catch((error) =>
            logger.warn("could not clear the daemon status", { error })
          );
        }
        logger.info("daemon stopped");
      })();
      return stopping;
    },
  };
}

/** Options of {@link isDaemonAlive}. */
export interface AliveOptions {
  /** Epoch milliseconds; default now. */
  now?: number;
  /** This machine's host name; default `os.hostname()`. */
  host?: string;
  /** Whether a process of this machine lives; default `process.kill(pid, 0)`. */
  pidAlive?: (pid: number) => boolean;
}

/**
 * For `ays daemon status`: a saved status belongs to a live daemon if its heartbeat is recent
 * (within three beats) and, when it is on this machine, its process still exists (a `kill -9`
 * leaves the record behind).
 */
export function isDaemonAlive(status: DaemonStatus, options: AliveOptions = {}): boolean {
  const now = options.now ?? Date.now();
  const host = options.host ?? hostname();
  const age = now - Date.parse(status.updatedAt);
  if (!(age <= status.heartbeatMs * 3)) return false;
  if (status.host !== host) return true;
  return (options.pidAlive ?? isProcessAlive)(status.pid);
}
