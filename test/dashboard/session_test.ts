/**
 * The dashboard's session cookie: made with the token, refused with another token, after its
 * expiry (an injected clock), or when any character of it was changed; the cookie's flags.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkSession,
  newSession,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
} from "../../src/dashboard/session.ts";

describe("dashboard session", () => {
  const now = 1_800_000_000_000;

  it("is valid with its token until it expires, and never after", () => {
    const value = newSession("sekrit", { now, ttlMs: 60_000 });
    assert.match(value, /^\d+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(checkSession(value, "sekrit", { now }), true);
    assert.equal(checkSession(value, "sekrit", { now: now + 59_999 }), true);
    assert.equal(checkSession(value, "sekrit", { now: now + 60_000 }), false);
    assert.equal(checkSession(value, "other", { now }), false);
  });

  it("refuses a value with a changed expiry or MAC, garbage and nothing", () => {
    const value = newSession("sekrit", { now, ttlMs: 60_000 });
    const [expiry, mac] = value.split(".");
    // Moving the expiry later without the token is the forgery that matters.
    assert.equal(checkSession(`${Number(expiry) + 1_000_000}.${mac}`, "sekrit", { now }), false);
    const flipped = mac.slice(0, -1) + (mac.endsWith("A") ? "B" : "A");
    assert.equal(checkSession(`${expiry}.${flipped}`, "sekrit", { now }), false);
    for (const bad of [undefined, "", "x", `${expiry}.`, `.${mac}`, `${expiry}.${mac}x`]) {
      assert.equal(checkSession(bad, "sekrit", { now }), false, String(bad));
    }
    assert.equal(checkSession(value, "", { now }), false);
  });

  it("refuses bad arguments eagerly", () => {
    assert.throws(() => newSession(""), TypeError);
    assert.throws(() => newSession("t", { ttlMs: 0 }), RangeError);
    assert.throws(() => newSession("t", { ttlMs: Infinity }), RangeError);
    assert.throws(() => sessionCookie("v", { maxAgeSeconds: -1 }), RangeError);
  });

  it("sets an HttpOnly, SameSite=Strict cookie for the whole daemon; Secure behind TLS", () => {
    assert.equal(
      sessionCookie("v", { maxAgeSeconds: 60 }),
      `${SESSION_COOKIE}=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict`,
    );
    assert.match(sessionCookie("v", { maxAgeSeconds: 60, secure: true }), /; Secure$/);
  });

  it("parses a Cookie header: the first of a name wins, any name is just a name", () => {
    const cookies = parseCookies(`a=1; ${SESSION_COOKIE}=x.y; __proto__=p; a=2; junk`);
    assert.equal(cookies.get("a"), "1");
    assert.equal(cookies.get(SESSION_COOKIE), "x.y");
    assert.equal(cookies.get("__proto__"), "p");
    assert.equal(cookies.get("constructor"), undefined);
    assert.equal(parseCookies(undefined).size, 0);
  });
});
