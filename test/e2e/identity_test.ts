/**
 * A repository keeps its identity when its folder is renamed, moved or copied
 * (docs/repositories.md, "Moving, renaming and copying a repository"), through `dist/ays` on
 * the embedded SQLite store and on a private Redis.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type AysResult,
  BACKENDS,
  makeTempDir,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
  writeFiles,
} from "../helpers/mod.ts";

/** The actions file writes, beside itself, the repository the job ran for. */
const ACTIONS = `import { writeFile } from "node:fs/promises";
export async function probe(job) {
  await writeFile(new URL("./ran.txt", import.meta.url), job.repo.path);
}
`;

const FILES = {
  "actorTemplates/probe/schema.hrd": "note = type:str default:'x'\n",
  "actorTemplates/probe/actions.ts": ACTIONS,
  "blueprints/main.yaml": "probe__one: {}\n",
};

for (const backend of BACKENDS) {
  describe(`a renamed, moved or copied repository (${backend})`, () => {
    let dir: TempDir;
    let redis: RedisServer | undefined;
    before(async () => {
      dir = await makeTempDir("ays-e2e-identity-");
      if (backend === "redis") redis = await startRedis();
    });
    after(async () => {
      await redis?.close();
      await dir?.remove();
    });

    const ays = (repo: string, ...args: string[]): Promise<AysResult> =>
      runAys([...(redis ? ["--store", redis.url] : []), ...args], {
        cwd: repo,
        extraEnv: { XDG_CONFIG_HOME: join(dir.path, "cfg") },
      });
    const ok = async (repo: string, ...args: string[]) => {
      const result = await ays(repo, ...args);
      assert.equal(result.code, 0, `ays ${args.join(" ")} in ${repo}: ${result.stderr}`);
      return result;
    };
    const listed = async (repo: string) =>
      (JSON.parse((await ok(repo, "list", "--json")).stdout) as { key?: string; name?: string }[])
        .length;
    const ranFile = (repo: string) => join(repo, "actorTemplates", "probe", "ran.txt");

    /** A repository made by `ays init` with one service. */
    async function made(name: string): Promise<string> {
      const repo = join(dir.path, name);
      await ok(dir.path, "init", repo);
      await writeFiles(repo, FILES);
      await ok(repo, "blueprint");
      assert.equal(await listed(repo), 1);
      return repo;
    }

    it("keeps its services and runs its own actions after mv", async () => {
      const repo = await made("moving");
      const moved = join(dir.path, "moving-old");
      await rename(repo, moved);
      assert.equal(await listed(moved), 1);
      await ok(moved, "do", "probe");
      assert.equal(await readFile(ranFile(moved), "utf8"), moved);
    });

    it("a copy made with cp -a runs its own actions file, not the original's", async () => {
      const repo = await made("original");
      const copy = join(dir.path, "copy");
      await cp(repo, copy, { recursive: true, preserveTimestamps: true });
      if (backend === "sqlite") {
        // The copy has its own store file: its own services, its own jobs.
        assert.equal(await listed(copy), 1);
        await ok(copy, "do", "probe");
        assert.equal(await readFile(ranFile(copy), "utf8"), copy);
        assert.equal(existsSync(ranFile(repo)), false);
        await ok(repo, "do", "probe");
        assert.equal(await readFile(ranFile(repo), "utf8"), repo);
      } else {
        // Same name on one Redis: the copy is refused, never mixed into the original's records.
        const refused = await ays(copy, "list");
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(refused.stderr, /already holds a repository named "original" at /);
        assert.equal(await listed(repo), 1);
        // Renamed, it is a repository of its own on that Redis, which has no records under the
        // new name yet while the copied mirror shows some: refused until `ays restore`.
        const config = join(copy, ".ays", "config.yaml");
        await writeFile(
          config,
          (await readFile(config, "utf8")).replace(/^name: .*$/m, "name: copy"),
        );
        const empty = await ays(copy, "list");
        assert.equal(empty.code, 4, empty.stderr);
        assert.match(empty.stderr, /ays restore rebuilds them from the mirror/);
        await ok(copy, "restore");
        assert.equal(await listed(copy), 1);
        await ok(copy, "do", "probe");
        assert.equal(await readFile(ranFile(copy), "utf8"), copy);
        assert.equal(existsSync(ranFile(repo)), false);
        assert.equal(await listed(repo), 1);
      }
    });

    it("a repository made without name: keeps its services after a rename", async () => {
      const repo = join(dir.path, "unnamed");
      await ok(dir.path, "init", repo);
      // As ays made it before init wrote the name: the name follows the folder.
      const config = join(repo, ".ays", "config.yaml");
      await writeFile(config, (await readFile(config, "utf8")).replace(/^name: .*\n/m, ""));
      await writeFiles(repo, FILES);
      await ok(repo, "blueprint");
      // The first write recorded the name it was known by.
      assert.match(await readFile(config, "utf8"), /^name: unnamed$/m);
      if (backend === "sqlite") {
        // And a store made before that is still found under the old name.
        await writeFile(config, (await readFile(config, "utf8")).replace(/^name: .*\n/m, ""));
      }
      const renamed = join(dir.path, "renamed");
      await rename(repo, renamed);
      assert.equal(await listed(renamed), 1);
      await ok(renamed, "do", "probe");
      assert.equal(await readFile(ranFile(renamed), "utf8"), renamed);
    });
  });
}
