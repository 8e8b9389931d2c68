/**
 * Finding the repository a command works on (docs/repositories.md): `--repo PATH`, else the first folder
 * holding `.ays` walking up from the current folder. A v8.1 repository marks itself with an
 * empty `.ays` FILE; it is accepted, and {@link ensureAysDir} turns it into the folder.
 *
 * @module
 */
import { type Stats, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InputError } from "../errors.ts";

/** A repository found on disk. */
export interface FoundRepo {
  /** Absolute path of the repository root (the folder holding `.ays`). */
  path: string;
  /** `dir` for an ays repository, `file` for a v8.1 one whose `.ays` is still a file. */
  marker: "dir" | "file";
}

/** Options of {@link findRepo}. */
export interface FindRepoOptions {
  /** `--repo PATH`: use this folder (relative to `cwd`) instead of walking up. */
  repoFlag?: string;
}

/** Whether `folder` holds a `.ays` folder or file. */
function markerIn(folder: string): FoundRepo["marker"] | null {
  const info = statOrNull(join(folder, ".ays"));
  if (!info) return null;
  if (info.isDirectory()) return "dir";
  return info.isFile() ? "file" : null;
}

/**
 * What `stat` says of `path`, null when it cannot (no such file, no permission). Blocking: a
 * command's start reads a few of these, and the asynchronous calls cost `node:fs/promises` and
 * the runtime's I/O threads at every start (docs/benchmarks.md, "Start-up, fifth pass").
 */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * Finds the repository: the `--repo` folder (which must hold `.ays`), else the first folder
 * from `cwd` upwards that holds one. Not finding one is an {@link InputError} (exit 2).
 */
export function findRepo(cwd: string, options: FindRepoOptions = {}): Promise<FoundRepo> {
  // A promise still (a refusal rejects it), though every read is a blocking one.
  return new Promise((done) => done(findRepoNow(cwd, options)));
}

/** {@link findRepo}'s work, as blocking calls. */
function findRepoNow(cwd: string, options: FindRepoOptions): FoundRepo {
  if (options.repoFlag !== undefined) {
    const path = resolve(cwd, options.repoFlag);
    const marker = markerIn(path);
    if (!marker) {
      const exists = statOrNull(path);
      throw new InputError(
        exists
          ? `${path} is not an ays repository (it has no .ays; make one with 'ays init')`
          : `--repo ${options.repoFlag}: no such folder`,
      );
    }
    return { path, marker };
  }
  let folder = resolve(cwd);
  while (true) {
    const marker = markerIn(folder);
    if (marker) return { path: folder, marker };
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  throw new InputError(
    `not inside an ays repository: no .ays in ${resolve(cwd)} or any folder above it ` +
      `(use --repo PATH, or make one with 'ays init')`,
  );
}

/**
 * Makes sure `.ays` is a folder, turning a v8.1 marker file into one (docs/repositories.md). Call it before
 * the first write into `.ays/`. A non-empty marker file's content is kept as
 * `.ays/v81-marker` rather than thrown away.
 */
export async function ensureAysDir(repoPath: string): Promise<string> {
  const { mkdir, readFile, rename, rm } = process.getBuiltinModule("node:fs/promises");
  const dir = join(repoPath, ".ays");
  const info = statOrNull(dir);
  if (info?.isDirectory()) return dir;
  if (info?.isFile()) {
    const content = await readFile(dir);
    if (content.length === 0) {
      await rm(dir);
      await mkdir(dir);
    } else {
      const aside = `${dir}.v81-${process.pid}`;
      await rename(dir, aside);
      await mkdir(dir);
      await rename(aside, join(dir, "v81-marker"));
    }
    return dir;
  }
  await mkdir(dir, { recursive: true });
  return dir;
}
