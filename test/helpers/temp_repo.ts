/**
 * Temporary folders and ays repositories for tests.
 *
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A temporary folder that removes itself. */
export interface TempDir {
  path: string;
  /** Removes the folder and everything in it. */
  remove(): Promise<void>;
}

/** Makes an empty temporary folder. */
export async function makeTempDir(prefix = "ays-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Options of {@link makeTempRepo}. */
export interface TempRepoOptions {
  /** Files to write, by path relative to the repository root. */
  files?: Record<string, string | Uint8Array>;
  /** Repository name written to `.ays/config.yaml` (default: none, the folder's name counts). */
  name?: string;
}

/**
 * Makes a temporary ays repository: `.ays/`, `actorTemplates/`, `blueprints/` and the given
 * files, without going through `ays init`.
 */
export async function makeTempRepo(options: TempRepoOptions = {}): Promise<TempDir> {
  const dir = await makeTempDir("ays-repo-");
  await mkdir(join(dir.path, ".ays"), { recursive: true });
  await mkdir(join(dir.path, "actorTemplates"), { recursive: true });
  await mkdir(join(dir.path, "blueprints"), { recursive: true });
  if (options.name) {
    await writeFile(join(dir.path, ".ays", "config.yaml"), `name: ${options.name}\n`);
  }
  await writeFiles(dir.path, options.files ?? {});
  return dir;
}

/** Writes files below `root`, creating folders as needed. */
export async function writeFiles(
  root: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}
