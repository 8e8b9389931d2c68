/**
 * The dashboard on the daemon's HTTP API (docs/dashboard.md): the page and its files at `/ui/`,
 * the session at `/ui/session`, the cookie as a way in besides the bearer header, the
 * cross-site refusal of state-changing requests, and the routes of `/ui/api/`. The daemon knows
 * none of this: the CLI gives {@link dashboard}'s `routes` and `authorize` to `startDaemon`.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type HttpRoute,
  type Logger,
  type RequestAuthorizer,
  sendJson,
  type ServedRepo,
} from "../daemon/mod.ts";
import { answerRoute, readJson, sendError } from "./answer.ts";
import { type Asset, loadAssets, sendAsset } from "./assets.ts";
import { crossSiteRefusal, rebindingRefusal } from "./cross_site.ts";
import { dashboardRoutes } from "./routes.ts";
import {
  checkSession,
  DEFAULT_SESSION_TTL_MS,
  newSession,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
} from "./session.ts";

/** Options of {@link dashboard}. */
export interface DashboardOptions {
  /** The API's bearer token; without one the page needs no session. */
  token?: string;
  /** Session lifetime; default {@link DEFAULT_SESSION_TTL_MS}. */
  sessionTtlMs?: number;
  /** Clock (epoch milliseconds); default `Date.now`. */
  now?: () => number;
  logger?: Logger;
  /** The files to serve; default the embedded ones. */
  assets?: Map<string, Asset>;
}

/** What `GET /ui/session` answers: whether the page must ask for the token. */
export interface SessionState {
  /** `token`: the API needs one; `none`: it is open (loopback without a token). */
  auth: "token" | "none";
  /** Whether this request carries a valid session cookie. */
  signedIn: boolean;
}

/** What the daemon takes from the dashboard (`startDaemon`'s `routes` and `authorize`). */
export interface Dashboard {
  /** The cross-site guard first, then the page, its session and `/ui/api/`. */
  routes: HttpRoute[];
  /** Lets the page, its files and the sign-in through, and requests with a session cookie. */
  authorize: RequestAuthorizer;
}

function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-length": "0", "cache-control": "no-store", ...headers });
  res.end();
}

/** Files and the session: what a browser needs before it has a session. */
function isPublic(parts: readonly string[]): boolean {
  return parts[0] === "ui" && parts.length <= 2 && parts[1] !== "api";
}

/** Constant-time check of an `Authorization: Bearer` header against the token. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return sameSecret(match ? match[1] : "", token) && match !== null;
}

async function readToken(req: IncomingMessage): Promise<string | null> {
  const body = await readJson(req, 4096).catch(() => null);
  return typeof body?.token === "string" ? body.token : null;
}

function sameSecret(given: string, token: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The dashboard for the served repositories, to give `startDaemon` (see {@link Dashboard}). */
export function dashboard(
  repos: readonly ServedRepo[],
  options: DashboardOptions = {},
): Dashboard {
  const {
    token: given,
    sessionTtlMs = DEFAULT_SESSION_TTL_MS,
    now = Date.now,
    logger,
    assets = loadAssets(),
  } = options;
  const token = given === "" ? undefined : given;
  if (!(sessionTtlMs >= 1000)) {
    throw new RangeError(`dashboard: sessionTtlMs must be at least 1000, not ${sessionTtlMs}`);
  }
  const api = dashboardRoutes(repos, { logger });
  const signedIn = (req: IncomingMessage) =>
    token !== undefined &&
    checkSession(parseCookies(req.headers.cookie).get(SESSION_COOKIE), token, { now: now() });

  const session = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    if (method === "GET") {
      const answer: SessionState = {
        auth: token === undefined ? "none" : "token",
        signedIn: signedIn(req),
      };
      return sendJson(res, 200, answer);
    }
    if (method !== "POST" && method !== "DELETE") {
      return sendError(res, 405, `${method} is not allowed here; use GET, POST, DELETE`, {
        allow: "GET, POST, DELETE",
      });
    }
    // Signing in and out change state: the same cross-site rules as every other change.
    const refusal = crossSiteRefusal(req.headers, { viaCookie: true });
    if (refusal !== null) return sendError(res, 403, refusal);
    const secure = req.headers["x-forwarded-proto"] === "https";
    if (method === "DELETE") {
      return sendEmpty(res, 204, {
        "set-cookie": sessionCookie("", { maxAgeSeconds: 0, secure }),
      });
    }
    if (token === undefined) return sendEmpty(res, 204);
    const sent = await readToken(req);
    if (sent === null) return sendError(res, 400, 'expected a JSON body {"token": "…"}');
    if (!sameSecret(sent, token)) {
      logger?.warn("dashboard sign-in with a wrong token", {
        remote: req.socket.remoteAddress ?? "",
      });
      return sendError(res, 401, "wrong token");
    }
    const value = newSession(token, { now: now(), ttlMs: sessionTtlMs });
    return sendEmpty(res, 204, {
      "set-cookie": sessionCookie(value, {
        maxAgeSeconds: Math.floor(sessionTtlMs / 1000),
        secure,
      }),
    });
  };

  /**
   * Refuses cross-site changes of every route (the API's `POST /repos/{name}/runs` too), and
   * without a token any request addressed to a name that is not loopback: it runs before the
   * others. With a token, a request that passed without a matching bearer
   * header came in with the session cookie.
   */
  const guard: HttpRoute = (req, res, parts) => {
    // `GET /health` reveals nothing, and monitors may call it by any name.
    const health = parts.length === 1 && parts[0] === "health";
    if (token === undefined && !health) {
      const refusal = rebindingRefusal(req.headers.host);
      if (refusal !== null) {
        sendError(res, 403, refusal);
        return true;
      }
    }
    const method = req.method ?? "GET";
    if (method === "GET" || method === "HEAD") return false;
    const viaCookie = token !== undefined && !bearerMatches(req.headers.authorization, token);
    const refusal = crossSiteRefusal(req.headers, { viaCookie });
    if (refusal === null) return false;
    sendError(res, 403, refusal);
    return true;
  };

  const ui: HttpRoute = async (req, res, parts) => {
    if (parts[0] !== "ui") return false;
    if (parts[1] === "api") {
      const route = api([...parts]);
      if (route === null) return false;
      await answerRoute(req, res, route, { logger });
      return true;
    }
    if (parts.length > 2) return false;
    const name = parts.length === 1 ? "index.html" : parts[1];
    if (name === "session") {
      await session(req, res);
      return true;
    }
    // A Map: `__proto__` or `constructor` are just names it does not have.
    const asset = assets.get(name);
    if (asset === undefined) return false;
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      sendError(res, 405, `${method} is not allowed here; use GET`, { allow: "GET, HEAD" });
      return true;
    }
    sendAsset(req, res, asset);
    return true;
  };

  return {
    routes: [guard, ui],
    authorize: (req, parts) => isPublic(parts) || signedIn(req),
  };
}
