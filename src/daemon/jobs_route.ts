/**
 * `GET /repos/{name}/jobs` (docs/events.md, "ays jobs"): the body of `ays jobs --json`, with
 * the same filters as query parameters — `role`, `instance`, `action`, `recurring`
 * (`true`: only recurring actions' jobs, `false`: only runs'), `state`, `limit`.
 *
 * @module
 */
import { AysError, ExitCode } from "../errors.ts";
import type { JobFilter } from "../run/mod.ts";
import type { DaemonBackend } from "./backend.ts";
import { type HttpRoute, sendJson } from "./http.ts";

const PARAMS = new Set(["role", "instance", "action", "recurring", "state", "limit"]);

/** The route over `backend.jobs`; a backend without it leaves the path to the others. */
export function jobsRoute(backend: DaemonBackend): HttpRoute {
  return async (req, res, parts) => {
    if (parts.length !== 3 || parts[0] !== "repos" || parts[2] !== "jobs" || !backend.jobs) {
      return false;
    }
    const fail = (status: number, message: string, headers = {}) =>
      sendJson(res, status, { error: { status, message } }, headers);
    if ((req.method ?? "GET") !== "GET") {
      fail(405, `${req.method} is not allowed here; use GET`, { allow: "GET" });
      return true;
    }
    const repo = parts[1];
    try {
      if (!(await backend.hasRepo(repo))) {
        fail(404, `unknown repository '${repo}'`);
        return true;
      }
      const query = new URL(req.url ?? "/", "http://localhost").searchParams;
      const filter: JobFilter = {};
      for (const [key, value] of query) {
        if (!PARAMS.has(key)) {
          fail(400, `unknown query parameter '${key}' (use ${[...PARAMS].join(", ")})`);
          return true;
        }
        if (key === "recurring") {
          if (value !== "true" && value !== "false") {
            fail(400, `recurring must be true or false, not '${value}'`);
            return true;
          }
          filter.recurring = value === "true";
        } else if (key === "limit") {
          filter.limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        } else {
          filter[key as "role" | "instance" | "action" | "state"] = value;
        }
      }
      sendJson(res, 200, await backend.jobs(repo, filter));
    } catch (error) {
      if (error instanceof AysError && error.exitCode === ExitCode.badInput) {
        fail(400, error.message);
      } else if (error instanceof AysError && error.exitCode === ExitCode.unavailable) {
        fail(503, error.message);
      } else throw error;
    }
    return true;
  };
}
