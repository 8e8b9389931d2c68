/**
 * `ays restore` through dist/ays on both backends: after the store is gone, other commands say
 * it lost its data, and the services come back from the mirror exactly as `ays list --json`
 * showed them, and the secret fields that the mirror does not keep are named.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { type AysResult, type BackendRepo, BACKENDS, openBackendRepo } from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

for (const backend of BACKENDS) {
  describe(`dist/ays restore (${backend})`, () => {
    let setup: BackendRepo;
    let repo: string;
    let redis: BackendRepo["redis"];
    let ok: (...args: string[]) => Promise<AysResult>;
    let ays: (...args: string[]) => Promise<AysResult>;

    before(async () => {
      setup = await openBackendRepo(backend, {
        fixture: INFRA,
        name: "infra",
        prefix: "ays-e2e-restore-",
      });
      ({ repo, redis, ok, ays } = setup);
    });
    after(async () => {
      await setup?.close();
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
