/**
 * New mirror files staged beside a commit: the staging steps themselves (temporary files, the
 * folders made, commit and abort), the mirror worker, and a store save that stages its new
 * services' files — written when the save commits, gone without a trace when it does not.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  abortStaged,
  adoptStaged,
  commitStaged,
  makeFolders,
  newStaged,
  stageFiles,
} from "../../src/store/mirror_staging.ts";
import { MirrorStage } from "../../src/store/mirror_stage.ts";
import { MirrorWriteError, readMirror, serviceMirrorText } from "../../src/store/mirror.ts";
import { openRepoStore } from "../../src/store/repo_store.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import { makeTempRepo } from "../helpers/mod.ts";
import { makeActor, makeService } from "./fixtures.ts";

/** Every path below `dir`, relative, sorted (folders end in `/`). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (at: string, prefix: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        out.push(`${name}/`);
        walk(join(at, entry.name), `${name}/`);
      } else out.push(name);
    }
  };
  walk(dir, "");
  return out.sort();
}

describe("mirror staging", () => {
  it("stages to temporary files, then renames them into place", async () => {
    const repo = await makeTempRepo();
    try {
      const staged = newStaged(repo.path, "77");
      const file = join(repo.path, "services", "a!x", "b!y", "service.json");
      stageFiles(staged, [[file, "one\n"]]);
      assert.equal(existsSync(file), false, "nothing is visible before the commit");
      assert.equal(readFileSync(`${file}.77.tmp`, "utf8"), "one\n");
      assert.equal(commitStaged(staged), 1);
      assert.equal(readFileSync(file, "utf8"), "one\n");
      assert.deepEqual(tree(join(repo.path, "services")), [
        "a!x/",
        "a!x/b!y/",
        "a!x/b!y/service.json",
      ]);
    } finally {
      await repo.remove();
    }
  });

  it("abort removes the files and the folders it made, and keeps folders that were there", async () => {
    const repo = await makeTempRepo();
    try {
      mkdirSync(join(repo.path, "services", "kept"), { recursive: true });
      const staged = newStaged(repo.path, "77");
      stageFiles(staged, [
        [join(repo.path, "services", "kept", "c!z", "service.json"), "x"],
        [join(repo.path, "services", "a!x", "service.json"), "y"],
      ]);
      assert.equal(staged.files.length, 2);
      abortStaged(staged);
      assert.deepEqual(tree(join(repo.path, "services")), ["kept/"]);
    } finally {
      await repo.remove();
    }
  });

  it("a file that cannot be staged is a failure and the others go on", async () => {
    const repo = await makeTempRepo();
    try {
      const staged = newStaged(repo.path, "77");
      const long = join(repo.path, "services", `a!${"x".repeat(300)}`, "service.json");
      const ok = join(repo.path, "services", "a!ok", "service.json");
      stageFiles(staged, [[long, "x"], [ok, "y"]]);
      assert.equal(staged.failures.length, 1);
      assert.equal(staged.failures[0].path, long);
      assert.equal(commitStaged(staged), 1);
      assert.equal(readFileSync(ok, "utf8"), "y");
    } finally {
      await repo.remove();
    }
  });
});

describe("mirror staging of a folder that does not exist yet", () => {
  it("builds it whole under a hidden name and renames it once", async () => {
    const repo = await makeTempRepo();
    try {
      const services = join(repo.path, "services");
      const staged = newStaged(repo.path, "77", { fresh: services });
      stageFiles(staged, [
        [join(services, "a!x", "service.json"), "x"],
        [join(services, "a!x", "b!y", "service.json"), "y"],
      ]);
      assert.equal(existsSync(services), false, "nothing is visible before the commit");
      assert.ok(existsSync(join(repo.path, ".services.77.tmp", "a!x", "b!y", "service.json")));
      assert.equal(commitStaged(staged), 2);
      assert.deepEqual(tree(services), [
        "a!x/",
        "a!x/b!y/",
        "a!x/b!y/service.json",
        "a!x/service.json",
      ]);
      assert.equal(existsSync(join(repo.path, ".services.77.tmp")), false);
    } finally {
      await repo.remove();
    }
  });

  it("aborted, leaves neither the folder nor its hidden twin", async () => {
    const repo = await makeTempRepo();
    try {
      const services = join(repo.path, "services");
      const staged = newStaged(repo.path, "77", { fresh: services });
      stageFiles(staged, [[join(services, "a!x", "service.json"), "x"]]);
      abortStaged(staged);
      assert.equal(existsSync(services), false);
      assert.equal(existsSync(join(repo.path, ".services.77.tmp")), false);
    } finally {
      await repo.remove();
    }
  });

  it("moves the files one by one when the folder appeared meanwhile", async () => {
    const repo = await makeTempRepo();
    try {
      const services = join(repo.path, "services");
      const staged = newStaged(repo.path, "77", { fresh: services });
      stageFiles(staged, [[join(services, "a!x", "service.json"), "x"]]);
      mkdirSync(join(services, "other"), { recursive: true });
      assert.equal(commitStaged(staged), 1);
      assert.deepEqual(tree(services), ["a!x/", "a!x/service.json", "other/"]);
      assert.equal(existsSync(join(repo.path, ".services.77.tmp")), false);
    } finally {
      await repo.remove();
    }
  });
});

describe("two stagings of one root (the worker's and the main thread's)", () => {
  /** Two stagings of a new `services/`: `first` makes the hidden folder, `second` comes after. */
  function stagedTwice(root: string) {
    const services = join(root, "services");
    const first = newStaged(root, "77", { fresh: services });
    stageFiles(first, [[join(services, "a!x", "service.json"), "x"]]);
    const second = newStaged(root, "77", { fresh: services });
    stageFiles(second, [
      [join(services, "b!y", "service.json"), "y"],
      [join(services, "b!y", "c!z", "service.json"), "z"],
    ]);
    return { services, first, second };
  }

  it("end as one commit when one adopts the other", async () => {
    const repo = await makeTempRepo();
    try {
      const { services, first, second } = stagedTwice(repo.path);
      adoptStaged(second, first);
      assert.equal(commitStaged(second), 3);
      assert.deepEqual(tree(services), [
        "a!x/",
        "a!x/service.json",
        "b!y/",
        "b!y/c!z/",
        "b!y/c!z/service.json",
        "b!y/service.json",
      ]);
      assert.deepEqual(tree(repo.path).filter((path) => path.includes(".tmp")), []);
    } finally {
      await repo.remove();
    }
  });

  it("end as one abort, whichever made the folders, leaving nothing", async () => {
    const repo = await makeTempRepo();
    try {
      const { services, first, second } = stagedTwice(repo.path);
      // The adopter's own folders come first in its list, the hidden folder the other made last.
      adoptStaged(second, first);
      abortStaged(second);
      assert.equal(existsSync(services), false);
      assert.deepEqual(tree(repo.path).filter((path) => path.includes("services")), []);
    } finally {
      await repo.remove();
    }
  });
});

describe("folders made before their files (the worker's, while the records are encoded)", () => {
  it("are made parents first and recorded; a folder that cannot be made fails its file", async () => {
    const repo = await makeTempRepo();
    try {
      const services = join(repo.path, "services");
      const staged = newStaged(repo.path, "77", { fresh: services });
      const hidden = join(repo.path, ".services.77.tmp");
      const long = join(services, `a!${"x".repeat(300)}`, "service.json");
      const child = join(services, "a!x", "b!y", "service.json");
      makeFolders(staged, [child, join(services, "a!x", "service.json"), long]);
      assert.deepEqual(staged.folders, [hidden, join(hidden, "a!x"), join(hidden, "a!x", "b!y")]);
      assert.deepEqual(tree(hidden), ["a!x/", "a!x/b!y/"]);
      assert.equal(existsSync(services), false, "nothing is visible before the commit");
      stageFiles(staged, [[child, "y"], [long, "z"]]);
      assert.deepEqual(staged.folders.length, 3, "no folder made twice");
      assert.deepEqual(staged.failures.map((f) => f.path), [long]);
      assert.equal(commitStaged(staged), 1);
      assert.equal(readFileSync(child, "utf8"), "y");
    } finally {
      await repo.remove();
    }
  });

  it("are found by the other staging's probe, which makes only the ones missing", async () => {
    const repo = await makeTempRepo();
    try {
      const services = join(repo.path, "services");
      const hidden = join(repo.path, ".services.77.tmp");
      const worker = newStaged(repo.path, "77", { fresh: services });
      const made = join(services, "a!x", "service.json");
      makeFolders(worker, [made]);
      const main = newStaged(repo.path, "77", { fresh: services });
      const missing = join(services, "b!y", "c!z", "service.json");
      stageFiles(main, [[made, "x"], [missing, "z"]], { probe: true });
      assert.deepEqual(main.failures, []);
      // The folder the worker made is not the main thread's to remove; the ones it made are.
      assert.deepEqual(main.folders, [join(hidden, "b!y"), join(hidden, "b!y", "c!z")]);
      assert.equal(readFileSync(join(hidden, "a!x", "service.json"), "utf8"), "x");
      adoptStaged(worker, main);
      abortStaged(worker);
      assert.deepEqual(tree(repo.path).filter((path) => path.includes("services")), []);
    } finally {
      await repo.remove();
    }
  });
});

describe("MirrorStage (the mirror worker)", () => {
  for (const existing of [false, true]) {
    it(
      `commits the chunks the worker had not taken, staged by this thread (services/ ${
        existing ? "there" : "new"
      })`,
      async () => {
        const repo = await makeTempRepo();
        try {
          if (existing) mkdirSync(join(repo.path, "services", "kept"), { recursive: true });
          const stage = MirrorStage.start(repo.path);
          // 12 chunks, committed at once: the worker has at most two of them, this thread
          // stages others as the worker takes its next ones (at least one before it lets the
          // worker on).
          const files = Array.from(
            { length: 3000 },
            (_, i) => [join("services", `a!${i}`, "service.json"), `text ${i}\n`] as const,
          );
          stage.stage(files);
          assert.deepEqual(await stage.commit(), { written: 3000, removed: 0, unchanged: 0 });
          for (const i of [0, 255, 256, 1500, 2743, 2744, 2999]) {
            const file = join(repo.path, "services", `a!${i}`, "service.json");
            assert.equal(readFileSync(file, "utf8"), `text ${i}\n`);
          }
          const all = tree(repo.path);
          assert.equal(all.filter((path) => path.endsWith("/service.json")).length, 3000);
          assert.deepEqual(all.filter((path) => path.includes(".tmp")), []);
        } finally {
          await repo.remove();
        }
      },
    );
  }

  it("makes the files' texts only as chunks are handed over, not as they are pumped", async () => {
    const repo = await makeTempRepo();
    try {
      const stage = MirrorStage.start(repo.path);
      let pulled = 0;
      stage.stage((function* () {
        for (let i = 0; i < 3000; i++) {
          pulled++;
          yield [join("services", `a!${i}`, "service.json"), `text ${i}\n`] as const;
        }
      })());
      // As a save pumps once per record it encodes, without letting the worker's requests in.
      let turns = 0;
      for (let i = 0; i < 3000; i++) if (stage.pump()) turns++;
      stage.flush();
      // A turn of the event loop asked for once per chunk of 256 files pumped.
      assert.equal(turns, Math.floor(3000 / 256));
      // Two chunks of 256 in flight and two waiting (and the one being filled): not all 3,000.
      assert.ok(pulled <= 4 * 256 + 1, `${pulled} files' texts made before the commit`);
      assert.deepEqual(await stage.commit(), { written: 3000, removed: 0, unchanged: 0 });
      assert.equal(pulled, 3000);
      for (const i of [0, 1023, 1024, 2999]) {
        const file = join(repo.path, "services", `a!${i}`, "service.json");
        assert.equal(readFileSync(file, "utf8"), `text ${i}\n`);
      }
    } finally {
      await repo.remove();
    }
  });

  it("writes the files staged when committed, and names those it could not write", async () => {
    const repo = await makeTempRepo();
    try {
      const stage = MirrorStage.start(repo.path);
      const long = join("services", `a!${"x".repeat(300)}`, "service.json");
      const texts = ["héllo ✓ 🎉\n", "plain\n", "", "ünïcode ☃\n"];
      stage.stage([
        ...texts.map((text, i) => [join("services", `a!${i}`, "service.json"), text] as const),
        [long, "2"],
      ]);
      const error = await stage.commit().then(() => null, (e) => e);
      assert.ok(error instanceof MirrorWriteError);
      assert.deepEqual(error.failures.map((f) => f.path), [long]);
      texts.forEach((text, i) => {
        const file = join(repo.path, "services", `a!${i}`, "service.json");
        assert.equal(readFileSync(file, "utf8"), text, "each file gets exactly its own bytes");
      });
      assert.equal(tree(join(repo.path, "services")).length, 8);
    } finally {
      await repo.remove();
    }
  });

  it("leaves nothing behind when aborted", async () => {
    for (const folders of [false, true]) {
      const repo = await makeTempRepo();
      try {
        const stage = MirrorStage.start(repo.path);
        const files = Array.from(
          { length: 1500 },
          (_, i) => [join("services", `a!${i}`, `b!${i}`, "service.json"), `${i}`] as const,
        );
        if (folders) stage.folders(files.map(([path]) => path));
        stage.stage(files);
        await stage.abort();
        assert.deepEqual(tree(repo.path).filter((path) => path.includes("services")), []);
      } finally {
        await repo.remove();
      }
    }
  });

  for (const existing of [false, true]) {
    it(
      `makes the folders first when asked, then the files (services/ ${
        existing ? "there" : "new"
      })`,
      async () => {
        const repo = await makeTempRepo();
        try {
          if (existing) mkdirSync(join(repo.path, "services", "kept"), { recursive: true });
          const stage = MirrorStage.start(repo.path);
          const files = Array.from(
            { length: 3000 },
            (_, i) =>
              [join("services", `a!${i % 1000}`, `b!${i}`, "service.json"), `t${i}\n`] as const,
          );
          stage.folders(files.map(([path]) => path));
          stage.stage(files);
          assert.deepEqual(await stage.commit(), { written: 3000, removed: 0, unchanged: 0 });
          for (const i of [0, 999, 1000, 2999]) {
            const file = join(repo.path, "services", `a!${i % 1000}`, `b!${i}`, "service.json");
            assert.equal(readFileSync(file, "utf8"), `t${i}\n`);
          }
          const all = tree(repo.path);
          assert.equal(all.filter((path) => path.endsWith("/service.json")).length, 3000);
          assert.deepEqual(all.filter((path) => path.includes(".tmp")), []);
        } finally {
          await repo.remove();
        }
      },
    );
  }
});

describe("a save that creates many services", () => {
  const node = makeActor("node.ssh");

  async function opened(repoPath: string) {
    const driver = openSqliteDriver(join(repoPath, ".ays", "store.db"), { namespace: "r" });
    const store = await openRepoStore(driver, {
      repoName: "r",
      mirror: { repoPath, stageFrom: 2 },
    });
    return { driver, store };
  }

  it("writes their files through the worker, children in their parents' folders", async () => {
    const repo = await makeTempRepo();
    const { driver, store } = await opened(repo.path);
    try {
      const host = makeService("r", node, "host");
      const children = Array.from(
        { length: 5 },
        (_, i) => makeService("r", node, `c${i}`, { parent: "node!host" }),
      );
      await store.save({ actors: [node], services: [host, ...children] });
      const file = join(repo.path, "services", "node!host", "node!c3", "service.json");
      assert.equal(readFileSync(file, "utf8"), serviceMirrorText(children[3], node));
      const mirror = await readMirror(repo.path);
      assert.equal(mirror.services.length, 6);
      assert.equal(tree(repo.path).filter((p) => p.endsWith(".tmp")).length, 0);
    } finally {
      await driver.close();
      await repo.remove();
    }
  });

  it("leaves the mirror as it was when the commit fails", async () => {
    const repo = await makeTempRepo();
    const { driver, store } = await opened(repo.path);
    try {
      const first = makeService("r", node, "first");
      await store.save({ actors: [node], services: [first, makeService("r", node, "second")] });
      const before = tree(join(repo.path, "services"));
      // The store fails at the commit, after the worker was handed the files.
      driver.batch = () => Promise.reject(new Error("disk on fire"));
      const many = Array.from({ length: 50 }, (_, i) => makeService("r", node, `n${i}`));
      await assert.rejects(store.save({ services: many }), /disk on fire/);
      assert.deepEqual(tree(join(repo.path, "services")), before);
      assert.deepEqual((await store.loadServices()).map((s) => s.name).sort(), [
        "first",
        "second",
      ]);
    } finally {
      await driver.close();
      await repo.remove();
    }
  });
});
