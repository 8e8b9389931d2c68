/**
 * A Redis without persistence restarted in the middle of `ays run`, through `dist/ays` (build it
 * first: `node_modules/.bin/bun build.ts`): the run stops writing at once and exits 4 "the store
 * lost its data", Redis keeps nothing of what ays would have written after the restart, and every
 * later command says the same (the mirror shows the repository had services) until `ays restore`
 * rebuilds the store.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  aysBinary,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";
import { fanRepoFiles, fanServiceCount, readTraces } from "../run/repo_fixture.ts";

const LOST =
  /the store redis:\/\/127\.0\.0\.1:\d+\/0 lost its data \(restarted without persistence\?\)/;

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("dist/ays on a Redis restarted without persistence", () => {
  let redis: RedisServer;
  let repo: TempDir;
  const name = `lost${process.pid}`;
  let env: Record<string, string>;
  before(async () => {
    redis = await startRedis({ appendonly: false });
    repo = await makeTempRepo({ name, files: fanRepoFiles({ sleepMs: 300 }) });
    env = { ...process.env as Record<string, string>, XDG_CONFIG_HOME: join(repo.path, ".cfg") };
    env.AYS_STORE = redis.url;
  });
  after(async () => {
    await redis?.close();
    await repo?.remove();
  });
  const ays = (...args: string[]) => runAys(args, { cwd: repo.path, env, timeoutMs: 120_000 });

  it("stops the run with exit 4, keeps nothing written after the restart, says so later", async () => {
    assert.equal((await ays("blueprint")).code, 0);
    const scheduled = await ays("install", "--schedule-only");
    assert.equal(scheduled.code, 0, scheduled.stderr);

    const child = spawn(aysBinary, ["run", "--parallel", "2"], { cwd: repo.path, env });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    // Some jobs are done, most are still to come: then Redis restarts empty.
    await until(async () => {
      const traces = await readTraces(repo.path);
      return [...traces.values()].some((lines) => lines.some((l) => l.what === "end"));
    }, "a first job to end");
    await redis.restart();
    const code = await exited;
    assert.equal(code, 4, stderr);
    assert.match(stderr, LOST);
    assert.doesNotMatch(stderr, /internal error|\n\s+at /);

    // Nothing of the run (nor a lock, a log line or a layout record) was written after it.
    const direct = new Redis(redis.port, "127.0.0.1");
    try {
      assert.deepEqual(await direct.keys(`ays:${name}:*`), []);
    } finally {
      direct.disconnect();
    }

    // Every later command says so instead of showing an empty repository.
    for (const args of [["list", "--json"], ["show", "base!main"], ["run"], ["blueprint"]]) {
      const later = await ays(...args);
      assert.equal(later.code, 4, `${args.join(" ")}: ${later.stderr}`);
      assert.equal(later.stdout, "");
      assert.match(later.stderr, LOST);
      assert.match(
        later.stderr,
        new RegExp(`mirror shows 4 actors and ${fanServiceCount()} services`),
      );
    }

    const restored = await ays("restore");
    assert.equal(restored.code, 0, restored.stderr);
    const listed = await ays("list", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout).length, fanServiceCount());
  });
});
