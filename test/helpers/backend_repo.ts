/**
 * A repository driven through `dist/ays` on one store backend, for end-to-end tests that run the
 * same cases on the embedded SQLite store and on a private Redis (`--store`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { type AysResult, runAys } from "./ays_binary.ts";
import { type RedisServer, startRedis } from "./redis_server.ts";
import { makeTempDir, type TempDir } from "./temp_repo.ts";

/** The store backends every end-to-end case runs on. */
export type Backend = "sqlite" | "redis";

/** Both backends, in the order tests run them. */
export const BACKENDS: readonly Backend[] = ["sqlite", "redis"];

/** A repository copied to a temporary folder, with ays set up for one backend. */
export interface BackendRepo {
  backend: Backend;
  /** The temporary folder holding the repository and ays' config folder. */
  dir: TempDir;
  /** The repository's folder. */
  repo: string;
  /** The private Redis of the redis backend. */
  redis?: RedisServer;
  /** Runs `ays [--store URL] args…` in the repository. */
  ays(...args: string[]): Promise<AysResult>;
  /** Like {@link BackendRepo.ays}, asserting exit 0. */
  ok(...args: string[]): Promise<AysResult>;
  /** Runs `ays args… --json`, asserting exit 0, and parses the output. */
  json<T>(...args: string[]): Promise<T>;
  /** Stops Redis and removes the folder. */
  close(): Promise<void>;
}

/** Options of {@link openBackendRepo}. */
export interface BackendRepoOptions {
  /** A folder copied as the repository (default: an empty folder). */
  fixture?: string;
  /** The repository folder's name, which is its default repository name (default "repo"). */
  name?: string;
  /** Prefix of the temporary folder (default "ays-e2e-"). */
  prefix?: string;
}

/** Copies the fixture and, for the redis backend, starts a private Redis. */
export async function openBackendRepo(
  backend: Backend,
  options: BackendRepoOptions = {},
): Promise<BackendRepo> {
  const { fixture, name = "repo", prefix = "ays-e2e-" } = options;
  if (!BACKENDS.includes(backend)) throw new TypeError(`unknown backend ${backend}`);
  const dir = await makeTempDir(prefix);
  const repo = join(dir.path, name);
  let redis: RedisServer | undefined;
  try {
    if (fixture) await cp(fixture, repo, { recursive: true });
    if (backend === "redis") redis = await startRedis();
  } catch (error) {
    await dir.remove();
    throw error;
  }
  const store = redis ? ["--store", redis.url] : [];
  const ays = (...args: string[]) =>
    runAys([...store, ...args], {
      cwd: repo,
      extraEnv: { XDG_CONFIG_HOME: join(dir.path, "cfg") },
    });
  const ok = async (...args: string[]) => {
    const result = await ays(...args);
    assert.equal(result.code, 0, `ays ${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  return {
    backend,
    dir,
    repo,
    redis,
    ays,
    ok,
    json: async <T>(...args: string[]) => JSON.parse((await ok(...args, "--json")).stdout) as T,
    close: async () => {
      await redis?.close();
      await dir.remove();
    },
  };
}
