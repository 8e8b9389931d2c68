/**
 * The tree of an actor template's folder (docs/fleet.md, "What a worker runs"): its files, the
 * SHA-256 that names them, and a worker's cached copy of them, written once per hash.
 *
 * The hash covers every regular file below the folder (dot-entries and `node_modules` left
 * out), sorted by path: `path`, NUL, size, NUL, bytes — so a change of any file, name or
 * content gives another hash and a worker never runs a stale copy.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import type { TreeFile } from "../store/mod.ts";

/** A template folder's files with their hash. */
export interface TemplateTree {
  sha: string;
  files: TreeFile[];
}

/** The most a tree may hold: jobs carry code, not data sets. */
export const MAX_TREE_BYTES = 16 * 1024 * 1024;

/** The SHA-256 (hex) of a tree's files, whatever order they come in. */
export function treeHash(files: readonly TreeFile[]): string {
  const hash = createHash("sha256");
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    hash.update(`${file.path}\0${file.data.byteLength}\0`);
    hash.update(file.data);
  }
  return hash.digest("hex");
}

/** Reads every file below `folder` and hashes the tree; throws past {@link MAX_TREE_BYTES}. */
export async function readTemplateTree(folder: string): Promise<TemplateTree> {
  const files: TreeFile[] = [];
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) {
        const data = new Uint8Array(await readFile(path));
        total += data.byteLength;
        if (total > MAX_TREE_BYTES) {
          throw new Error(
            `the template folder ${folder} holds more than ${MAX_TREE_BYTES} bytes: too much to send to the fleet`,
          );
        }
        files.push({ path: relative(folder, path).split(sep).join("/"), data });
      }
    }
  };
  await walk(folder);
  return { sha: treeHash(files), files };
}

/** A path of a tree that stays inside its folder (no `..`, not absolute). */
function safePath(path: string): boolean {
  return path !== "" && !path.startsWith("/") &&
    !path.split("/").some((p) => p === ".." || p === "");
}

/**
 * The folder of a worker's cache that holds the tree `sha`, writing the files `load` gives there first when
 * it is not there yet (through a temporary folder and a rename, so a half-written copy is
 * never used). Refuses files that do not hash to `sha` or whose paths leave the folder.
 */
export async function cacheTree(
  cacheDir: string,
  sha: string,
  options: { load: () => Promise<TreeFile[]> },
): Promise<string> {
  const { load } = options;
  const target = join(cacheDir, sha);
  if (await stat(target).then((s) => s.isDirectory(), () => false)) return target;
  const got = await load();
  if (treeHash(got) !== sha) {
    throw new Error(`the template files in the store do not match their hash ${sha}`);
  }
  const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    for (const file of got) {
      if (!safePath(file.path)) throw new Error(`template tree ${sha}: bad path ${file.path}`);
      const path = resolve(temporary, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.data);
    }
    await mkdir(temporary, { recursive: true });
    await rename(temporary, target).catch(async (error) => {
      // Another job of this worker cached the same tree meanwhile: theirs is as good.
      if (!(await stat(target).then((s) => s.isDirectory(), () => false))) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return target;
}
