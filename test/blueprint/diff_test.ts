import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blueprintDiff, renderDiff } from "../../src/blueprint/diff.ts";
import type { ChangeSet } from "../../src/blueprint/resolve.ts";
import type { ActorRecord } from "../../src/model/types.ts";
import { actor, link, service } from "../run/model_fixtures.ts";

function withFields(name: string, secret: string[]): ActorRecord {
  const a = actor(name);
  a.fields = secret.map((f) => ({ name: f, camelName: f, type: "str", secret: true } as never));
  return a;
}

/** A store of redis!main, app!old (linked to nothing), app!web (consuming redis!main). */
function fixture() {
  const redis = service("redis", "main");
  redis.data = { port: 6379, password: "hush" };
  const web = service("app", "web");
  link(web, redis);
  const old = service("app", "old");
  const stored = [redis, web, old];
  const actors = new Map([
    ["redis", withFields("redis", ["password"])],
    ["app", actor("app")],
  ]);
  const cache = service("cache", "c1");
  cache.data = { size: 64 };
  link(cache, redis);
  const changedRedis = { ...structuredClone(redis), data: { port: 6380, password: "hush" } };
  const movedWeb = structuredClone(web);
  movedWeb.producers = { cache: ["cache!c1"] };
  const changes: ChangeSet = {
    created: [cache],
    updated: [
      { service: changedRedis, changes: { port: { old: 6379, new: 6380 } } },
      { service: movedWeb, changes: {} },
    ],
    scheduled: [{
      service: "redis!main",
      action: "processChange",
      args: { changes: { port: { old: 6379, new: 6380 } } },
    }],
    warnings: [],
  } as ChangeSet;
  return { stored, actors, changes };
}

const GOLDEN = [
  "+ cache!c1 (cache)",
  "+     size: 64",
  "+     link redis!main",
  "~ redis!main",
  "~     port: 6379 → 6380",
  "~ app!web",
  "+     link cache!c1",
  "-     link redis!main",
  "  schedule redis!main processChange (port)",
  "- not in any blueprint: app!old — `ays delete app!old` to remove",
  "",
].join("\n");

describe("blueprintDiff / renderDiff (ays blueprint --dry-run)", () => {
  it("is a diff: created with attributes and links, updated fields and links, orphans", () => {
    const { stored, actors, changes } = fixture();
    const declared = new Set(["redis!main", "app!web", "cache!c1"]);
    const diff = blueprintDiff(changes, { actors, stored, declared });
    assert.equal(renderDiff(diff), GOLDEN);
    assert.deepEqual(diff.notInBlueprints, ["app!old"]);
    assert.deepEqual(diff.update[1], {
      service: "app!web",
      changes: {},
      linksAdded: ["cache!c1"],
      linksRemoved: ["redis!main"],
    });
  });

  it("colours + green, ~ yellow, - red, and the same content without colour", () => {
    const { stored, actors, changes } = fixture();
    const diff = blueprintDiff(changes, { actors, stored, declared: new Set(["redis!main"]) });
    const colored = renderDiff(diff, { color: true });
    const lines = colored.split("\n");
    assert.ok(lines.includes("\x1b[32m+ cache!c1 (cache)\x1b[0m"), colored);
    assert.ok(lines.includes("\x1b[33m~ redis!main\x1b[0m"), colored);
    assert.ok(lines.includes("\x1b[31m-     link redis!main\x1b[0m"), colored);
    const ESC = String.fromCharCode(27);
    assert.equal(colored.replaceAll(new RegExp(`${ESC}\\[\\d+m`, "g"), ""), renderDiff(diff));
  });

  it("masks secrets of new services unless revealed; no orphans without the declared set", () => {
    const { actors } = fixture();
    const fresh = service("redis", "r2");
    fresh.data = { port: 1, password: "hush" };
    const changes = { created: [fresh], updated: [], scheduled: [], warnings: [] } as ChangeSet;
    const masked = blueprintDiff(changes, { actors, stored: [] });
    assert.deepEqual(masked.create[0].data, { port: 1, password: "***" });
    assert.deepEqual(masked.notInBlueprints, []);
    const revealed = blueprintDiff(changes, { actors, stored: [], reveal: true });
    assert.equal(revealed.create[0].data.password, "hush");
    const none = { created: [], updated: [], scheduled: [], warnings: [] } as unknown as ChangeSet;
    assert.equal(renderDiff(blueprintDiff(none, { actors, stored: [] })), "no changes\n");
  });
});
