/**
 * The file work of writing mirror files that do not exist yet, in two steps around a store
 * commit (docs/store.md, "The readable mirror"): before the commit each file is **staged** —
 * its folders created, its text written to a temporary file beside it; after the commit the
 * temporary files are **committed** (renamed into place, so a reader never sees half a file);
 * when the commit fails they are **aborted** (removed, with the folders staging created), so
 * the mirror stays as it was.
 *
 * Synchronous on purpose: these run in the mirror worker (`workers/mirror_worker.ts`, started
 * by `mirror_stage.ts`), on another core than the one encoding and committing the records, and
 * a plain loop of system calls is the cheapest way to make 10,000 files (the kernel's work per
 * file is the cost; promises add a third to it).
 *
 * @module
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** A file that could not be staged or committed: its path and why. */
export interface StagingFailure {
  path: string;
  message: string;
}

/** What is staged under one root: the files written to temporary names, the folders made. */
export interface Staged {
  /** The root folder (the repository); folders above it are never made. */
  readonly root: string;
  /** Added to each file's name for its temporary file (`<file>.<tag>.tmp`). */
  readonly tag: string;
  /** Absolute paths of the files staged, in order. */
  readonly files: string[];
  /** Folders staging created, parents before children. */
  readonly folders: string[];
  /** Folders known to exist (made here, or found). */
  readonly known: Set<string>;
  readonly failures: StagingFailure[];
  /**
   * A folder that did not exist when staging began, built whole under a hidden temporary name
   * and renamed into place once at the commit (one rename instead of one per file).
   */
  readonly whole: { final: string; temp: string } | null;
}

/** Options of {@link newStaged}. */
export interface NewStagedOptions {
  /**
   * A folder below the root (e.g. the mirror's `services/`): when it does not exist yet, the
   * files below it are staged in a hidden folder that becomes it at the commit.
   */
  fresh?: string;
}

/**
 * The folder of the mirror that a save's staging builds whole when it does not exist yet (the
 * first apply of a repository): `services/`.
 */
export function wholeFolderOf(root: string): string {
  return join(root, "services");
}

/** Starts an empty staging under `root`; `tag` makes the temporary names (e.g. the pid). */
export function newStaged(root: string, tag: string, options: NewStagedOptions = {}): Staged {
  const { fresh } = options;
  if (root === "" || tag === "" || /[/\\]/.test(tag)) {
    throw new TypeError(`newStaged: a root and a tag without slashes are needed`);
  }
  if (fresh !== undefined && !fresh.startsWith(root + "/")) {
    throw new TypeError(`newStaged: ${fresh} is not below ${root}`);
  }
  const whole = fresh === undefined || existsSync(fresh)
    ? null
    : { final: fresh, temp: join(dirname(fresh), `.${basename(fresh)}.${tag}.tmp`) };
  return { root, tag, files: [], folders: [], known: new Set([root]), failures: [], whole };
}

/** Where a file is staged: in the whole folder's temporary twin, or beside itself. */
function temporaryOf(staged: Staged, path: string): string {
  const whole = staged.whole;
  if (whole && path.startsWith(whole.final + "/")) {
    return whole.temp + path.slice(whole.final.length);
  }
  return `${path}.${staged.tag}.tmp`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Makes `dir` and its missing parents below the root, recording the ones it made. */
function ensureFolder(staged: Staged, dir: string): void {
  if (staged.known.has(dir)) return;
  if (!dir.startsWith(staged.root + "/")) return;
  ensureFolder(staged, dirname(dir));
  try {
    mkdirSync(dir);
    staged.folders.push(dir);
  } catch (error) {
    if ((error as { code?: string })?.code !== "EEXIST") throw error;
  }
  staged.known.add(dir);
}

/**
 * Writes `content` to the file at `path`, replacing what it held: opened with `O_TRUNC`
 * (`writeFileSync` of Bun opens without it and truncates afterwards: one system call more per
 * file, ~7 % of the file work of 10,000 new files). With `probe`, false (nothing written) when
 * the file's folder does not exist.
 */
function writeWhole(path: string, content: string | Uint8Array, probe = false): boolean {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  let fd: number;
  try {
    fd = openSync(path, "w");
  } catch (error) {
    if (probe && (error as { code?: string })?.code === "ENOENT") return false;
    throw error;
  }
  try {
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Makes the folders of files that are staged later (absolute paths below the root), parents
 * first, recording those it made — so that one thread makes all of a save's folders before
 * their texts come. A folder that cannot be made is left to the file's own staging, which
 * records the failure.
 */
export function makeFolders(staged: Staged, paths: Iterable<string>): void {
  for (const path of paths) {
    try {
      ensureFolder(staged, dirname(temporaryOf(staged, path)));
    } catch { /* the file's staging tries again and records why */ }
  }
}

/** Options of {@link stageFiles}. */
export interface StageFilesOptions {
  /**
   * Another staging of the same root may have made the files' folders (the worker's
   * {@link makeFolders}): open each file first and make its folder only when that fails. A
   * `mkdir` of a folder takes its parent's lock even when the folder exists, and the other
   * thread holds that lock for each folder it makes: the two threads then spun on it.
   */
  probe?: boolean;
}

/**
 * Stages files (absolute paths below the root) with their contents: folders first, then each
 * content in a temporary file. A file that fails is recorded in `staged.failures` and the
 * others go on.
 */
export function stageFiles(
  staged: Staged,
  files: Iterable<readonly [string, string | Uint8Array]>,
  options: StageFilesOptions = {},
): void {
  const { probe = false } = options;
  for (const [path, content] of files) {
    try {
      const temporary = temporaryOf(staged, path);
      const dir = dirname(temporary);
      if (probe && !staged.known.has(dir) && writeWhole(temporary, content, true)) {
        // Made by the other staging: known to exist, not this one's to remove.
        staged.known.add(dir);
      } else {
        ensureFolder(staged, dir);
        writeWhole(temporary, content);
      }
      staged.files.push(path);
    } catch (error) {
      staged.failures.push({ path, message: messageOf(error) });
    }
  }
}

/** The files of a chunk sent as paths, one buffer and where each file's bytes end. */
export function* chunkFiles(
  chunk: { paths: readonly string[]; bytes: Uint8Array; ends: readonly number[] },
): Generator<[string, Uint8Array]> {
  let start = 0;
  for (let i = 0; i < chunk.paths.length; i++) {
    yield [chunk.paths[i], chunk.bytes.subarray(start, chunk.ends[i])];
    start = chunk.ends[i];
  }
}

/** Renames every staged file (or the whole folder) into place; returns how many were written. */
export function commitStaged(staged: Staged): number {
  let written = 0;
  const whole = staged.whole;
  if (whole && existsSync(whole.temp)) {
    try {
      renameSync(whole.temp, whole.final);
      written = staged.files.length;
      staged.files.length = 0;
      staged.folders.length = 0;
      return written;
    } catch {
      // The folder appeared meanwhile: each file is moved into it below.
    }
  }
  for (const path of staged.files) {
    try {
      ensureFolder(staged, dirname(path));
      renameSync(temporaryOf(staged, path), path);
      written++;
    } catch (error) {
      staged.failures.push({ path, message: messageOf(error) });
    }
  }
  staged.files.length = 0;
  if (whole) rmSync(whole.temp, { recursive: true, force: true });
  return written;
}

/**
 * Takes over what another thread staged under the same root and tag (its files, the folders it
 * made, its failures), so that one commit or abort ends both.
 */
export function adoptStaged(
  staged: Staged,
  other: Pick<Staged, "files" | "folders" | "failures">,
): void {
  staged.files.push(...other.files);
  staged.folders.push(...other.folders);
  for (const dir of other.folders) staged.known.add(dir);
  staged.failures.push(...other.failures);
}

/** Removes every staged file and the folders staging made (children first), as far as it can. */
export function abortStaged(staged: Staged): void {
  for (const path of staged.files) {
    try {
      unlinkSync(temporaryOf(staged, path));
    } catch { /* already gone */ }
  }
  staged.files.length = 0;
  // Deepest first: a child's path is longer than its parent's, whichever thread made them.
  for (const dir of [...staged.folders].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(dir);
    } catch { /* not empty (something else wrote there) or gone */ }
  }
  staged.folders.length = 0;
}
