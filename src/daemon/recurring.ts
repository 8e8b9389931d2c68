/**
 * The recurring-action scheduler (docs/daemon.md, "Recurring actions").
 *
 * The rule: an action with a period P > 0 (seconds) is due at its last start + P; an action that
 * never ran is due as soon as the scheduler sees it (so at once when the daemon starts). It never
 * runs twice at the same time: while a copy runs it is not due, and when that copy ends after
 * last start + P (it overran its period) the next copy starts at once — one start, missed
 * periods are not made up. "Last start" is the later of the store's `lastRun` and the start
 * this scheduler made itself, so a slow store write cannot cause a double start.
 *
 * One timer is armed for the earliest due time and re-armed whenever that changes (a start, an
 * end, a reload); there is no polling loop. Services and periods are reloaded every `reloadMs`
 * and whenever the caller calls {@link Recurring.refresh} after changing the store.
 *
 * @module
 */
import { REAL_TIMERS, type Timers } from "../timers.ts";
import { serviceName } from "../model/mod.ts";
import type { LoadServices, RecurringTarget, RunRecurring } from "./backend.ts";
import { MAX_TIMER_MS } from "../run/mod.ts";
import { type Logger, silentLogger } from "./logger.ts";

/** Options of {@link startRecurring}. */
export interface RecurringOptions {
  /** Loads the services of every served repository. */
  load: LoadServices;
  /** Runs one recurring action as a job of its own. */
  run: RunRecurring;
  /** How often services and periods are reloaded; default 5000 ms. */
  reloadMs?: number;
  logger?: Logger;
  /** Called whenever a job starts or ends (the daemon saves its status then). */
  onChange?: () => void;
  /** Clock in epoch milliseconds, for tests; default `Date.now`. */
  now?: () => number;
  /**
   * The timers it arms (each for at most {@link MAX_TIMER_MS}), for tests with `now` a fake
   * clock; default the runtime's.
   */
  timers?: Timers;
}

/** A recurring job that is running. */
export interface RecurringJob {
  repo: string;
  /** `role!instance`. */
  service: string;
  action: string;
  /** Epoch milliseconds it became due (see {@link RecurringStartInfo}). */
  dueAt: number;
  /** Epoch milliseconds it started. */
  startedAt: number;
}

/** A running scheduler. */
export interface Recurring {
  /** Reloads services and periods now and re-arms the timer; resolves when loaded. */
  refresh(): Promise<void>;
  /** The recurring jobs running now. */
  running(): RecurringJob[];
  /** When each known recurring action is due next (epoch ms; null while it runs). */
  schedule(): { repo: string; service: string; action: string; dueAt: number | null }[];
  /** Starts nothing more; resolves when the running jobs have ended. */
  stop(): Promise<void>;
}

/** What the scheduler knows about one recurring action of one service. */
interface Entry {
  key: string;
  target: RecurringTarget;
  service: string;
  action: string;
  /** Seconds. */
  period: number;
  /** `lastRun` as last loaded from the store. */
  storedLastRun: number | null;
  /** The last start made by this scheduler. */
  lastStart: number | null;
  /** When it was first seen or its last copy ended: it cannot be due before that. */
  eligibleFrom: number;
  job: RecurringJob | null;
  done: Promise<void> | null;
  /** Gone from the store (or period 0) while running: dropped when the job ends. */
  removed: boolean;
}

/** When `entry` is due, or null while it runs. */
function dueAt(entry: Entry): number | null {
  if (entry.job) return null;
  const last = Math.max(entry.storedLastRun ?? -Infinity, entry.lastStart ?? -Infinity);
  const due = last === -Infinity ? entry.eligibleFrom : last + entry.period * 1000;
  return Math.max(due, entry.eligibleFrom);
}

/**
 * Loads the services, starts what is due and keeps scheduling until stopped. A failing first
 * load is logged and retried at the next reload.
 */
export async function startRecurring(options: RecurringOptions): Promise<Recurring> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? REAL_TIMERS;
  const reloadMs = options.reloadMs ?? 5000;
  const entries = new Map<string, Entry>();
  const abort = new AbortController();
  let timer: unknown;
  let stopped = false;
  let loading: Promise<void> | null = null;
  let reloadAgain = false;

  const arm = () => {
    if (timer !== undefined) timers.clear(timer);
    timer = undefined;
    if (stopped) return;
    let earliest = Infinity;
    for (const entry of entries.values()) {
      const due = dueAt(entry);
      if (due !== null && due < earliest) earliest = due;
    }
    if (earliest === Infinity) return;
    // The periodic reload re-arms long before a timer's limit anyway.
    const delay = Math.min(Math.max(0, earliest - now()), reloadMs * 2, MAX_TIMER_MS);
    timer = timers.set(tick, delay);
  };

  const launch = (entry: Entry, due: number) => {
    const startedAt = now();
    const job: RecurringJob = {
      repo: entry.target.repo,
      service: entry.service,
      action: entry.action,
      dueAt: due,
      startedAt,
    };
    entry.job = job;
    entry.lastStart = startedAt;
    logger.debug("recurring job started", {
      repo: job.repo,
      service: job.service,
      action: job.action,
      lateMs: startedAt - due,
    });
    const info = { dueAt: due, startedAt, signal: abort.signal };
    entry.done = (async () => {
      try {
        await options.run(entry.target, entry.action, info);
        logger.info("recurring job done", {
          repo: job.repo,
          service: job.service,
          action: job.action,
          ms: now() - startedAt,
        });
      } catch (error) {
        logger.error("recurring job failed", {
          repo: job.repo,
          service: job.service,
          action: job.action,
          error,
        });
      } finally {
        entry.job = null;
        entry.done = null;
        entry.eligibleFrom = now();
        if (entry.removed) entries.delete(entry.key);
        options.onChange?.();
        arm();
      }
    })();
    options.onChange?.();
  };

  function tick() {
    timer = undefined;
    if (stopped) return;
    // A timer that fires a little early finds nothing due and is simply armed again.
    const time = now();
    for (const entry of entries.values()) {
      const due = dueAt(entry);
      if (due !== null && due <= time) launch(entry, due);
    }
    arm();
  }

  const merge = (targets: RecurringTarget[]) => {
    const seen = new Set<string>();
    const loadedAt = now();
    for (const target of targets) {
      const name = serviceName(target.service.role, target.service.name);
      for (const [action, record] of Object.entries(target.service.actions)) {
        if (!(record.period > 0) || record.state === "disabled") continue;
        const key = `${target.repo}\u0000${name}\u0000${action}`;
        seen.add(key);
        const entry = entries.get(key);
        if (entry) {
          entry.target = target;
          entry.period = record.period;
          entry.storedLastRun = record.lastRun;
          entry.removed = false;
          continue;
        }
        entries.set(key, {
          key,
          target,
          service: name,
          action,
          period: record.period,
          storedLastRun: record.lastRun,
          lastStart: null,
          eligibleFrom: loadedAt,
          job: null,
          done: null,
          removed: false,
        });
      }
    }
    for (const [key, entry] of entries) {
      if (seen.has(key)) continue;
      if (entry.job) entry.removed = true;
      else entries.delete(key);
    }
  };

  const loadOnce = async () => {
    try {
      merge(await options.load());
    } catch (error) {
      logger.warn("could not load services for recurring actions", { error });
    }
    if (!stopped) tick();
  };

  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (loading) {
      // A change made during a load may be missed by it: load once more after it.
      reloadAgain = true;
      return loading;
    }
    loading = (async () => {
      do {
        reloadAgain = false;
        await loadOnce();
      } while (reloadAgain && !stopped);
      loading = null;
    })();
    return loading;
  };

  let reloader: unknown;
  const reload = () => {
    reloader = timers.set(() => {
      if (stopped) return;
      void refresh();
      reload();
    }, reloadMs);
  };
  reload();
  await refresh();

  return {
    refresh,
    running: () => [...entries.values()].flatMap((entry) => entry.job ? [{ ...entry.job }] : []),
    schedule: () =>
      [...entries.values()].map((entry) => ({
        repo: entry.target.repo,
        service: entry.service,
        action: entry.action,
        dueAt: dueAt(entry),
      })),
    async stop() {
      stopped = true;
      timers.clear(reloader);
      if (timer !== undefined) timers.clear(timer);
      timer = undefined;
      abort.abort();
      await loading;
      const running = [...entries.values()].flatMap((entry) => entry.done ? [entry.done] : []);
      await Promise.all(running);
    },
  };
}
