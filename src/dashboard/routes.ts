/**
 * The JSON routes only the dashboard needs (docs/dashboard.md, "API"), under `/ui/api/`, behind
 * the same token as the rest of the API: services with the message of each failed action, the
 * planner's graph, recurring actions and their history, a job's whole log, and `do` of one
 * action on one service. The rest of what the page shows comes from the daemon's own routes.
 *
 * @module
 */
import type { IncomingMessage } from "node:http";
import { InputError } from "../errors.ts";
import {
  didYouMean,
  isLifecycleAction,
  listEntry,
  ownValue,
  recurringPause,
  type ServiceListEntry,
  serviceName,
  type ServiceRecord,
  sortServices,
} from "../model/mod.ts";
import { type JobView, jobView, loadLastJobs, planRepoRun } from "../run/mod.ts";
import { recurringRunId } from "../store/mod.ts";
import {
  checkRunRequest,
  type Logger,
  queueRunRequest,
  type ServedRepo,
  silentLogger,
} from "../daemon/mod.ts";
import { DashboardError, type JsonRoute, readJson } from "./answer.ts";
import { graphView, MAX_GRAPH_NODES } from "./graph_view.ts";
import { fleetWorkers } from "./workers_route.ts";

/** A service in `GET /ui/api/repos/{name}/services`: its list entry and its actions' errors. */
export interface DashboardService extends ServiceListEntry {
  /** The error message of the last job of each action in state `error`. */
  errors: Record<string, string>;
}

/** A recurring action in `GET /ui/api/repos/{name}/recurring`. */
export interface RecurringEntry {
  service: string;
  action: string;
  /** Seconds. */
  period: number;
  state: string;
  /** ISO 8601 of the last start, or null. */
  lastRun: string | null;
  /** Why it does not run now (docs/daemon.md, "Paused recurring actions"), or null. */
  paused: string | null;
}

/** Options of {@link dashboardRoutes}. */
export interface DashboardRoutesOptions {
  /** Log lines given with each job of a recurring history; default 20. */
  tail?: number;
  /** Where a queued `do` is logged (as the API's queued runs are). */
  logger?: Logger;
}

/** Lines of one job log the API gives at most (the newest). */
const MAX_LOG_LINES = 10_000;

/** `^(?:name)$` for a literal name: the instance filter of a queued run is a regex. */
function literalRegex(name: string): string {
  return name.replace(/[\^$\\.*+?()[\]{}|/]/g, "\\$&");
}

/** `role!instance` → its parts; an {@link InputError} for anything else. */
function splitServiceName(name: unknown): { role: string; instance: string } {
  const text = typeof name === "string" ? name : "";
  const bang = text.indexOf("!");
  if (bang <= 0 || bang === text.length - 1) {
    throw new InputError(`expected a service as role!instance, not ${JSON.stringify(name)}`);
  }
  return { role: text.slice(0, bang), instance: text.slice(bang + 1) };
}

function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://localhost").searchParams;
}

/** The services of a repository with each failed action's message (one bulk load). */
export async function dashboardServices(repo: ServedRepo): Promise<DashboardService[]> {
  const services = sortServices(await repo.store.loadServices());
  // Only failed actions need their job: a bounded number of loads even at 1,000 services.
  const failed = services.filter((s) => Object.values(s.actions).some((a) => a.state === "error"));
  const jobs = await loadLastJobs(repo.store, failed);
  return services.map((service) => {
    const errors: Record<string, string> = {};
    for (const [action, record] of Object.entries(service.actions)) {
      if (record.state !== "error") continue;
      const job = record.lastJob === null ? undefined : jobs.get(record.lastJob);
      errors[action] = job?.error?.message ?? "failed (its job record was pruned)";
    }
    return { ...listEntry(service), errors };
  });
}

/** Every recurring action (period > 0) of a repository with its state and pause reason. */
export async function recurringEntries(repo: ServedRepo): Promise<RecurringEntry[]> {
  const [services, actors] = await Promise.all([
    repo.store.loadServices(),
    repo.store.loadActors(),
  ]);
  const actorByName = new Map(actors.map((actor) => [actor.name, actor]));
  const entries: RecurringEntry[] = [];
  for (const service of sortServices(services)) {
    for (const [action, record] of Object.entries(service.actions)) {
      if (!(record.period > 0)) continue;
      entries.push({
        service: serviceName(service.role, service.name),
        action,
        period: record.period,
        state: record.state,
        lastRun: record.lastRun === null ? null : new Date(record.lastRun).toISOString(),
        paused: record.state === "disabled"
          ? null
          : recurringPause(service, actorByName.get(service.actor), action),
      });
    }
  }
  return entries;
}

/** The recorded jobs of one recurring action, newest first, each with its log's last lines. */
export async function recurringHistory(
  repo: ServedRepo,
  target: { service: string; action: string },
  options: { tail?: number } = {},
): Promise<JobView[]> {
  const { tail = 20 } = options;
  const jobs = await repo.store.loadJobs(recurringRunId(target.service, target.action));
  const views: JobView[] = [];
  for (const job of [...jobs].reverse()) {
    const lines = tail > 0 ? (await repo.store.readJobLog(job.id)).slice(-tail) : undefined;
    views.push(jobView(job, lines));
  }
  return views;
}

async function loadService(repo: ServedRepo, name: string): Promise<ServiceRecord> {
  const { role, instance } = splitServiceName(name);
  const service = await repo.store.loadServiceByName(role, instance);
  if (!service) throw new DashboardError(404, `unknown service '${name}' in '${repo.name}'`);
  return service;
}

/**
 * `do` of one action on one service: queues the run `ays do ACTION -r ROLE -i INSTANCE` would
 * make (the instance as a literal), checked first like every queued request. A lifecycle action
 * that is already `ok` would do nothing without `--force`, which queued runs do not take: that
 * is refused with a message instead of a run that never appears.
 */
export async function queueDo(
  repo: ServedRepo,
  body: Record<string, unknown>,
): Promise<string> {
  const extra = Object.keys(body).filter((key) => key !== "service" && key !== "action");
  if (extra.length > 0) throw new InputError(`unknown key(s) in the body: ${extra.join(", ")}`);
  if (typeof body.action !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(body.action)) {
    throw new InputError(`expected an action name, not ${JSON.stringify(body.action)}`);
  }
  const action = body.action;
  const service = await loadService(repo, String(body.service));
  const name = serviceName(service.role, service.name);
  const record = ownValue(service.actions, action);
  if (!record) {
    throw new InputError(
      `${name} has no action ${action}${didYouMean(action, Object.keys(service.actions))}`,
    );
  }
  if (record.state === "ok" && isLifecycleAction(action)) {
    throw new InputError(
      `${action} is already ok on ${name}: run it again with ays do ${action} --force`,
    );
  }
  const request = { action, role: service.role, instance: literalRegex(service.name) };
  await checkRunRequest(repo.store, request);
  return queueRunRequest(repo.driver, request, { repo: repo.name, source: "http" });
}

function graphOptions(params: URLSearchParams) {
  const text = (name: string) => {
    const value = params.get(name);
    return value === null || value === "" ? undefined : value;
  };
  const action = text("action");
  if (action !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(action)) {
    throw new InputError(`graph: expected an action name, not '${action}'`);
  }
  const limitText = text("limit") ?? "300";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GRAPH_NODES) {
    throw new InputError(
      `graph: limit must be an integer 1–${MAX_GRAPH_NODES}, not '${limitText}'`,
    );
  }
  return { action, role: text("role"), instance: text("instance"), limit };
}

/**
 * The routes, given the served repositories: a function from path segments to the methods of
 * that path, or null when the path is not the dashboard's.
 */
export function dashboardRoutes(
  repos: readonly ServedRepo[],
  options: DashboardRoutesOptions = {},
): (parts: string[]) => JsonRoute | null {
  const { tail = 20, logger = silentLogger } = options;
  const byName = new Map(repos.map((repo) => [repo.name, repo]));
  const repoOf = (name: string): ServedRepo => {
    const repo = byName.get(name);
    if (!repo) throw new DashboardError(404, `unknown repository '${name}'`);
    return repo;
  };
  return (parts): JsonRoute | null => {
    const [ui, api, repos_, name, what, ...rest] = parts;
    if (ui !== "ui" || api !== "api" || repos_ !== "repos" || name === undefined) return null;
    const n = rest.length;
    if (what === "services" && n === 0) {
      return { GET: async () => [200, await dashboardServices(repoOf(name))] };
    }
    if (what === "graph" && n === 0) {
      return {
        GET: async (req) => {
          const repo = repoOf(name);
          const { action, role, instance, limit } = graphOptions(query(req));
          const [{ plan }, stored] = await Promise.all([
            planRepoRun(
              { store: repo.store, driver: repo.driver, repo: repo },
              {
                scope: { action, role, instance },
                // As `ays simulate --action A --force`: every job of A, whatever its state.
                schedule: action === undefined ? undefined : { force: true },
              },
            ),
            // The states as stored, not as the plan's in-memory scheduling left them.
            repo.store.loadServices(),
          ]);
          const services = new Map(stored.map((s) => [serviceName(s.role, s.name), s]));
          return [200, graphView(plan, services, { limit })];
        },
      };
    }
    if (what === "recurring" && n === 0) {
      return { GET: async () => [200, await recurringEntries(repoOf(name))] };
    }
    if (what === "recurring" && n === 3) {
      const [role, instance, action] = rest;
      return {
        GET: async () => {
          const repo = repoOf(name);
          const service = serviceName(role, instance);
          return [200, await recurringHistory(repo, { service, action }, { tail })];
        },
      };
    }
    if (what === "runs" && n === 4 && rest[1] === "jobs" && rest[3] === "log") {
      const [runId, , jobId] = rest;
      return {
        GET: async () => {
          const repo = repoOf(name);
          const job = await repo.store.loadJob(runId, jobId);
          if (job === null) {
            throw new DashboardError(404, `unknown job '${jobId}' of run '${runId}'`);
          }
          const lines = await repo.store.readJobLog(jobId);
          return [200, {
            id: jobId,
            runId,
            lines: lines.slice(-MAX_LOG_LINES),
            truncated: lines.length > MAX_LOG_LINES,
          }];
        },
      };
    }
    if (what === "workers" && n === 0) {
      return { GET: async () => [200, await fleetWorkers(repoOf(name))] };
    }
    if (what === "do" && n === 0) {
      return {
        POST: async (req) => {
          const repo = repoOf(name);
          const body = await readJson(req, 64 * 1024);
          const id = await queueDo(repo, body);
          logger.info("run queued", {
            repo: repo.name,
            id,
            action: body.action,
            service: body.service,
            source: "dashboard",
          });
          return [202, { id }];
        },
      };
    }
    return null;
  };
}
