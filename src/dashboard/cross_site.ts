/**
 * Refusing cross-site requests that change state (docs/dashboard.md, "Cross-site requests").
 * Three rules, for every request that is not GET or HEAD:
 *
 * 1. A browser's `Sec-Fetch-Site` other than `same-origin` (or `none`, typed by the user) is
 *    refused: `same-site` too, because another web application on another port of the same
 *    host is "same site" for cookies.
 * 2. An `Origin` other than the daemon's own (scheme and the request's `Host`) is refused; so
 *    is `Origin: null` (sandboxed frames, `file:` pages).
 * 3. A request let in by the session cookie must carry the header {@link DASHBOARD_HEADER}: a
 *    page of another origin cannot add a custom header without a CORS preflight, which the
 *    daemon never grants, so the header proves the request came from the dashboard's own page.
 *
 * Clients that are not browsers (curl, scripts) send neither `Origin` nor `Sec-Fetch-Site`
 * and authenticate with the bearer header, so they are not affected.
 *
 * @module
 */
import { isLoopback } from "../daemon/mod.ts";

/** The custom header the dashboard sends with every request it makes. */
export const DASHBOARD_HEADER = "x-ays-request";

/** The headers {@link crossSiteRefusal} looks at (node's lower-cased `IncomingHttpHeaders`). */
export interface RequestHeaders {
  [name: string]: string | string[] | undefined;
}

/** Options of {@link crossSiteRefusal}. */
export interface CrossSiteOptions {
  /** The request was let in by the session cookie (not by a bearer header, nor without a token). */
  viaCookie: boolean;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Why a state-changing request is refused as cross-site, or null when it may pass. */
export function crossSiteRefusal(
  headers: RequestHeaders,
  options: CrossSiteOptions,
): string | null {
  const { viaCookie } = options;
  const site = one(headers["sec-fetch-site"]);
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  }
  const origin = one(headers["origin"]);
  if (origin !== undefined) {
    const host = (one(headers["host"]) ?? "").toLowerCase();
    const own = [`http://${host}`, `https://${host}`];
    if (host === "" || !own.includes(origin.toLowerCase())) {
      return `cross-site request refused: Origin ${origin} is not this daemon's (${
        host === "" ? "no Host header" : `http://${host}`
      })`;
    }
  }
  if (viaCookie && one(headers[DASHBOARD_HEADER]) === undefined) {
    return `a request authenticated by the session cookie needs the header ${DASHBOARD_HEADER} ` +
      `(the dashboard sends it; scripts use Authorization: Bearer)`;
  }
  return null;
}

/**
 * Why a request to a daemon without a token is refused because of its `Host`, or null: such a
 * daemon listens on loopback only, and a page of another site whose name was made to resolve to
 * 127.0.0.1 (DNS rebinding) would otherwise be "same-origin" with it, `Origin` and all. A
 * browser sends that page's own name as `Host`; every loopback name passes (`localhost`,
 * `*.localhost`, `127.0.0.0/8`, `[::1]`), with any port.
 */
export function rebindingRefusal(host: string | undefined): string | null {
  const match = /^(\[[^\]]*\]|[^:]+)(?::\d+)?$/.exec(host ?? "");
  if (match && isLoopback(match[1])) return null;
  return `refused: Host ${JSON.stringify(host ?? "")} is not a loopback name; a daemon without ` +
    `a token answers only requests to localhost, 127.0.0.1 or [::1] (against DNS rebinding): ` +
    `give it a token (--token) to serve it under another name`;
}
