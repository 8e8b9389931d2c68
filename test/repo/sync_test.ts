/** Actor sync: stored actors win, templates add missing ones, changes are reported. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeRecord, encodeRecord } from "../../src/capnp/ays_models.ts";
import { loadRepoActors } from "../../src/repo/actor.ts";
import { actionsFileChanged, actorDifferences, syncActors } from "../../src/repo/sync.ts";
import { makeActor } from "../store/fixtures.ts";
import { fileURLToPath } from "node:url";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

describe("syncActors", () => {
  it("keeps stored actors, adds the templates the store lacks", () => {
    const stored = makeActor("node.ssh");
    const template = { ...makeActor("node.ssh"), templatePath: stored.templatePath };
    const fresh = makeActor("web");
    const synced = syncActors([stored], new Map([[template.name, template], [fresh.name, fresh]]));
    assert.equal(synced.actors.get("node.ssh"), stored);
    assert.equal(synced.actors.get("web"), fresh);
    assert.deepEqual([...synced.fresh], ["web"]);
    assert.deepEqual(synced.changed, []);
    assert.deepEqual(synced.warnings, []);
  });

  it("reports a changed template, suggesting ays update, and uses the stored actor", () => {
    const stored = makeActor("node.ssh");
    const template = makeActor("node.ssh");
    template.fields = template.fields.slice(1);
    template.capnpSchema = "different";
    template.actionNames = [...template.actionNames, "backup"];
    const synced = syncActors([stored], new Map([[template.name, template]]));
    assert.equal(synced.actors.get("node.ssh"), stored);
    assert.deepEqual(synced.changed, [{ name: "node.ssh", differences: ["schema", "actions"] }]);
    assert.match(synced.warnings[0], /ays update -n node\.ssh/);
  });

  it("warns about a stored actor whose template is gone", () => {
    const synced = syncActors([makeActor("old")], new Map());
    assert.deepEqual(synced.orphaned, ["old"]);
    assert.match(synced.warnings[0], /no template any more/);
    assert.ok(synced.actors.has("old"));
  });

  it("sees no difference between real templates and their stored (capnp round-tripped) actors", async () => {
    const { actors } = await loadRepoActors(INFRA);
    assert.ok(actors.size >= 8);
    for (const actor of actors.values()) {
      const stored = decodeRecord("actor", encodeRecord("actor", actor));
      assert.deepEqual(actorDifferences(stored, actor), [], actor.name);
      assert.equal(actionsFileChanged(stored, actor), false);
    }
  });

  it("an actions file with other content is not a difference, but actionsFileChanged says so", () => {
    const stored = makeActor("a");
    const template = { ...makeActor("a"), actionsHash: "abc" };
    assert.deepEqual(actorDifferences(stored, template), []);
    assert.equal(actionsFileChanged(stored, template), true);
  });
});
