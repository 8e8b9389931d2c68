/**
 * Rewriting a mirror file in place (`docs/store.md`, "The readable mirror", a run's files).
 *
 * A run rewrites the file of every service whose job ended. Through a temporary file and a
 * rename that is a new inode and the old one freed per file: on the file systems measured, the
 * kernel's share of that was most of the file work of a 2,000-job run. Writing over the file that
 * is there reuses its inode.
 *
 * What keeps that as safe as the rename against a process killed or a disk full: only files of at
 * most one page (4 KiB, the smallest page Linux has) before and after are written so, with one
 * `pwrite` at offset 0. The kernel copies one page whole or not at all (a pending `kill -9` is
 * checked before each page; a full disk fails before the copy), so the file holds the old text or
 * the new one. A shorter new text is padded with spaces to the old length in that write and only
 * then cut: killed in between, the file is the new JSON followed by spaces, which reads the same.
 * What it gives up: a reader at that very moment can see a mix (the copy is not atomic for
 * readers), and two processes writing the same file at once can cut each other's text (only after
 * a lock was taken over from a process still alive). The next run brings any such file back in line
 * (every run first rewrites each file that differs from the store). Used only for files a run
 * overwrites with a state the store already holds, never for an apply or a restore.
 *
 * @module
 */
import { constants, lstat, open } from "node:fs/promises";

/** The largest file, before or after, that {@link rewriteInPlace} writes over: one page. */
export const IN_PLACE_MAX_BYTES = 4096;

/**
 * Overwrites the file at `path` with `text` in one write from its start (padded with spaces to
 * the old length), then cuts it to the text's length. Writes only a regular file with one link
 * (a file hard-linked elsewhere would change there too) when it and the text are at most
 * {@link IN_PLACE_MAX_BYTES}: looked at with `lstat` before it is opened (never a device, a FIFO
 * or a link's target), opened without following a link, and checked to be the same file once
 * open. Resolves `false` when it did not rewrite the file, so the caller writes it through a
 * temporary file and a rename; a failed write rejects, the file as it was.
 *
 * @example
 * ```ts
 * if (!(await rewriteInPlace(path, text))) await writeThroughRename(path, text);
 * ```
 */
export async function rewriteInPlace(path: string, text: string): Promise<boolean> {
  const data = new TextEncoder().encode(text);
  if (data.length > IN_PLACE_MAX_BYTES) return false;
  let seen;
  try {
    seen = await lstat(path);
  } catch {
    return false;
  }
  if (!writableInPlace(seen)) return false;
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    // Replaced between the look and the open: the rename deals with whatever is there now.
    if (stat.ino !== seen.ino || stat.dev !== seen.dev || !writableInPlace(stat)) return false;
    const old = stat.size;
    const page = old > data.length ? padWithSpaces(data, old) : data;
    const { bytesWritten } = await handle.write(page, 0, page.length, 0);
    // A short write of one page is not expected from Linux; the rename then replaces the file.
    if (bytesWritten !== page.length) return false;
    if (old > data.length) await handle.truncate(data.length);
    return true;
  } finally {
    await handle.close();
  }
}

function writableInPlace(stat: { isFile(): boolean; nlink: number; size: number }): boolean {
  return stat.isFile() && stat.nlink === 1 && stat.size <= IN_PLACE_MAX_BYTES;
}

function padWithSpaces(data: Uint8Array, length: number): Uint8Array {
  const page = new Uint8Array(length).fill(0x20);
  page.set(data);
  return page;
}
