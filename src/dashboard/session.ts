/**
 * The dashboard's session cookie (docs/dashboard.md, "Token and session"): after the page sent
 * the token once, the browser holds a cookie `ays_session=EXPIRY.MAC`, where MAC is an
 * HMAC-SHA-256 of the expiry keyed by the token. The daemon keeps no session table: it checks
 * the MAC, so a session survives a daemon restart with the same token and ends when the token
 * changes or the expiry passes.
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The cookie's name. */
export const SESSION_COOKIE = "ays_session";

/** How long a session lasts by default: 12 hours. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Options of {@link newSession}. */
export interface NewSessionOptions {
  /** Epoch milliseconds; default `Date.now()`. */
  now?: number;
  /** Lifetime in milliseconds; default {@link DEFAULT_SESSION_TTL_MS}. */
  ttlMs?: number;
}

function mac(token: string, expiresAt: number): string {
  // The purpose prefix keeps the MAC from being useful as anything but a session.
  return createHmac("sha256", token).update(`ays-dashboard-session:${expiresAt}`).digest(
    "base64url",
  );
}

/** A new session value for the token: `EXPIRY.MAC`. */
export function newSession(token: string, options: NewSessionOptions = {}): string {
  const { now = Date.now(), ttlMs = DEFAULT_SESSION_TTL_MS } = options;
  if (token === "") throw new TypeError("newSession: the token must not be empty");
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) {
    throw new RangeError(`newSession: ttlMs must be a positive number, not ${ttlMs}`);
  }
  const expiresAt = Math.floor(now + ttlMs);
  return `${expiresAt}.${mac(token, expiresAt)}`;
}

/** Options of {@link checkSession}. */
export interface CheckSessionOptions {
  /** Epoch milliseconds; default `Date.now()`. */
  now?: number;
}

/** Whether a session value was made with this token and has not expired (constant-time MAC). */
export function checkSession(
  value: string | undefined,
  token: string,
  options: CheckSessionOptions = {},
): boolean {
  const { now = Date.now() } = options;
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(value ?? "");
  if (!match || token === "") return false;
  const expiresAt = Number(match[1]);
  // Digests of both sides: equal lengths whatever was sent, so the comparison is constant-time.
  const given = createHash("sha256").update(match[2]).digest();
  const wanted = createHash("sha256").update(mac(token, expiresAt)).digest();
  return timingSafeEqual(given, wanted) && expiresAt > now;
}

/** The cookies of a `Cookie` header by name (own properties only; the first of a name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== "" && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** Options of {@link sessionCookie}. */
export interface SessionCookieOptions {
  /** Seconds until the browser drops it; 0 clears it. */
  maxAgeSeconds: number;
  /** Adds `Secure` (the page came over HTTPS, through a TLS proxy). */
  secure?: boolean;
}

/**
 * The `Set-Cookie` value: HttpOnly (scripts never see it), SameSite=Strict (browsers do not
 * send it with requests other sites start), for every path of the daemon.
 */
export function sessionCookie(value: string, options: SessionCookieOptions): string {
  const { maxAgeSeconds, secure = false } = options;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new RangeError(`sessionCookie: maxAgeSeconds must be an integer >= 0`);
  }
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; ` +
    `SameSite=Strict${secure ? "; Secure" : ""}`;
}
