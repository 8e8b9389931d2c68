/**
 * The store through the compiled binary: an unreachable Redis is exit 4 with the password
 * masked; with a real Redis (password-protected) `ays restore` works and never shows it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import {
  freePort,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

describe("dist/ays and the store", () => {
  let repo: TempDir;
  let redis: RedisServer;
  let env: Record<string, string>;
  before(async () => {
    repo = await makeTempRepo({ name: "e2e" });
    redis = await startRedis({ password: "e2e-s3cret" });
    env = { XDG_CONFIG_HOME: join(repo.path, ".cfg") };
  });
  after(async () => {
    await redis?.close();
    await repo?.remove();
  });

  it("exits 4 quickly for an unreachable Redis, password masked", async () => {
    const port = await freePort();
    const url = `redis://admin:top-secret-pw@127.0.0.1:${port}/0`;
    const result = await runAys(["restore", "--store", url], { cwd: repo.path, extraEnv: env });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /redis:\/\/admin:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(result.stderr + result.stdout, /top-secret-pw/);
  });

  it("uses AYS_STORE with a password without printing it", async () => {
    const result = await runAys(["restore"], {
      cwd: repo.path,
      extraEnv: { ...env, AYS_STORE: redis.url },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /restored 0 actors and 0 services into redis:\/\/:\*\*\*@/);
    assert.doesNotMatch(result.stderr + result.stdout, /e2e-s3cret/);
  });
});
