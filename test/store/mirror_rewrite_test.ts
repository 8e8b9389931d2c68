/**
 * Rewriting a mirror file in place: the same inode, the text cut or grown to its length; nothing
 * written (false) for anything but a regular file with one link of at most a page, before and
 * after; and a writer killed at any moment leaves the old text or the new one, never a mix.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { link, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { IN_PLACE_MAX_BYTES, rewriteInPlace } from "../../src/store/mirror_rewrite.ts";
import { writeMirrorFiles } from "../../src/store/mirror.ts";
import { makeTempDir, makeTempRepo } from "../helpers/mod.ts";
import { runtimeCommand } from "./child.ts";
import { REWRITE_TEXTS } from "./rewrite_texts.ts";

const CHILD = fileURLToPath(new URL("./rewrite_child.ts", import.meta.url));

describe("rewriteInPlace", () => {
  it("writes over the file that is there: same inode, a shorter text cuts it, a longer one grows it", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, "service.json");
      await writeFile(path, '{\n  "state": "scheduled, and a long tail"\n}\n');
      const inode = statSync(path).ino;
      assert.equal(await rewriteInPlace(path, '{ "state": "ok" }\n'), true);
      assert.equal(readFileSync(path, "utf8"), '{ "state": "ok" }\n');
      const longer = `{ "state": "${"é".repeat(2000)}" }\n`; // 4,018 bytes: still one page
      assert.equal(await rewriteInPlace(path, longer), true);
      assert.equal(readFileSync(path, "utf8"), longer);
      assert.equal(statSync(path).ino, inode);
    } finally {
      await dir.remove();
    }
  });

  it("writes nothing and says false when the text or the file is over a page (4,096 bytes)", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, "service.json");
      await writeFile(path, '{ "state": "ok" }\n');
      const big = `"${"x".repeat(IN_PLACE_MAX_BYTES - 2)}"\n`; // 4,097 bytes
      assert.equal(await rewriteInPlace(path, big), false);
      assert.equal(readFileSync(path, "utf8"), '{ "state": "ok" }\n');

      await writeFile(path, big);
      assert.equal(await rewriteInPlace(path, '{ "state": "ok" }\n'), false);
      assert.equal(readFileSync(path, "utf8"), big);
    } finally {
      await dir.remove();
    }
  });

  it("pads a shorter text with spaces, so a writer killed before the cut leaves the new JSON", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, "service.json");
      await writeFile(path, REWRITE_TEXTS[0]);
      const [command, args] = runtimeCommand(CHILD, [path, "--kill-before-cut"]);
      const result = spawnSync(command, args, { encoding: "utf8" });
      assert.equal(result.signal, "SIGKILL", result.stderr);
      const text = readFileSync(path, "utf8");
      assert.equal(text.length, REWRITE_TEXTS[0].length, "not cut yet");
      assert.deepEqual(JSON.parse(text), JSON.parse(REWRITE_TEXTS[1]));
      assert.equal(text, REWRITE_TEXTS[1].padEnd(text.length, " "));
    } finally {
      await dir.remove();
    }
  });

  it("leaves the old text or the new one, whole, when the writer is killed at any moment", async () => {
    const dir = await makeTempDir();
    try {
      const path = join(dir.path, "service.json");
      await writeFile(path, REWRITE_TEXTS[0]);
      const parsed = REWRITE_TEXTS.map((text) => JSON.parse(text));
      // Each kill lands somewhere in the child's loop of write-then-cut; before padding, a kill
      // between the two left the short text followed by the long one's tail (not JSON).
      for (let round = 0; round < 40; round++) {
        const [command, args] = runtimeCommand(CHILD, [path]);
        const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
        const gone = new Promise((resolve) => child.once("exit", resolve));
        await new Promise<void>((resolve, reject) => {
          child.stdout!.once("data", () => resolve());
          child.once("exit", (code) => reject(new Error(`the child exited (${code})`)));
        });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
        child.kill("SIGKILL");
        await gone;
        const text = readFileSync(path, "utf8");
        let value;
        try {
          value = JSON.parse(text);
        } catch {
          assert.fail(
            `round ${round}: a torn file (${text.length} characters): ${text.slice(0, 80)}…`,
          );
        }
        assert.ok(
          parsed.some((expected) => isDeepStrictEqual(value, expected)),
          `round ${round}: neither text`,
        );
      }
    } finally {
      await dir.remove();
    }
  });

  it("writes nothing and says false for a missing file, a symbolic link, a hard link, a folder and a FIFO", async () => {
    const dir = await makeTempDir();
    try {
      const missing = join(dir.path, "missing.json");
      assert.equal(await rewriteInPlace(missing, "x"), false);
      assert.equal(existsSync(missing), false);

      const target = join(dir.path, "target.json");
      await writeFile(target, "target\n");
      const linked = join(dir.path, "link.json");
      await symlink(target, linked);
      assert.equal(await rewriteInPlace(linked, "x"), false);

      const hard = join(dir.path, "hard.json");
      await link(target, hard);
      assert.equal(await rewriteInPlace(hard, "x"), false);
      assert.equal(readFileSync(target, "utf8"), "target\n");

      const folder = join(dir.path, "folder.json");
      mkdirSync(folder);
      assert.equal(await rewriteInPlace(folder, "x"), false);

      // Opened for writing without O_NONBLOCK, a FIFO nobody reads would hang the run.
      const fifo = join(dir.path, "fifo.json");
      assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
      assert.equal(await rewriteInPlace(fifo, "x"), false);
      assert.equal(lstatSync(fifo).isFIFO(), true);
    } finally {
      await dir.remove();
    }
  });
});

describe("writeMirrorFiles with changed files", () => {
  it("rewrites a changed regular file in place and replaces a symbolic link instead of writing through it", async () => {
    const repo = await makeTempRepo();
    try {
      const plain = join("services", "node!a", "service.json");
      const linked = join("services", "node!b", "service.json");
      await writeMirrorFiles(repo.path, new Map([[plain, "old\n"], [linked, "old\n"]]));
      const inode = statSync(join(repo.path, plain)).ino;
      const outside = join(repo.path, "outside.txt");
      await writeFile(outside, "outside\n");
      await rm(join(repo.path, linked));
      await symlink(outside, join(repo.path, linked));

      const files = new Map([[plain, "new\n"], [linked, "new\n"]]);
      const result = await writeMirrorFiles(repo.path, files, {
        changed: new Set([plain, linked]),
      });
      assert.deepEqual(result, { written: 2, removed: 0, unchanged: 0 });
      assert.equal(readFileSync(join(repo.path, plain), "utf8"), "new\n");
      assert.equal(statSync(join(repo.path, plain)).ino, inode);
      assert.equal(lstatSync(join(repo.path, linked)).isSymbolicLink(), false);
      assert.equal(readFileSync(join(repo.path, linked), "utf8"), "new\n");
      assert.equal(readFileSync(outside, "utf8"), "outside\n");
    } finally {
      await repo.remove();
    }
  });
});
