/**
 * `ays init` (docs/repositories.md, docs/cli.md): makes a repository — `.ays/config.yaml`, `actorTemplates/`,
 * `blueprints/`, a `.gitignore` that keeps the embedded store out of git — and optionally a git
 * repository with an `origin`.
 *
 * @module
 */
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { InputError, UnavailableError } from "../errors.ts";
import { REPO_NAME_PATTERN, repoConfigPath } from "./config.ts";

/** Options of {@link initRepo}. */
export interface InitRepoOptions {
  /** Also run `git init`. */
  git?: boolean;
  /** Add this URL as the git remote `origin` (implies `git`). */
  origin?: string;
}

/** What {@link initRepo} made. */
export interface InitRepoResult {
  /** Absolute path of the new repository. */
  path: string;
  /** Whether `git init` ran. */
  git: boolean;
}

/** The `.gitignore` ays writes: the embedded store and its WAL files are not for git. */
export const GITIGNORE =
  "# the embedded store of ays (the mirror in actors/ and services/ is for git)\n" +
  ".ays/store.db*\n";

/**
 * The first `.ays/config.yaml`. The name is written out (not left to follow the folder) so that
 * the repository keeps it when its folder is renamed, moved or copied (docs/repositories.md);
 * a folder name that is not a valid repository name is left commented out.
 */
function configText(folderName: string): string {
  const name = REPO_NAME_PATTERN.test(folderName)
    ? `name: ${folderName}   # fixed at init: keys the store; kept when the folder moves\n`
    : `# name: myrepo              # default: the folder's name; used in store keys and HTTP paths\n`;
  return `# ays repository settings; all optional.\n${name}${CONFIG_REST}`;
}

const CONFIG_REST = `# store: redis://localhost:6379/0   # default: the embedded store .ays/store.db
# parallel: 10              # default --parallel of runs
# isolation: pool           # default isolation of actions: pool, job or process (docs/runs.md)
# memory: 1G                # memory limit of isolation: process jobs (docs/runs.md)
`;

/**
 * Makes a repository in `path` (created if missing). An existing folder must be empty, apart
 * from a `.git` folder (so a fresh clone can become a repository); a folder that already is a
 * repository, or holds other files, is an {@link InputError}. With `git`/`origin` it runs
 * `git init` (when there is no `.git` yet) and `git remote add origin URL`; git missing is an
 * {@link UnavailableError}.
 */
export async function initRepo(
  path: string,
  options: InitRepoOptions = {},
): Promise<InitRepoResult> {
  const root = resolve(path);
  const info = await stat(root).catch(() => null);
  if (info && !info.isDirectory()) throw new InputError(`${root} exists and is not a folder`);
  if (info) {
    const entries = await readdir(root);
    if (entries.includes(".ays")) throw new InputError(`${root} is already an ays repository`);
    const others = entries.filter((entry) => entry !== ".git");
    if (others.length > 0) {
      throw new InputError(
        `${root} is not empty (${others.slice(0, 3).join(", ")}${
          others.length > 3 ? ", …" : ""
        }): ays init needs an empty or new folder`,
      );
    }
  }
  try {
    await mkdir(join(root, ".ays"), { recursive: true });
    await writeFile(repoConfigPath(root), configText(basename(root)));
    await mkdir(join(root, "actorTemplates"), { recursive: true });
    await mkdir(join(root, "blueprints"), { recursive: true });
    await writeFile(join(root, ".gitignore"), GITIGNORE);
  } catch (error) {
    // A parent that is a file, or a folder we may not write, is the user's path to fix.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new InputError(`cannot make a repository in ${root}: ${code}`, { cause: error });
    }
    throw error;
  }
  const wantGit = Boolean(options.git || options.origin);
  if (wantGit) {
    const hasGit = await stat(join(root, ".git")).catch(() => null);
    if (!hasGit) await git(["init", "--quiet"], root);
    if (options.origin) await git(["remote", "add", "origin", options.origin], root);
  }
  return { path: root, git: wantGit };
}

/** Runs git in `cwd`; a missing git is unavailable, a failing one bad input. */
async function git(args: string[], cwd: string): Promise<void> {
  // Loaded here: every other command would pay for the module (docs/benchmarks.md).
  const { execFile } = await import("node:child_process");
  return await new Promise((done, fail) => {
    execFile("git", args, { cwd }, (error, _stdout, stderr) => {
      if (!error) return done();
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return fail(new UnavailableError("git is not installed (needed for --git)"));
      }
      fail(
        new InputError(`git ${args.join(" ")} failed: ${String(stderr).trim() || error.message}`),
      );
    });
  });
}
