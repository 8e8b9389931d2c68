import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/daemon/logger.ts";

const NOW = () => new Date("2026-01-02T03:04:05.678Z");

describe("daemon logger", () => {
  it("writes JSON lines with time, level, msg and the fields", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (line) => lines.push(line), now: NOW });
    log.info("run queued", { repo: "alpha", id: "r1", parallel: 4 });
    log.debug("dropped below the level");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith("\n"));
    assert.deepEqual(JSON.parse(lines[0]), {
      time: "2026-01-02T03:04:05.678Z",
      level: "info",
      msg: "run queued",
      repo: "alpha",
      id: "r1",
      parallel: 4,
    });
  });

  it("writes readable text lines, colour only when asked", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line), now: NOW, level: "debug" });
    log.warn("could not save", { repo: "alpha", error: new Error("store down"), n: 2 });
    assert.equal(
      lines[0],
      '2026-01-02T03:04:05.678Z WARN  could not save repo=alpha error={"name":"Error","message":"store down"} n=2\n',
    );
    const colored: string[] = [];
    createLogger({ write: (line) => colored.push(line), color: true }).error("x");
    assert.ok(colored[0].includes("\x1b[31mERROR\x1b[0m x"), colored[0]);
  });

  it("never prints secrets: credential fields, URL passwords, declared values", () => {
    const lines: string[] = [];
    const log = createLogger({
      format: "json",
      write: (line) => lines.push(line),
      secrets: ["tok-123456"],
    });
    log.info("listening with tok-123456", {
      token: "tok-123456",
      headers: { authorization: "Bearer tok-123456" },
      store: "redis://ays:hunter2@db:6379/0",
      nested: [{ password: "pw" }],
      note: "the token tok-123456 leaked into a message",
    });
    const text = lines.join("");
    for (const secret of ["tok-123456", "hunter2", '"pw"']) {
      assert.ok(!text.includes(secret), secret);
    }
    const line = JSON.parse(text);
    assert.equal(line.store, "redis://ays:***@db:6379/0");
    assert.equal(line.token, "***");
    assert.equal(line.headers.authorization, "***");
    assert.equal(line.msg, "listening with ***");
  });

  it("masks a Redis password given alone, and leaves URLs without a password alone", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (line) => lines.push(line) });
    log.info("store redis://s3cretpw@host:6379/0 is down", {
      store: "redis://s3cretpw@host:6379/0",
      tls: "rediss://:pw@db:6380",
      plain: "redis://db:6379/0",
    });
    assert.ok(!lines.join("").includes("s3cretpw"), lines.join(""));
    const line = JSON.parse(lines[0]);
    assert.equal(line.msg, "store redis://***@host:6379/0 is down");
    assert.equal(line.store, "redis://***@host:6379/0");
    assert.equal(line.tls, "rediss://:***@db:6380");
    assert.equal(line.plain, "redis://db:6379/0");
  });
});
