import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatListen, isLoopback, parseListen } from "../../src/daemon/listen.ts";
import { InputError } from "../../src/errors.ts";

describe("--listen", () => {
  it("parses HOST:PORT, [IPV6]:PORT, :PORT and PORT", () => {
    assert.deepEqual(parseListen("0.0.0.0:8080"), { host: "0.0.0.0", port: 8080 });
    assert.deepEqual(parseListen("localhost:5000"), { host: "localhost", port: 5000 });
    assert.deepEqual(parseListen("[::1]:5001"), { host: "::1", port: 5001 });
    assert.deepEqual(parseListen(":5002"), { host: "127.0.0.1", port: 5002 });
    assert.deepEqual(parseListen("0"), { host: "127.0.0.1", port: 0 });
  });

  it("refuses what is not an address with an InputError", () => {
    for (const text of ["", "host", "host:", "host:abc", "host:70000", "::1:5000", "[::1]"]) {
      assert.throws(() => parseListen(text), InputError, text);
    }
  });

  it("formats IPv6 hosts in brackets", () => {
    assert.equal(formatListen({ host: "::1", port: 5 }), "[::1]:5");
    assert.equal(formatListen({ host: "127.0.0.1", port: 5 }), "127.0.0.1:5");
  });

  it("knows loopback: 127.0.0.0/8, ::1, localhost", () => {
    for (
      const host of [
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "localhost",
        "LOCALHOST",
        "::ffff:127.0.0.1",
      ]
    ) {
      assert.ok(isLoopback(host), host);
    }
    for (
      const host of [
        "0.0.0.0",
        "::",
        "10.0.0.1",
        "128.0.0.1",
        "127.0.0.256",
        "example.com",
        "127.0.0.1.example.com",
      ]
    ) {
      assert.ok(!isLoopback(host), host);
    }
  });
});
