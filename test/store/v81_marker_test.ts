/** The v8.1 `.ays` marker file becomes the store's folder; nothing else is ever removed. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { ensureStoreFolder, isV81Marker } from "../../src/store/v81_marker.ts";
import { makeTempDir } from "../helpers/mod.ts";

describe("v8.1 marker", () => {
  it("is an empty file named .ays, nothing else", async () => {
    const dir = await makeTempDir();
    try {
      const marker = join(dir.path, ".ays");
      assert.equal(isV81Marker(marker), false); // missing
      await writeFile(marker, "");
      assert.equal(isV81Marker(marker), true);
      await writeFile(marker, "x");
      assert.equal(isV81Marker(marker), false); // not empty
      await writeFile(join(dir.path, "other"), "");
      assert.equal(isV81Marker(join(dir.path, "other")), false); // another name
      await mkdir(join(dir.path, "sub", ".ays"), { recursive: true });
      assert.equal(isV81Marker(join(dir.path, "sub", ".ays")), false); // a folder
    } finally {
      await dir.remove();
    }
  });

  it("is replaced by the folder when the store folder is made", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      ensureStoreFolder(join(dir.path, ".ays", "store.db"));
      assert.equal(statSync(join(dir.path, ".ays")).isDirectory(), true);
    } finally {
      await dir.remove();
    }
  });

  it("creates a missing folder with its parents and leaves an existing one alone", async () => {
    const dir = await makeTempDir();
    try {
      ensureStoreFolder(join(dir.path, "a", "b", "store.db"));
      assert.equal(statSync(join(dir.path, "a", "b")).isDirectory(), true);
      await writeFile(join(dir.path, "a", "b", "keep"), "k");
      ensureStoreFolder(join(dir.path, "a", "b", "store.db"));
      assert.equal(readFileSync(join(dir.path, "a", "b", "keep"), "utf8"), "k");
    } finally {
      await dir.remove();
    }
  });

  it("refuses a file in the way that is not an empty marker, and keeps it", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "v8.1 notes");
      assert.throws(() => ensureStoreFolder(join(dir.path, ".ays", "store.db")), InputError);
      assert.equal(readFileSync(join(dir.path, ".ays"), "utf8"), "v8.1 notes");
      await writeFile(join(dir.path, "data"), "");
      assert.throws(() => ensureStoreFolder(join(dir.path, "data", "store.db")), InputError);
      assert.equal(existsSync(join(dir.path, "data")), true);
    } finally {
      await dir.remove();
    }
  });
});
