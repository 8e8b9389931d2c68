/**
 * The bad-input corpus through the binary (SPEC §4.1, §10): every case of
 * test/fixtures/bad/cases.json, applied with `dist/ays blueprint` to a seeded repository, exits
 * 2 naming the recorded `file:line:column` and problem — and leaves every key and value of the
 * store, and every file of the repository (the mirror included), exactly as they were. On the
 * embedded SQLite store and on a private Redis.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";
import {
  makeTempDir,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

const BAD = fileURLToPath(new URL("../fixtures/bad/", import.meta.url));

interface BadCase {
  name: string;
  files: string[];
  seed?: string[];
  templates?: string;
  error: string;
  message: string;
}

const cases: BadCase[] = JSON.parse(readFileSync(join(BAD, "cases.json"), "utf8"));

/** Every row of every table of a SQLite store, as text. */
function dumpSqlite(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    const rows: string[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) {
        const cells = Object.entries(row as Record<string, unknown>).map(([k, v]) =>
          `${k}=${v instanceof Uint8Array ? hex(v) : String(v)}`
        );
        rows.push(`${name}: ${cells.join(" ")}`);
      }
    }
    return rows.sort();
  } finally {
    db.close();
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every key under the repository's prefix with its DUMP (type and value), as text. */
async function dumpRedis(client: Redis, repoName: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await client.scan(cursor, "MATCH", `ays:${repoName}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  const rows: string[] = [];
  for (const key of keys.sort()) {
    const dumped = await client.dumpBuffer(key);
    rows.push(`${key} ${dumped ? hex(dumped) : "(gone)"}`);
  }
  return rows;
}

/** Every file of a folder with its size, mtime and SHA-256; the store files left out. */
async function listing(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (rel.startsWith(join(".ays", "store.db"))) continue;
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        await walk(path);
      } else {
        const info = await stat(path);
        const sha = createHash("sha256").update(await readFile(path)).digest("hex");
        out.push(`${rel} ${info.size} ${info.mtimeMs} ${sha}`);
      }
    }
  };
  await walk(root);
  return out.sort();
}

type Backend = "sqlite" | "redis";

describe("bad input through dist/ays blueprint: exit 2, store and mirror untouched", () => {
  let redis: RedisServer;
  let client: Redis;
  let home: TempDir;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    home = await makeTempDir("ays-bad-home-");
  });
  after(async () => {
    client?.disconnect();
    await redis?.close();
    await home?.remove();
  });

  let counter = 0;
  for (const backend of ["sqlite", "redis"] as Backend[]) {
    for (const badCase of cases) {
      it(`${backend}: ${badCase.name} → ${badCase.error}`, async () => {
        const name = `bad${++counter}`;
        const repo = await makeTempRepo({ name });
        try {
          const shared = join(BAD, "templates");
          const storeArgs = backend === "redis" ? ["--store", redis.url] : [];
          const env = { XDG_CONFIG_HOME: join(home.path, "cfg"), AYS_TEMPLATES: shared };
          // Seed the store (and its mirror) through the binary, with the shared templates only.
          const seed = await runAys(
            [
              "--repo",
              repo.path,
              ...storeArgs,
              "blueprint",
              ...(badCase.seed ?? ["blueprints/ok.yaml"]),
            ],
            { cwd: BAD, extraEnv: env },
          );
          assert.equal(seed.code, 0, seed.stderr);
          const dump = () =>
            backend === "sqlite"
              ? Promise.resolve(dumpSqlite(join(repo.path, ".ays", "store.db")))
              : dumpRedis(client, name);
          const storeBefore = await dump();
          assert.ok(storeBefore.length > 0, "the seed wrote something");
          const filesBefore = await listing(repo.path);
          assert.ok(filesBefore.some((f) => f.startsWith("services/")), "the seed is mirrored");

          const templates = badCase.templates
            ? `${shared}:${join(BAD, badCase.templates)}`
            : shared;
          const result = await runAys(
            ["--repo", repo.path, ...storeArgs, "blueprint", ...badCase.files],
            { cwd: BAD, extraEnv: { ...env, AYS_TEMPLATES: templates } },
          );
          assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
          const stderr = result.stderr.replaceAll(BAD, "");
          assert.ok(
            stderr.includes(`ays: ${badCase.error}: `),
            `expected ${badCase.error} in: ${stderr}`,
          );
          assert.ok(
            stderr.includes(badCase.message),
            `expected '${badCase.message}' in: ${stderr}`,
          );
          assert.equal(result.stdout, "");
          assert.deepEqual(await dump(), storeBefore, "every key and value as before");
          assert.deepEqual(await listing(repo.path), filesBefore, "no file touched");
        } finally {
          await repo.remove();
        }
      });
    }
  }
});
