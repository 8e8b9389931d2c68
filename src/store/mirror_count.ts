/**
 * The mirror's file names and its count of actor and service files, apart from
 * `src/store/mirror.ts`: the count is what a reading command's start needs of the mirror (is
 * the store empty while the mirror shows records? `src/store/open.ts`), and this module loads
 * neither the mirror's writers nor `node:fs/promises` — its reads are blocking ones, which
 * cost less there than the runtime's I/O threads (docs/benchmarks.md, "Start-up, fifth pass").
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** File name of a service in its folder. */
export const SERVICE_FILE = "service.json";
/** File name of an actor in its folder. */
export const ACTOR_FILE = "actor.json";

/** How many actor and service files the mirror of the repository at `repoPath` holds. */
export function countMirror(repoPath: string): { actors: number; services: number } {
  return {
    actors: filesNamed(join(repoPath, "actors"), ACTOR_FILE),
    services: filesNamed(join(repoPath, "services"), SERVICE_FILE),
  };
}

/** How many files named `fileName` are under `root` (none when it is missing). */
function filesNamed(root: string, fileName: string): number {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return 0;
  }
  let found = 0;
  for (const entry of entries) {
    if (entry.isDirectory()) found += filesNamed(join(root, entry.name), fileName);
    else if (entry.name === fileName) found++;
  }
  return found;
}
