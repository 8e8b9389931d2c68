/**
 * Actor records keep their paths relative to the repository root (docs/repositories.md,
 * "Moving, renaming and copying a repository"), so that a moved or copied repository runs its
 * own actions files. Records stored by older ays hold absolute paths: a path into some
 * folder's `actorTemplates/` is read as the same path in this repository.
 *
 * @module
 */
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { ActorRecord } from "../model/mod.ts";

/** The folder every template lives under (docs/repositories.md, "Layout"). */
const TEMPLATES_SEGMENT = `${sep}actorTemplates${sep}`;

/** `path` relative to `root` (with `/`) when it lies inside it; otherwise unchanged. */
function toStored(path: string, root: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(root, path);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return path;
  return rel.split(sep).join("/");
}

/** A stored path made absolute against `root`; an old absolute template path is rebased. */
function toLoaded(path: string, root: string): string {
  if (!isAbsolute(path)) return resolve(root, path);
  if (path.startsWith(root + sep)) return path;
  const at = path.indexOf(TEMPLATES_SEGMENT);
  return at < 0 ? path : join(root, path.slice(at + 1));
}

/** The actor as it is stored: its template and actions paths relative to `repoPath`. */
export function storedActorPaths(actor: ActorRecord, repoPath: string): ActorRecord {
  const root = resolve(repoPath);
  return {
    ...actor,
    templatePath: toStored(actor.templatePath, root),
    actionsPath: actor.actionsPath === null ? null : toStored(actor.actionsPath, root),
  };
}

/** The actor as it is used: its paths absolute, inside the repository at `repoPath`. */
export function loadedActorPaths(actor: ActorRecord, repoPath: string): ActorRecord {
  const root = resolve(repoPath);
  return {
    ...actor,
    templatePath: toLoaded(actor.templatePath, root),
    actionsPath: actor.actionsPath === null ? null : toLoaded(actor.actionsPath, root),
  };
}
