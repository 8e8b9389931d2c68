/**
 * The v8.1 repository marker (`docs/from-v81.md`): a v8.1 repository marks its root with an
 * empty FILE `.ays`, where this ays keeps a folder `.ays/` (config and the embedded store). The
 * embedded store turns the marker into the folder when it writes for the first time, so reading
 * a v8.1 repository changes nothing on disk.
 *
 * @module
 */
import { mkdirSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname } from "node:path";
import { InputError } from "../errors.ts";

/** Whether `path` is a v8.1 marker: an empty regular file named `.ays`. */
export function isV81Marker(path: string): boolean {
  if (basename(path) !== ".ays") return false;
  try {
    const stat = statSync(path);
    return stat.isFile() && stat.size === 0;
  } catch {
    return false;
  }
}

/**
 * Makes sure the folder that will hold the store file `storePath` exists: creates it (with its
 * parents) when missing, and replaces a v8.1 marker file `.ays` by the folder. Any other file in
 * the way is refused with InputError, since removing it could lose someone's data.
 */
export function ensureStoreFolder(storePath: string): void {
  const folder = dirname(storePath);
  let stat;
  try {
    stat = statSync(folder);
  } catch {
    mkdirSync(folder, { recursive: true });
    return;
  }
  if (stat.isDirectory()) return;
  if (isV81Marker(folder)) {
    unlinkSync(folder);
    mkdirSync(folder);
    return;
  }
  throw new InputError(`${folder} is a file, not a folder: cannot create the store there`);
}
