/**
 * The readable mirror: files per actor and service, children nested, secrets left out,
 * incremental writes, and `restore` giving back the same services after the store is gone.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { listEntry, sortServices } from "../../src/model/views.ts";
import {
  MirrorWriteError,
  readMirror,
  serviceMirrorText,
  serviceMirrorTexts,
  servicePaths,
  writeMirror,
  writeMirrorFiles,
} from "../../src/store/mirror.ts";
import { openRepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempRepo } from "../helpers/mod.ts";
import { makeActor, makeService } from "./fixtures.ts";

const node = makeActor("node.ssh");
const app = makeActor("app");

function records(repo: string) {
  const host = makeService(repo, node, "host1", {
    data: { description: "the host", sshPort: 22, enabled: true, tags: [], password: "hunter2" },
  });
  const web = makeService(repo, app, "web1", {
    parent: "node!host1",
    data: { description: "web", sshPort: 0, enabled: false, tags: ["x"], password: "pw-web" },
  });
  const db = makeService(repo, app, "db1");
  return { host, web, db };
}

describe("mirror", () => {
  it("writes a service's text the same one by one and per actor, without its secrets", () => {
    const service = makeService("r", node, "web", {
      data: { description: "d", sshPort: 22, enabled: true, tags: ["a"], password: "hunter2" },
    });
    const text = serviceMirrorTexts(node)(service);
    assert.equal(text, serviceMirrorText(service, node));
    assert.equal(text.includes("hunter2"), false);
    assert.deepEqual(JSON.parse(text).data, {
      description: "d",
      sshPort: 22,
      enabled: true,
      tags: ["a"],
    });
  });

  it("places files by name, escaping what a folder name cannot hold, children in their parent", () => {
    const named = (name: string, parent: string | null = null) =>
      makeService("r", node, name, { parent });
    const top = named("a/b");
    const dotted = named("%x");
    const child = named("c", "node!a/b");
    const grandchild = named("d", "node!c");
    const orphan = named("e", "node!gone");
    const paths = servicePaths([top, dotted, child, grandchild, orphan]);
    assert.deepEqual([...paths.values()], [
      join("services", "node!a%2Fb", "service.json"),
      join("services", "node!%25x", "service.json"),
      join("services", "node!a%2Fb", "node!c", "service.json"),
      join("services", "node!a%2Fb", "node!c", "node!d", "service.json"),
      join("services", "node!e", "service.json"),
    ]);
    const leading = servicePaths([{ key: "k", role: ".hidden", name: "x", parent: null }]);
    assert.deepEqual([...leading.values()], [join("services", "%2Ehidden!x", "service.json")]);
  });

  it("writes actors and services, children inside their parent, without secrets", async () => {
    const repo = await makeTempRepo();
    try {
      const { host, web, db } = records("r");
      const result = await writeMirror(repo.path, {
        actors: [node, app],
        services: [host, web, db],
      });
      assert.equal(result.written, 5);
      const webFile = join(repo.path, "services", "node!host1", "app!web1", "service.json");
      assert.ok(existsSync(join(repo.path, "actors", "node.ssh", "actor.json")));
      assert.ok(existsSync(join(repo.path, "services", "app!db1", "service.json")));
      const text = readFileSync(webFile, "utf8");
      assert.equal(JSON.parse(text).data.description, "web");
      assert.doesNotMatch(text, /pw-web/);
      assert.doesNotMatch(
        readFileSync(join(repo.path, "services", "node!host1", "service.json"), "utf8"),
        /hunter2|password/,
      );
    } finally {
      await repo.remove();
    }
  });

  it("rewrites only what changed and removes what is gone", async () => {
    const repo = await makeTempRepo();
    try {
      const { host, web, db } = records("r");
      await writeMirror(repo.path, { actors: [node, app], services: [host, web, db] });
      const changed = { ...db, data: { ...db.data, description: "changed" } };
      const second = await writeMirror(repo.path, {
        actors: [node, app],
        services: [host, changed],
      });
      assert.deepEqual(second, { written: 1, removed: 1, unchanged: 3 });
      assert.equal(existsSync(join(repo.path, "services", "node!host1", "app!web1")), false);
      const third = await writeMirror(repo.path, { actors: [node], services: [] });
      assert.equal(third.removed, 3);
      assert.equal(existsSync(join(repo.path, "services", "node!host1")), false);
      assert.equal(existsSync(join(repo.path, "services")), true);
    } finally {
      await repo.remove();
    }
  });

  it("a state update rewrites only its own file; a removal brings the whole mirror in line", async () => {
    const repo = await makeTempRepo();
    try {
      const { host, web, db } = records("r");
      const driver = openSqliteDriver(join(repo.path, ".ays", "store.db"), { namespace: "r" });
      const store = await openRepoStore(driver, {
        repoName: "r",
        mirror: { repoPath: repo.path },
      });
      await store.save({ actors: [node, app], services: [host, web, db] });
      const dbFile = join(repo.path, "services", "app!db1", "service.json");
      await writeFile(dbFile, "edited by hand\n");
      const started = {
        ...web,
        actions: { ...web.actions, install: { ...web.actions.install, state: "ok" as const } },
      };
      // A fresh store object: the ancestors come from the store, not from a cache.
      const fresh = await openRepoStore(driver, { repoName: "r", mirror: { repoPath: repo.path } });
      await fresh.save({ services: [started] });
      const webFile = join(repo.path, "services", "node!host1", "app!web1", "service.json");
      assert.equal(JSON.parse(readFileSync(webFile, "utf8")).actions.install.state, "ok");
      assert.equal(readFileSync(dbFile, "utf8"), "edited by hand\n");
      await fresh.save({ deleteServices: [host.key] });
      assert.equal(JSON.parse(readFileSync(dbFile, "utf8")).name, "db1");
      assert.equal(existsSync(join(repo.path, "services", "node!host1", "service.json")), false);
      await driver.close();
    } finally {
      await repo.remove();
    }
  });

  it("names the file of a broken mirror", async () => {
    const repo = await makeTempRepo();
    try {
      await writeMirror(repo.path, { actors: [node], services: [] });
      await writeFile(join(repo.path, "actors", "node.ssh", "actor.json"), "{ broken");
      await assert.rejects(
        readMirror(repo.path),
        (error: Error) =>
          error instanceof InputError &&
          (error as InputError).location?.file === join("actors", "node.ssh", "actor.json"),
      );
    } finally {
      await repo.remove();
    }
  });

  it("names every broken file of the mirror at once: cut short, trailing text, not an object (null)", async () => {
    const repo = await makeTempRepo();
    try {
      const { host, web, db } = records("r");
      await writeMirror(repo.path, { actors: [node, app], services: [host, web, db] });
      const hostFile = join(repo.path, "services", "node!host1", "service.json");
      const dbFile = join(repo.path, "services", "app!db1", "service.json");
      await writeFile(hostFile, readFileSync(hostFile, "utf8").slice(0, 40));
      await writeFile(dbFile, readFileSync(dbFile, "utf8") + "}");
      const webFile = join(repo.path, "services", "node!host1", "app!web1", "service.json");
      await writeFile(webFile, "null");
      await assert.rejects(readMirror(repo.path), (error: Error) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.location?.file, join("services", "app!db1", "service.json"));
        assert.match(error.message, /and 2 more files not valid JSON: /);
        assert.match(error.message, /node!host1\/app!web1\/service\.json \(not a JSON object\)/);
        assert.match(error.message, /services\/node!host1\/service\.json \(/);
        return true;
      });
    } finally {
      await repo.remove();
    }
  });

  it("is kept by the store after each change; restore after deleting the store gives back the same services", async () => {
    const repo = await makeTempRepo();
    try {
      const path = join(repo.path, ".ays", "store.db");
      const { host, web, db } = records("r");
      const driver = openSqliteDriver(path, { namespace: "r" });
      const store = await openRepoStore(driver, {
        repoName: "r",
        mirror: { repoPath: repo.path },
      });
      await store.save({ actors: [node, app], services: [host, web, db] });
      assert.ok(existsSync(join(repo.path, "services", "app!db1", "service.json")));
      await store.save({ deleteServices: [db.key] });
      assert.equal(existsSync(join(repo.path, "services", "app!db1")), false);
      const before = sortServices(await store.loadServices()).map(listEntry);
      await driver.close();

      await rm(path);
      await rm(`${path}-wal`, { force: true });
      await rm(`${path}-shm`, { force: true });
      const fresh = openSqliteDriver(path, { namespace: "r" });
      const restored = await openRepoStore(fresh, { repoName: "r" });
      assert.deepEqual(await restored.loadServices(), []);
      const content = await restored.restoreFromMirror(repo.path);
      assert.deepEqual(
        content.emptiedSecrets.map((s) => `${s.service}.${s.field}`).sort(),
        ["app!web1.password", "node!host1.password"],
      );
      const after = sortServices(await restored.loadServices()).map(listEntry);
      assert.deepEqual(after, before);
      const webAgain = await restored.loadService(web.key);
      assert.equal(webAgain?.data.password, "");
      assert.equal(webAgain?.data.description, "web");
      assert.deepEqual(await restored.childKeysOf("node!host1"), [web.key]);
      await fresh.close();
    } finally {
      await repo.remove();
    }
  });

  it("creates each folder once, nested ones parents first, and writes fresh files unread", async () => {
    const repo = await makeTempRepo();
    try {
      const files = new Map<string, string>();
      const fresh = new Set<string>();
      for (let i = 0; i < 40; i++) {
        // Children share their parent's folder: many writers race for the same folders.
        const path = join("services", `node!h${i % 4}`, `app!a${i}`, "service.json");
        files.set(path, `{"i": ${i}}\n`);
        fresh.add(path);
      }
      // Not marked fresh, and its folder is missing: found missing, the folder made, written.
      const stray = join("services", "node!gone", "service.json");
      files.set(stray, "{}\n");
      // Marked fresh but present with other content: overwritten without being read.
      const present = join("services", "node!h0", "service.json");
      await writeMirrorFiles(repo.path, new Map([[present, "old\n"]]));
      files.set(present, "new\n");
      fresh.add(present);
      const result = await writeMirrorFiles(repo.path, files, { fresh });
      assert.deepEqual(result, { written: 42, removed: 0, unchanged: 0 });
      for (const [path, text] of files) {
        assert.equal(readFileSync(join(repo.path, path), "utf8"), text, path);
      }
      // Nothing left behind but the files (no temporary files).
      const again = await writeMirrorFiles(repo.path, files);
      assert.deepEqual(again, { written: 0, removed: 0, unchanged: 42 });
      const { readdir } = await import("node:fs/promises");
      const all = await readdir(join(repo.path, "services"), { recursive: true });
      assert.deepEqual(all.filter((name) => String(name).endsWith(".tmp")), []);
    } finally {
      await repo.remove();
    }
  });

  it("writes files known to have changed without reading them first", async () => {
    const repo = await makeTempRepo();
    try {
      const same = join("services", "node!a", "service.json");
      const other = join("services", "node!b", "service.json");
      const files = new Map([[same, "{}\n"], [other, "{}\n"]]);
      await writeMirrorFiles(repo.path, files);
      // Both hold their text already: the one named changed is written anyway (not compared).
      const result = await writeMirrorFiles(repo.path, files, { changed: new Set([same]) });
      assert.deepEqual(result, { written: 1, removed: 0, unchanged: 1 });
      assert.equal(readFileSync(join(repo.path, same), "utf8"), "{}\n");
    } finally {
      await repo.remove();
    }
  });

  it("a file that cannot be written does not stop the others; the error names it", async () => {
    const repo = await makeTempRepo();
    try {
      const long = join("services", `node!${"x".repeat(300)}`, "service.json");
      const files = new Map([[long, "{}\n"], [
        join("services", "node!ok", "service.json"),
        "{}\n",
      ]]);
      const error = await writeMirrorFiles(repo.path, files).then(() => null, (e) => e);
      assert.ok(error instanceof MirrorWriteError, String(error));
      assert.deepEqual(error.failures.map((f: { path: string }) => f.path), [long]);
      assert.match(error.message, /ENAMETOOLONG/);
      assert.ok(existsSync(join(repo.path, "services", "node!ok", "service.json")));

      const longService = makeService("r", node, "y".repeat(300));
      const { host } = records("r");
      const whole = await writeMirror(repo.path, { actors: [node], services: [longService, host] })
        .then(() => null, (e) => e);
      assert.ok(whole instanceof MirrorWriteError, String(whole));
      assert.equal(whole.failures.length, 1);
      assert.ok(existsSync(join(repo.path, "services", "node!host1", "service.json")));
    } finally {
      await repo.remove();
    }
  });
});
