/**
 * `ays restore` through dist/ays on both backends: after the store is gone, other commands say
 * it lost its data, and the services come back from the mirror exactly as `ays list --json`
 * showed them, and the secret fields that the mirror does not keep are named.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import {
  type AysResult,
  makeTempDir,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

for (const backend of ["sqlite", "redis"] as const) {
  describe(`dist/ays restore (${backend})`, () => {
    let dir: TempDir;
    let repo: string;
    let redis: RedisServer | undefined;
    let ays: (...args: string[]) => Promise<AysResult>;
    const ok = async (...args: string[]) => {
      const result = await ays(...args);
      assert.equal(result.code, 0, `ays ${args.join(" ")}: ${result.stderr}`);
      return result;
    };

    before(async () => {
      dir = await makeTempDir("ays-e2e-restore-");
      repo = join(dir.path, "infra");
      await cp(INFRA, repo, { recursive: true });
      if (backend === "redis") redis = await startRedis();
      const store = redis ? ["--store", redis.url] : [];
      ays = (...args) =>
        runAys([...store, ...args], {
          cwd: repo,
          extraEnv: { XDG_CONFIG_HOME: join(dir.path, "cfg") },
        });
    });
    after(async () => {
      await redis?.close();
      await dir?.remove();
    });

    it("gives back the same services after the store is deleted", async () => {
      await ok("blueprint");
      const before = (await ok("list", "--json")).stdout;
      assert.ok(JSON.parse(before).length > 0);
      const mirrored = await readFile(
        join(repo, "services", "sshkey!main", "service.json"),
        "utf8",
      );
      assert.doesNotMatch(mirrored, /keyPriv/);

      if (redis) {
        const client = new Redis(redis.port, "127.0.0.1");
        await client.flushdb();
        client.disconnect();
      } else {
        for (const suffix of ["", "-wal", "-shm"]) {
          await rm(join(repo, ".ays", `store.db${suffix}`), { force: true });
        }
      }
      // The mirror shows services: the store lost them, it is not an empty repository.
      const lost = await ays("list", "--json");
      assert.equal(lost.code, 4, lost.stderr);
      assert.equal(lost.stdout, "");
      assert.match(lost.stderr, /lost its data .*the mirror shows \d+ actors and \d+ services/);

      const restored = await ok("restore");
      assert.match(restored.stdout, /restored \d+ actors and \d+ services/);
      assert.match(restored.stderr, /sshkey!main keyPriv/);
      assert.equal((await ok("list", "--json")).stdout, before);
    });
  });
}
