/**
 * A run's mirror files are replaced without a new inode each (`src/store/mirror_spares.ts`,
 * docs/store.md): the old file is kept as a spare and a later pass writes a spare and renames
 * it into place — each file still replaced whole by a rename, a spare never written in the pass
 * that kept it, never through a symbolic link, and never more of them than the cap.
 */
import assert from "node:assert/strict";
import { link, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MirrorSpares, SPARES_FOLDER } from "../../src/store/mirror_spares.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";

describe("MirrorSpares", () => {
  let dir: TempDir;
  let n = 0;

  before(async () => {
    dir = await makeTempDir();
  });
  after(() => dir.remove());

  /** A repository folder with `count` files (`f0` …), each holding `old <i>`. */
  async function repo(count: number): Promise<{ root: string; files: string[] }> {
    const root = join(dir.path, `repo${++n}`);
    await mkdir(join(root, ".ays"), { recursive: true });
    const files: string[] = [];
    for (let i = 0; i < count; i++) {
      const file = join(root, `f${i}`);
      await writeFile(file, `old ${i}`);
      files.push(file);
    }
    return { root, files };
  }

  const spareNames = async (root: string) =>
    (await readdir(join(root, SPARES_FOLDER))).filter((name) => !name.startsWith(".")).sort();
  const inode = async (path: string) => (await stat(path)).ino;

  it("keeps each replaced file as a spare, hidden from git", async () => {
    const { root, files } = await repo(3);
    const before = await Promise.all(files.map(inode));
    const spares = new MirrorSpares(root);
    spares.newPass();
    for (const [i, file] of files.entries()) {
      assert.equal(await spares.replace(file, `new ${i}`), true);
    }
    for (const [i, file] of files.entries()) assert.equal(await readFile(file, "utf8"), `new ${i}`);
    const kept = await spareNames(root);
    assert.equal(kept.length, 3);
    const keptInodes = await Promise.all(
      kept.map((name) => inode(join(root, SPARES_FOLDER, name))),
    );
    assert.deepEqual(keptInodes.sort(), before.sort(), "the old files are the spares");
    assert.deepEqual(
      (await Promise.all(kept.map((name) => readFile(join(root, SPARES_FOLDER, name), "utf8"))))
        .sort(),
      ["old 0", "old 1", "old 2"],
    );
    assert.equal(await readFile(join(root, SPARES_FOLDER, ".gitignore"), "utf8"), "*\n");
  });

  it("writes a later pass into the spares an earlier one kept: no new inode", async () => {
    const { root, files } = await repo(2);
    const spares = new MirrorSpares(root);
    spares.newPass();
    await spares.replace(files[0], "pass 1");
    const [first] = await spareNames(root);
    const firstKept = await inode(join(root, SPARES_FOLDER, first));
    // The same pass takes no spare it kept: the second file gets a new one of its own.
    await spares.replace(files[1], "pass 1");
    assert.notEqual(await inode(files[1]), firstKept);
    const kept = await Promise.all(
      (await spareNames(root)).map((name) => inode(join(root, SPARES_FOLDER, name))),
    );
    spares.newPass();
    await spares.replace(files[0], "pass 2");
    assert.ok(kept.includes(await inode(files[0])), "a spare of the pass before took its place");
    assert.equal(await readFile(files[0], "utf8"), "pass 2");
    assert.equal(
      (await spareNames(root)).length,
      2,
      "as many spares as before: one taken, one kept",
    );
  });

  it("takes the spares a run before left", async () => {
    const { root, files } = await repo(1);
    const first = new MirrorSpares(root);
    first.newPass();
    await first.replace(files[0], "run 1");
    const [left] = await spareNames(root);
    const leftInode = await inode(join(root, SPARES_FOLDER, left));
    const second = new MirrorSpares(root);
    second.newPass();
    await second.replace(files[0], "run 2");
    assert.equal(await inode(files[0]), leftInode);
    assert.equal(await readFile(files[0], "utf8"), "run 2");
  });

  it("never writes through a spare that is a symbolic link", async () => {
    const { root, files } = await repo(1);
    const target = join(root, "elsewhere");
    await writeFile(target, "not the mirror's");
    await mkdir(join(root, SPARES_FOLDER), { recursive: true });
    await symlink(target, join(root, SPARES_FOLDER, "1-1-1"));
    const spares = new MirrorSpares(root);
    spares.newPass();
    // Dropped, not followed: the file is replaced through a new temporary file instead.
    assert.equal(await spares.replace(files[0], "new"), true);
    assert.equal(await readFile(files[0], "utf8"), "new");
    assert.equal(await readFile(target, "utf8"), "not the mirror's");
  });

  it("never writes a spare whose file has another name too (a hard-linked backup)", async () => {
    const { root, files } = await repo(1);
    const first = new MirrorSpares(root);
    first.newPass();
    await first.replace(files[0], "run 1");
    const [left] = await spareNames(root);
    // A backup made with hard links (`cp -al`) holds the kept old file under a name of its own.
    const backup = join(root, "backup-of-f0");
    await link(join(root, SPARES_FOLDER, left), backup);
    const second = new MirrorSpares(root);
    second.newPass();
    assert.equal(await second.replace(files[0], "run 2"), true);
    assert.equal(await readFile(files[0], "utf8"), "run 2");
    assert.equal(await readFile(backup, "utf8"), "old 0", "the backup is left as it was");
    assert.notEqual(await inode(files[0]), await inode(backup));
    assert.ok(!(await spareNames(root)).includes(left), "that spare is let go");
  });

  it("keeps no more spares than its cap", async () => {
    const { root, files } = await repo(4);
    const spares = new MirrorSpares(root, { max: 2 });
    spares.newPass();
    const replaced = [];
    for (const file of files) replaced.push(await spares.replace(file, "new"));
    // Past the cap a file is left to the usual write (a new temporary file, the old one freed).
    assert.deepEqual(replaced, [true, true, false, false]);
    assert.equal((await spareNames(root)).length, 2);
    assert.throws(() => new MirrorSpares(root, { max: -1 }), RangeError);
  });

  it("leaves a file whose folder is gone to the usual write", async () => {
    const { root } = await repo(0);
    const spares = new MirrorSpares(root);
    spares.newPass();
    assert.equal(await spares.replace(join(root, "gone", "service.json"), "new"), false);
  });
});
