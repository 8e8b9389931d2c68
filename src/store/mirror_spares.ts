/**
 * Spare files for a run's mirror writes (docs/store.md, "The readable mirror"): a mirror file
 * is replaced through a temporary file and a rename, which takes a new inode for the temporary
 * file and frees the old file's. On ext4 without a journal each new inode is found by walking
 * past every inode freed in the last seconds to minutes in its group (`recently_deleted`), so a
 * run replacing 2,000 files after 2,000 others were replaced spent ≈ 0.5 s of kernel CPU finding
 * inodes — more than the main thread's work on the jobs. A run instead keeps each old file under
 * a spare name (a hard link, before the rename) and writes a later file's new text into a spare
 * kept by an earlier pass: no inode is taken or freed, and each file is still replaced whole by
 * a rename. The spares live in `.ays/mirror-spares/` (a `.gitignore` there hides them from git),
 * at most {@link MAX_SPARES}; they are only ever written by the run holding the repository lock.
 *
 * @module
 */
import { constants, lstatSync, unlinkSync } from "node:fs";
import { link, mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

/** The folder of the spares, relative to the repository. */
export const SPARES_FOLDER = join(".ays", "mirror-spares");

/** Spare files kept at most (≈ 4 KiB of disk each). */
export const MAX_SPARES = 4096;

/**
 * How a spare is opened to be written: only an existing regular file, never through a symbolic
 * link (a spare is whatever the mirror file was; a link there would write elsewhere).
 */
const SPARE_FLAGS = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW;

/** What the folder's `.gitignore` says: everything in it, itself included. */
const IGNORE_ALL = "*\n";

/** Options of {@link MirrorSpares}. */
export interface MirrorSparesOptions {
  /** Spare files kept at most (default {@link MAX_SPARES}). */
  max?: number;
}

/** The spare files of one repository, for the mirror writes of one run. */
export class MirrorSpares {
  readonly #dir: string;
  readonly #max: number;
  /** Spares that may be written now (kept by an earlier pass, or a run before). */
  readonly #ready: string[] = [];
  /** Spares kept during this pass: written from the next pass on (see {@link newPass}). */
  #kept: string[] = [];
  /** Spare files on disk, as far as this object knows. */
  #count = 0;
  /** Tells this object's spare names from those of another one in the same process. */
  readonly #tag = Math.random().toString(36).slice(2, 10);
  #nextName = 0;
  #loaded: Promise<void> | undefined;

  /** Spares of the repository at `repoPath`; nothing is read before {@link load}. */
  constructor(repoPath: string, options: MirrorSparesOptions = {}) {
    const { max = MAX_SPARES } = options;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`max must be a whole number ≥ 0, not ${max}`);
    }
    this.#dir = join(repoPath, SPARES_FOLDER);
    this.#max = max;
  }

  /** Lists the spares earlier runs left, making the folder the first time (once). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      let names: string[];
      try {
        names = await readdir(this.#dir);
      } catch {
        await mkdir(this.#dir, { recursive: true });
        await writeFile(join(this.#dir, ".gitignore"), IGNORE_ALL);
        names = [];
      }
      for (const name of names) {
        if (name.startsWith(".")) continue;
        if (this.#ready.length < this.#max) this.#ready.push(join(this.#dir, name));
      }
      this.#count = this.#ready.length;
    })().catch(() => {
      // No spares then: every file is written the usual way.
      this.#count = this.#max;
    });
    return this.#loaded;
  }

  /**
   * Starts a pass of writes: the spares kept by the passes before may be written now. A spare
   * is never written in the pass that kept it, so a reader that opened the old file just before
   * its rename still reads it whole (docs/store.md).
   */
  newPass(): void {
    for (const spare of this.#kept) this.#ready.push(spare);
    this.#kept = [];
  }

  /**
   * The next spare that is a file of its own: a spare whose inode has another name too (a backup
   * made with hard links, `cp -al`) would change that file as well, and one that is not a
   * regular file (a symbolic link) would write elsewhere — such a name is dropped instead. The
   * check is one `lstat` of an inode just used (no wait for the disk), made here in the thread.
   */
  #takeSpare(): string | undefined {
    for (let spare = this.#ready.pop(); spare !== undefined; spare = this.#ready.pop()) {
      try {
        const info = lstatSync(spare);
        if (info.isFile() && info.nlink === 1) return spare;
        unlinkSync(spare);
      } catch {
        // Gone, or not ours to remove: not a spare any more.
      }
      this.#count--;
    }
    return undefined;
  }

  /**
   * Replaces the existing file `path` with `text`: writes a spare (or a new temporary file when
   * none is ready), keeps the old file as a spare (a hard link) and renames the written file
   * over `path`. False when it could not (another file system, the file gone): nothing was
   * replaced, and the caller writes the file the usual way.
   */
  async replace(path: string, text: string): Promise<boolean> {
    await this.load();
    const spare = this.#takeSpare();
    if (spare === undefined && this.#count >= this.#max) return false;
    const temp = spare ?? `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temp, text, spare === undefined ? {} : { flag: SPARE_FLAGS });
    } catch {
      // A spare that cannot be written is let go (a later run lists it again).
      if (spare !== undefined) this.#count--;
      return false;
    }
    let keep: string | undefined = join(
      this.#dir,
      `${process.pid}-${this.#tag}-${++this.#nextName}`,
    );
    try {
      await link(path, keep);
      this.#kept.push(keep);
      this.#count++;
    } catch {
      // Not kept: the rename frees the old file, as without spares.
      keep = undefined;
    }
    try {
      await rename(temp, path);
    } catch {
      // Nothing replaced: a written spare is still a spare.
      if (spare !== undefined) this.#ready.push(spare);
      return false;
    }
    if (spare !== undefined) this.#count--;
    return true;
  }
}
