/**
 * Rewriting a mirror file in place (`docs/store.md`, "The readable mirror", a run's files).
 *
 * A run rewrites the file of every service whose job ended. Through a temporary file and a
 * rename that is a new inode and the old one freed per file: on the file systems measured, the
 * kernel's share of that was most of the file work of a 2,000-job run. Writing over the file that
 * is there reuses its inode.
 *
 * What keeps that about as safe as the rename against a process killed or a disk full: only
 * files of at most one page (4 KiB, the smallest page Linux has) before and after are written so,
 * with one `pwrite` at offset 0. In practice the kernel copies that whole or not at all (a
 * pending `kill -9` is acted on between pages; a full disk fails before the copy), so the file
 * holds the old text or the new one: a test kills a writer at random moments and once between
 * the write and the cut. A shorter new text is padded with spaces to
 * the old length in that write and only then cut: killed in between, the file is the new JSON with
 * spaces, which reads the same. Linux does not promise it, though: a copy can stop short when the
 * source buffer's memory is not mapped (swapped out), and a kill then leaves a mix. Nor is the
 * write ordered with the size change after a power loss (the file can come back cut short, or
 * followed by zero bytes). A reader at that very moment can see a mix, and two processes writing
 * one file at once can cut each other's text (only after a lock was taken over from a process
 * still alive). The safety net is the same for all of these: the next run with jobs rewrites any
 * file that differs from the store, and `ays restore` refuses an unreadable file by name. Used
 * only for files a run overwrites with a state the store already holds, never for an apply or a
 * restore.
 *
 * @module
 */
import { constants, lstat, open } from "node:fs/promises";

/** The largest file, before or after, that {@link rewriteInPlace} writes over: one page. */
export const IN_PLACE_MAX_BYTES = 4096;

/** Options of {@link rewriteInPlace}. */
export interface RewriteInPlaceOptions {
  /**
   * Called after the write and before the cut of a shorter text: a seam for the test that kills
   * the writer exactly there. Nothing calls it otherwise.
   */
  beforeCut?: () => void;
}

/**
 * Overwrites the file at `path` with `text` in one write from its start (padded with spaces to
 * the old length), then cuts it to the text's length. Writes only a regular file with one link
 * (a file hard-linked elsewhere would change there too) when it and the text are at most
 * {@link IN_PLACE_MAX_BYTES}: looked at with `lstat` before it is opened (never a device, a FIFO
 * or a link's target), opened without following a link, and checked to be the same file once
 * open. Resolves `false` when it did not rewrite the file, so the caller writes it through a
 * temporary file and a rename. A failed write or cut rejects, the file holding the old text or
 * the new one (padded, when the cut failed).
 *
 * @example
 * ```ts
 * if (!(await rewriteInPlace(path, text))) await writeThroughRename(path, text);
 * ```
 */
export async function rewriteInPlace(
  path: string,
  text: string,
  options: RewriteInPlaceOptions = {},
): Promise<boolean> {
  const { beforeCut } = options;
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
    if (old > data.length) {
      beforeCut?.();
      await handle.truncate(data.length);
    }
    return true;
  } finally {
    await handle.close();
  }
}

/** Whether a file so described may be written over: regular, one link, at most a page. */
function writableInPlace(stat: { isFile(): boolean; nlink: number; size: number }): boolean {
  return stat.isFile() && stat.nlink === 1 && stat.size <= IN_PLACE_MAX_BYTES;
}

/**
 * `data` grown to `length` bytes with spaces. After the text, not before its last newline: the
 * cut to the text's length must leave exactly the text, and a file left padded by a kill (a
 * last line of spaces) is rewritten by the next run anyway.
 */
function padWithSpaces(data: Uint8Array, length: number): Uint8Array {
  const page = new Uint8Array(length).fill(0x20);
  page.set(data);
  return page;
}
