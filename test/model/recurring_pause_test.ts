import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { onActionSucceeded } from "../../src/model/schedule.ts";
import { recurringPause } from "../../src/model/recurring_pause.ts";
import { actor, service } from "../run/model_fixtures.ts";

describe("recurringPause", () => {
  const web = actor("web");

  it("monitor runs while start is ok, and is paused after stop with the reason", () => {
    let s = service("web", "w1", { states: { install: "ok", start: "ok" } });
    assert.equal(recurringPause(s, web, "monitor"), null);
    s = onActionSucceeded(s, "stop");
    assert.equal(
      recurringPause(s, web, "monitor"),
      "start is new (monitor runs while start is ok)",
    );
    s = onActionSucceeded(s, "start");
    assert.equal(recurringPause(s, web, "monitor"), null);
  });

  it("an action without prerequisites runs while install is ok, when the actor has one", () => {
    const withInstall = { ...actor("db", {}, ["backup"]), exported: ["install", "backup"] };
    const s = service("db", "d1", { states: { backup: "ok" } });
    assert.equal(
      recurringPause(s, withInstall, "backup"),
      "install is new (backup runs while install is ok)",
    );
    const ok = service("db", "d1", { states: { install: "ok", backup: "ok" } });
    assert.equal(recurringPause(ok, withInstall, "backup"), null);
    // No install of its own (not exported): nothing to wait for.
    const bare = { ...actor("db", {}, ["backup"]), exported: ["backup"] };
    assert.equal(recurringPause(s, bare, "backup"), null);
  });

  it("follows deps: and looks through prerequisites that need no job", () => {
    const custom = { ...actor("app", { check: { deps: ["start"] } }, ["check"]) };
    const s = service("app", "a", { states: { start: "error" } });
    assert.match(recurringPause(s, custom, "check")!, /^start is error/);
    const noStart = { ...actor("app"), exported: ["install", "monitor"] };
    const t = service("app", "a", { states: { install: "ok" } });
    assert.equal(recurringPause(t, noStart, "monitor"), null);
    const u = service("app", "a", { states: { install: "new" } });
    assert.match(recurringPause(u, noStart, "monitor")!, /^install is new/);
  });
});
