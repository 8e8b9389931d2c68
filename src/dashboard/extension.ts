/**
 * The dashboard as an extension of the daemon's HTTP API (docs/dashboard.md): the page and its
 * files at `/ui/`, the session at `/ui/session`, the cookie as a way in besides the bearer
 * header, the cross-site refusal of state-changing requests, and the routes of `/ui/api/`.
 * The daemon knows none of this; the CLI hands it to `startDaemon` as its `extension`.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpExtension, Logger, ServedRepo } from "../daemon/mod.ts";
import { type Asset, loadAssets, sendAsset } from "./assets.ts";
import { crossSiteRefusal } from "./cross_site.ts";
import { dashboardRoutes } from "./routes.ts";
import {
  checkSession,
  DEFAULT_SESSION_TTL_MS,
  newSession,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
} from "./session.ts";

/** Options of {@link dashboardExtension}. */
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

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body) + "\n";
  res.writeHead(status, {
    ...(text === "" ? {} : { "content-type": "application/json; charset=utf-8" }),
    "content-length": String(new TextEncoder().encode(text).length),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

function fail(res: ServerResponse, status: number, message: string, headers = {}): void {
  sendJson(res, status, { error: { status, message } }, headers);
}

async function readToken(req: IncomingMessage): Promise<string | null> {
  let text = "";
  for await (const chunk of req) {
    text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array);
    if (text.length > 4096) return null;
  }
  try {
    const body = JSON.parse(text);
    return typeof body?.token === "string" ? body.token : null;
  } catch {
    return null;
  }
}

function sameSecret(given: string, token: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** The dashboard for the served repositories, to give `startDaemon` as its `extension`. */
export function dashboardExtension(
  repos: readonly ServedRepo[],
  options: DashboardOptions = {},
): HttpExtension {
  const {
    token: given,
    sessionTtlMs = DEFAULT_SESSION_TTL_MS,
    now = Date.now,
    logger,
    assets = loadAssets(),
  } = options;
  const token = given === "" ? undefined : given;
  if (!(sessionTtlMs >= 1000)) {
    throw new RangeError(
      `dashboardExtension: sessionTtlMs must be at least 1000, not ${sessionTtlMs}`,
    );
  }
  const route = dashboardRoutes(repos, { logger });
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
      return fail(res, 405, `${method} is not allowed here; use GET, POST, DELETE`, {
        allow: "GET, POST, DELETE",
      });
    }
    // Signing in and out change state: the same cross-site rules as every other change.
    const refusal = crossSiteRefusal(req.headers, { viaCookie: true });
    if (refusal !== null) return fail(res, 403, refusal);
    const secure = req.headers["x-forwarded-proto"] === "https";
    if (method === "DELETE") {
      return sendJson(res, 204, undefined, {
        "set-cookie": sessionCookie("", { maxAgeSeconds: 0, secure }),
      });
    }
    if (token === undefined) return sendJson(res, 204, undefined);
    const sent = await readToken(req);
    if (sent === null) return fail(res, 400, 'expected a JSON body {"token": "…"}');
    if (!sameSecret(sent, token)) {
      logger?.warn("dashboard sign-in with a wrong token", {
        remote: req.socket.remoteAddress ?? "",
      });
      return fail(res, 401, "wrong token");
    }
    const value = newSession(token, { now: now(), ttlMs: sessionTtlMs });
    return sendJson(res, 204, undefined, {
      "set-cookie": sessionCookie(value, {
        maxAgeSeconds: Math.floor(sessionTtlMs / 1000),
        secure,
      }),
    });
  };

  return {
    async serve(req, res, parts) {
      if (parts[0] !== "ui" || parts.length > 2) return false;
      const method = req.method ?? "GET";
      const name = parts.length === 1 ? "index.html" : parts[1];
      if (name === "session") {
        await session(req, res);
        return true;
      }
      if (name === "api") return false;
      // A Map: `__proto__` or `constructor` are just names it does not have.
      const asset = assets.get(name);
      if (asset === undefined) return false;
      if (method !== "GET" && method !== "HEAD") {
        fail(res, 405, `${method} is not allowed here; use GET`, { allow: "GET, HEAD" });
        return true;
      }
      sendAsset(req, res, asset);
      return true;
    },
    admit: signedIn,
    refuse: (req, { viaCookie }) => crossSiteRefusal(req.headers, { viaCookie }),
    route,
  };
}
