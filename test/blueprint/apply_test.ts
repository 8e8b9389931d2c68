/**
 * applyBlueprintUnit against a real (SQLite) store: one save, only the actors the services
 * need, processChange's changes on its action record, nothing written on error or dry run.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyBlueprintUnit, attachChangeArgs } from "../../src/blueprint/apply.ts";
import type { ChangeSet } from "../../src/blueprint/resolve.ts";
import { InputError } from "../../src/errors.ts";
import { onActionSucceeded } from "../../src/model/schedule.ts";
import { type OpenedRepositoryStore, openRepositoryStore } from "../../src/store/open.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { actor, actorMap, field } from "./helpers.ts";
import { newActionRecord } from "../../src/model/schedule.ts";
import type { ServiceRecord } from "../../src/model/types.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

/** Every key and value of the store, as text. */
async function dump(opened: OpenedRepositoryStore): Promise<Map<string, string>> {
  const keys = await opened.driver.listKeys("");
  const values = await opened.driver.getMany(keys);
  return new Map(
    keys.map((k, i) => [
      k,
      Array.from(values[i] ?? [], (b) => b.toString(16).padStart(2, "0")).join(""),
    ]),
  );
}

describe("applyBlueprintUnit", () => {
  let dir: TempDir;
  let repo: string;
  let opened: OpenedRepositoryStore;
  before(async () => {
    dir = await makeTempDir("ays-apply-");
    repo = join(dir.path, "infra");
    await cp(INFRA, repo, { recursive: true });
    opened = await openRepositoryStore({
      repoPath: repo,
      repoName: "infra",
      env: { XDG_CONFIG_HOME: join(dir.path, "cfg") },
      mirror: true,
    });
  });
  after(async () => {
    await opened.driver.close();
    await dir.remove();
  });

  it("dry run: the change, nothing written", async () => {
    const unit = await applyBlueprintUnit(opened.store, { repoPath: repo, dryRun: true });
    assert.equal(unit.written, false);
    assert.equal(unit.changes.created.length, 10);
    assert.equal((await dump(opened)).size, 0);
  });

  it("stores the services and only the actors they need, in one save", async () => {
    const unit = await applyBlueprintUnit(opened.store, {
      repoPath: repo,
      files: [join(repo, "blueprints", "01_base.yaml")],
    });
    assert.equal(unit.written, true);
    assert.deepEqual(unit.newActors.map((a) => a.name), ["datacenter", "sshkey"]);
    assert.deepEqual((await opened.store.loadActors()).map((a) => a.name).sort(), [
      "datacenter",
      "sshkey",
    ]);
    const all = await applyBlueprintUnit(opened.store, { repoPath: repo });
    assert.equal(all.changes.created.length, 8);
    assert.equal((await opened.store.loadActors()).length, 8);
  });

  it("a re-apply that changes nothing writes nothing: no store write, no mirror file", async () => {
    const files = async () => {
      const found = new Map<string, string>();
      for (const top of ["actors", "services"]) {
        const names = await readdir(join(repo, top), { recursive: true });
        for (const name of names) {
          const info = await stat(join(repo, top, name));
          found.set(join(top, name), `${info.ino} ${info.mtimeMs} ${info.ctimeMs}`);
        }
      }
      return found;
    };
    const mirrored = await files();
    assert.ok([...mirrored.keys()].some((path) => path.endsWith("service.json")));
    const writes: string[] = [];
    const { batch, set } = opened.driver;
    opened.driver.batch = (ops, options) => {
      const list = [...ops];
      writes.push(...list.map((op) => op.key));
      return batch.call(opened.driver, list, options);
    };
    opened.driver.set = (key, value) => {
      writes.push(key);
      return set.call(opened.driver, key, value);
    };
    try {
      const again = await applyBlueprintUnit(opened.store, { repoPath: repo });
      assert.equal(again.written, false);
      assert.deepEqual(writes, []);
      assert.deepEqual(await files(), mirrored);
    } finally {
      Object.assign(opened.driver, { batch, set });
    }
  });

  it("an error anywhere in the unit writes nothing", async () => {
    const before = await dump(opened);
    await writeFile(join(repo, "blueprints", "00_bad.yaml"), "web__x:\n  port: nope\n");
    await assert.rejects(
      applyBlueprintUnit(opened.store, { repoPath: repo }),
      (error: unknown) =>
        error instanceof InputError && error.location?.file === "blueprints/00_bad.yaml" &&
        error.location.line === 2,
    );
    assert.deepEqual(await dump(opened), before);
    await writeFile(join(repo, "blueprints", "00_bad.yaml"), "");
  });

  it("--archive refuses before writing when _<name> exists", async () => {
    const before = await dump(opened);
    const nodes = join(repo, "blueprints", "02_nodes.yaml");
    await writeFile(
      nodes,
      (await readFile(nodes, "utf8")).replace("ssh.port: 22\n", "ssh.port: 23\n"),
    );
    await writeFile(join(repo, "blueprints", "_03_app.yaml"), "");
    await assert.rejects(
      applyBlueprintUnit(opened.store, { repoPath: repo, archive: true }),
      /cannot archive .*_03_app\.yaml exists/,
    );
    assert.deepEqual(await dump(opened), before);
  });

  it("keeps processChange's changes on its action record, through the store", async () => {
    const unit = await applyBlueprintUnit(opened.store, { repoPath: repo });
    assert.deepEqual(unit.changes.scheduled, [
      {
        service: "node!web1",
        action: "processChange",
        args: { changes: { sshPort: { old: 22, new: 23 } } },
      },
    ]);
    const web1 = (await opened.store.loadServiceByName("node", "web1"))!;
    assert.equal(web1.changed, true);
    assert.deepEqual(web1.actions.processChange.args, {
      changes: { sshPort: { old: 22, new: 23 } },
    });
    // Mirrored too, so that restore keeps it.
    const mirror = JSON.parse(
      await readFile(
        join(repo, "services", "datacenter!dc1", "node!web1", "service.json"),
        "utf8",
      ),
    );
    assert.deepEqual(mirror.actions.processChange.args, web1.actions.processChange.args);
    // When processChange succeeds its args are used up.
    const done = onActionSucceeded(web1, "processChange");
    assert.equal(done.actions.processChange.args, undefined);
    assert.equal(done.changed, false);
  });
});

describe("attachChangeArgs", () => {
  const a = actor("a", [field("x"), field("pw", { secret: true })]);
  const make = (args?: Record<string, unknown>): ServiceRecord => ({
    key: "k",
    name: "s",
    actor: "a",
    role: "a",
    parent: null,
    producers: {},
    consumers: [],
    data: {},
    changed: true,
    actions: {
      processChange: { ...newActionRecord(), state: "scheduled", ...(args ? { args } : {}) },
    },
    eventFilters: [],
  });
  const changeSet = (
    service: ServiceRecord,
    changes: Record<string, { old: unknown; new: unknown }>,
  ): ChangeSet => ({
    created: [],
    updated: [{ service, changes }],
    scheduled: [{ service: "a!s", action: "processChange", args: { changes } }],
    warnings: [],
  });

  it("merges with pending changes: oldest old, newest new; back to the old value drops out", () => {
    const service = make({ changes: { x: { old: "1", new: "2" }, y: { old: 0, new: 5 } } });
    attachChangeArgs(
      changeSet(service, { x: { old: "2", new: "3" }, y: { old: 5, new: 0 } }),
      actorMap(a),
    );
    assert.deepEqual(service.actions.processChange.args, {
      changes: { x: { old: "1", new: "3" } },
    });
  });

  it("masks secret values", () => {
    const service = make();
    attachChangeArgs(changeSet(service, { pw: { old: "s1", new: "s2" } }), actorMap(a));
    assert.deepEqual(service.actions.processChange.args, {
      changes: { pw: { old: "***", new: "***" } },
    });
  });
});
