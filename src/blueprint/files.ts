/**
 * The blueprint files of a repository (docs/repositories.md, docs/blueprints.md): `blueprints/*.yaml` applied in file-name
 * order; a name starting with `_` is archived (inactive); `--archive` renames applied files to
 * `_<name>`.
 *
 * @module
 */
import { readdir, readFile, rename, stat } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { InputError } from "../errors.ts";
import { type BlueprintDoc, readBlueprint } from "./read.ts";

/** Whether a file name is a blueprint: `.yaml` or `.yml`, not hidden. */
function isBlueprintName(name: string): boolean {
  return !name.startsWith(".") && /\.ya?ml$/.test(name);
}

/**
 * The active blueprints of a repository, as absolute paths in file-name order (by UTF-16 code
 * units, the same on every machine and locale): `.yaml` and `.yml` files directly in
 * `blueprints/`, except names starting with `_` (archived) or `.`. No `blueprints/` folder
 * means no blueprints.
 */
export function listBlueprints(repoPath: string): Promise<string[]> {
  return listBlueprintFolder(join(repoPath, "blueprints"));
}

/**
 * The active blueprints of a folder, as {@link listBlueprints} lists `blueprints/`: `.yaml` and
 * `.yml` files directly in it, not `_` or `.` names, in file-name order. No folder, none.
 */
export async function listBlueprintFolder(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith("_") || !isBlueprintName(name)) continue;
    if ((await stat(join(folder, name))).isFile()) files.push(join(folder, name));
  }
  return files;
}

/** Options of {@link readBlueprintFiles}. */
export interface ReadBlueprintFilesOptions {
  /** Locations name files relative to this folder (e.g. the current folder). */
  relativeTo?: string;
}

/**
 * Reads blueprint files in the order given (a unit). A missing file is an {@link InputError};
 * every reading error carries `file:line:column`.
 */
export async function readBlueprintFiles(
  paths: readonly string[],
  options: ReadBlueprintFilesOptions = {},
): Promise<BlueprintDoc[]> {
  const docs: BlueprintDoc[] = [];
  for (const path of paths) {
    const shown = options.relativeTo === undefined ? path : relative(options.relativeTo, path);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EISDIR") {
        throw new InputError(`${shown}: no such blueprint file`);
      }
      throw error;
    }
    docs.push(readBlueprint(bytes, { file: shown }));
  }
  return docs;
}

/**
 * Renames applied blueprints to `_<name>` (`--archive`). Every target is checked first, so
 * an existing `_<name>` stops the whole archive before anything is renamed. Returns the new
 * paths.
 */
export async function archiveBlueprints(paths: readonly string[]): Promise<string[]> {
  const targets: string[] = [];
  for (const path of paths) {
    const name = basename(path);
    if (name.startsWith("_")) {
      targets.push(path);
      continue;
    }
    const target = join(dirname(path), `_${name}`);
    if (await stat(target).catch(() => null)) {
      throw new InputError(`cannot archive ${path}: ${target} exists`);
    }
    targets.push(target);
  }
  for (let i = 0; i < paths.length; i++) {
    if (targets[i] !== paths[i]) await rename(paths[i], targets[i]);
  }
  return targets;
}
