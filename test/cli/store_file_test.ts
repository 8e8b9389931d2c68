/**
 * A SQLite store file that is damaged, empty, a folder, or on a full disk is an environment
 * failure: exit 4 and one line naming the store file — never "internal error" with a stack, and
 * never an empty repository. In-process (runCli + captureIo) on copies of the `infra` fixture.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { cp, mkdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { closeSync, fsyncSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir } from "../helpers/mod.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));

interface Result {
  code: number;
  out: string;
  err: string;
}

/** A copy of the infra repository below `root`, with its services made by `ays blueprint`. */
async function infraWithServices(root: string) {
  const repo = join(root, "infra");
  await cp(INFRA, repo, { recursive: true });
  const env = { XDG_CONFIG_HOME: join(root, "cfg") };
  const ays = async (...args: string[]): Promise<Result> => {
    const io = captureIo({ env, cwd: repo });
    const code = await runCli(args, io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  };
  const made = await ays("blueprint");
  assert.equal(made.code, 0, made.err);
  const listed = await ays("list", "--json");
  assert.equal(listed.code, 0, listed.err);
  const services = (JSON.parse(listed.out) as { name: string }[]).map((s) => s.name).sort();
  assert.ok(services.length > 0);
  return { repo, ays, services, store: join(repo, ".ays", "store.db") };
}

/** Exit 4, one line on stderr naming `store`, nothing on stdout, no stack. */
function assertStoreFailure(result: Result, store: string, reason: RegExp): void {
  assert.equal(result.code, 4, result.err);
  assert.equal(result.out, "");
  const lines = result.err.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.err);
  assert.ok(lines[0].includes(store), result.err);
  assert.match(lines[0], reason);
  assert.doesNotMatch(result.err, /internal error|\n\s+at /);
}

describe("a SQLite store file that cannot be used", () => {
  it("is exit 4 when damaged inside, for reads and writes, and stays as it was", async () => {
    const dir = await makeTempDir("ays-storefile-");
    try {
      const { ays, store } = await infraWithServices(dir.path);
      // Scramble everything after the 100-byte header (which still says "SQLite"), the schema
      // page included, so that every statement meets the damage.
      const bytes = await readFile(store);
      for (let i = 100; i < bytes.length; i += 7) bytes[i] = (bytes[i] * 31 + 7) & 255;
      await writeFile(store, bytes);
      assertStoreFailure(await ays("list"), store, /damaged/);
      assertStoreFailure(await ays("show", "db!main"), store, /damaged/);
      assertStoreFailure(await ays("blueprint"), store, /damaged/);
      assert.deepEqual(await readFile(store), bytes);
    } finally {
      await dir.remove();
    }
  });

  it("is exit 4 when it is not a SQLite file at all", async () => {
    const dir = await makeTempDir("ays-storefile-");
    try {
      const { ays, store } = await infraWithServices(dir.path);
      await rm(`${store}-wal`, { force: true });
      await rm(`${store}-shm`, { force: true });
      await writeFile(store, "these are not the bytes of a database ".repeat(200));
      assertStoreFailure(await ays("list"), store, /not a SQLite database/);
    } finally {
      await dir.remove();
    }
  });

  it("is exit 4 when it is an empty file, instead of an empty repository", async () => {
    const dir = await makeTempDir("ays-storefile-");
    try {
      const { ays, store } = await infraWithServices(dir.path);
      for (const file of [store, `${store}-wal`, `${store}-shm`]) await rm(file, { force: true });
      await writeFile(store, "");
      assertStoreFailure(await ays("list"), store, /empty file \(0 bytes\)/);
      assertStoreFailure(await ays("blueprint"), store, /empty file \(0 bytes\)/);
      assert.equal(statSync(store).size, 0);
    } finally {
      await dir.remove();
    }
  });

  it("is exit 4 when it is a folder, instead of an empty repository", async () => {
    const dir = await makeTempDir("ays-storefile-");
    try {
      const { ays, store } = await infraWithServices(dir.path);
      for (const file of [store, `${store}-wal`, `${store}-shm`]) await rm(file, { force: true });
      await mkdir(store);
      assertStoreFailure(await ays("list"), store, /is a folder/);
      assertStoreFailure(await ays("blueprint"), store, /is a folder/);
      assert.equal(statSync(store).isDirectory(), true);
    } finally {
      await dir.remove();
    }
  });
});

/** Mounts a 4 MiB tmpfs at `dir`; false when this process may not (not root, no mount). */
function mountSmallTmpfs(dir: string): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  return spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir]).status === 0;
}

/** Fills the file system of `path` up, then frees `leave` bytes again. */
async function fillUp(path: string, leave: number): Promise<void> {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(64 * 1024);
  let size = 0;
  try {
    for (;;) {
      size += writeSync(fd, chunk);
      fsyncSync(fd);
    }
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  await truncate(path, Math.max(0, statSync(path).size - leave));
}

describe("a SQLite store on a full disk", () => {
  const canMount = process.platform === "linux" && process.getuid?.() === 0;
  it("is exit 4 naming the store file, and the store keeps what it had", {
    skip: canMount ? false : "needs root to mount a 4 MiB tmpfs",
  }, async () => {
    const dir = await makeTempDir("ays-diskfull-");
    const mount = join(dir.path, "small");
    await mkdir(mount);
    assert.ok(mountSmallTmpfs(mount), "mount -t tmpfs -o size=4m failed");
    try {
      const { ays, repo, services, store } = await infraWithServices(mount);
      // 300 services of 3 KB each cannot fit in the 200 KB left.
      let blueprint = "";
      for (let i = 0; i < 300; i++) {
        blueprint += `datacenter__big${i}:\n  location: ${"x".repeat(3000)}\n\n`;
      }
      await writeFile(join(repo, "blueprints", "99_many.yaml"), blueprint);
      const filler = join(mount, "filler");
      await fillUp(filler, 200 * 1024);
      assertStoreFailure(await ays("blueprint"), store, /disk is full/);
      await rm(filler);
      const listed = await ays("list", "--json");
      assert.equal(listed.code, 0, listed.err);
      const after = (JSON.parse(listed.out) as { name: string }[]).map((s) => s.name).sort();
      assert.deepEqual(after, services);
    } finally {
      spawnSync("umount", [mount]);
      await dir.remove();
    }
  });
});
