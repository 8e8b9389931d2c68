/**
 * Rewriting a mirror file in place (`docs/store.md`, "The readable mirror", a run's files).
 *
 * A run rewrites the file of every service whose job ended. Through a temporary file and a
 * rename that is a new inode and the old one freed per file: on the file systems measured, the
 * kernel's share of that was most of the file work of a 2,000-job run. Writing over the file that
 * is there reuses its inode. The price is that the write is not atomic: a reader can see a file
 * half-written, and a process killed in the middle leaves it so until the next run rewrites it
 * (every run first brings each file that differs from the store up to date). It is therefore
 * used only for files a run overwrites with a state the store already holds, never for an apply
 * or a restore.
 *
 * @module
 */
import { constants, open } from "node:fs/promises";

/**
 * Overwrites the file at `path` with `text`, from its start, then cuts it to the text's length.
 * Only a regular file with one link is written: the last component is opened without following
 * a symbolic link (and without waiting on a FIFO), and a file hard-linked elsewhere would change
 * there too. Resolves `false`, having written nothing, when there is no such file, so the caller
 * falls back to a temporary file and a rename; a failed write rejects.
 *
 * @example
 * ```ts
 * if (!(await rewriteInPlace(path, text))) await writeThroughRename(path, text);
 * ```
 */
export async function rewriteInPlace(path: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.nlink !== 1) return false;
    const data = new TextEncoder().encode(text);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await handle.write(data, done, data.length - done, done);
      if (bytesWritten <= 0) throw new Error(`wrote nothing to ${path}`);
      done += bytesWritten;
    }
    await handle.truncate(data.length);
    return true;
  } finally {
    await handle.close();
  }
}
