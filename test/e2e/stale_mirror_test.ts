/**
 * A mirror left behind the store (as after a `kill -9` mid-run) is brought up to date by the
 * next run with jobs; a mirror file that cannot be written (a 300-character instance name:
 * ENAMETOOLONG) is a warning and does not stop the others. A run with nothing to do reads no
 * service (the due index answers) and leaves the files alone unless a dead run is recorded
 * (that case: test/run/repo_run_test.ts). On both stores, through `dist/ays` (build first:
 * `node_modules/.bin/bun build.ts`).
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type BackendRepo, BACKENDS, openBackendRepo, writeFiles } from "../helpers/mod.ts";

const ACTIONS = `
export function install() {}
export function backup() {}
`;
const LONG = "l".repeat(300);

for (const backend of BACKENDS) {
  describe(`a stale mirror is brought up to date by the next run (${backend})`, () => {
    let repo: BackendRepo;
    const fileOf = (instance: string) =>
      join(repo.repo, "services", `app!${instance}`, "service.json");

    before(async () => {
      repo = await openBackendRepo(backend, {
        name: `stale${process.pid}`,
        prefix: "ays-e2e-stale-",
      });
      await writeFiles(repo.repo, {
        ".ays/config.yaml": `name: stale${process.pid}${backend}\n`,
        "actorTemplates/app/schema.hrd": "x = type:str\n",
        "actorTemplates/app/actions.js": ACTIONS,
        "actorTemplates/app/actor.yaml": "actions:\n  backup: {}\n",
        "blueprints/a.yaml": `app__a:\napp__b:\napp__${LONG}:\nactions:\n  - action: install\n`,
      });
      const applied = await repo.ays("blueprint");
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stderr, /ENAMETOOLONG/);
    });
    after(() => repo?.close());

    it("after a run with jobs; one with nothing to do reads no file", async () => {
      const scheduled = await readFile(fileOf("a"), "utf8");
      assert.equal(JSON.parse(scheduled).actions.install.state, "scheduled");
      const first = await repo.ays("run");
      assert.equal(first.code, 0, first.stderr);
      // The run's own mirror writes warn about the one file they cannot write, and go on.
      assert.match(first.stderr, /warning.*mirror.*ENAMETOOLONG/i);
      const current = await readFile(fileOf("a"), "utf8");
      assert.equal(JSON.parse(current).actions.install.state, "ok");

      // As a killed run leaves it: the file says scheduled, the store says ok. No dead run is
      // recorded, so a run with nothing to do neither reads nor writes the mirror.
      await writeFile(fileOf("a"), scheduled);
      const idle = await repo.ays("run");
      assert.equal(idle.code, 0, idle.stderr);
      assert.match(idle.stderr, /nothing to do/);
      assert.doesNotMatch(idle.stderr, /ENAMETOOLONG/);
      assert.equal(await readFile(fileOf("a"), "utf8"), scheduled);

      await writeFile(fileOf("a"), scheduled);
      const busy = await repo.ays("do", "backup", "-i", "b");
      assert.equal(busy.code, 0, busy.stderr);
      assert.equal(await readFile(fileOf("a"), "utf8"), current);
      assert.equal(JSON.parse(await readFile(fileOf("b"), "utf8")).actions.backup.state, "ok");
      assert.equal(
        (await repo.json<{ actions: { install: { state: string } } }>(
          "show",
          "app!a",
        )).actions.install.state,
        "ok",
      );
    });
  });
}
