/**
 * The readable mirror of a repository (`docs/store.md`, "The readable mirror"):
 * `actors/<actor>/actor.json` and `services/<role>!<instance>/service.json`, children nested in
 * their parent's folder, for people and for git diffs. The store stays the source of truth; {@link readMirror} is what
 * `ays restore` rebuilds the store from.
 *
 * Secret fields (a `secret` field spec, e.g. `type:password`) are never written: after a
 * restore they are empty, and {@link readMirror} lists them.
 *
 * Writing is incremental: only files whose content changed are written (each through a
 * temporary file and a rename, so a reader never sees half a file), and mirror files of
 * services or actors that are gone are removed with the folders they leave empty.
 *
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import process from "node:process";
import { InputError } from "../errors.ts";
import { type ActorRecord, serviceName, type ServiceRecord } from "../model/mod.ts";

/** File name of a service in its folder. */
export const SERVICE_FILE = "service.json";
/** File name of an actor in its folder. */
export const ACTOR_FILE = "actor.json";

/** What {@link readMirror} found. */
export interface MirrorContent {
  actors: ActorRecord[];
  services: ServiceRecord[];
  /** Secret fields that the mirror cannot hold, which are empty after a restore. */
  emptiedSecrets: { service: string; field: string }[];
}

/** What {@link writeMirror} did. */
export interface MirrorWriteResult {
  written: number;
  removed: number;
  unchanged: number;
}

/**
 * Some mirror files could not be written (e.g. ENAMETOOLONG for a very long instance name);
 * the others were. `failures` holds each file's path (relative to the repository) and error.
 */
export class MirrorWriteError extends Error {
  readonly failures: readonly { path: string; error: unknown }[];

  constructor(failures: readonly { path: string; error: unknown }[]) {
    const reasons = failures.map(({ path, error }) =>
      `${path}: ${error instanceof Error ? error.message : String(error)}`
    );
    super(`${failures.length} mirror file(s) not written: ${reasons.join("; ")}`);
    this.name = "MirrorWriteError";
    this.failures = failures;
  }
}

/** A folder name for a name: `/` cannot appear in one, nor can a leading dot hide it. */
function folderName(name: string): string {
  return name.replaceAll("%", "%25").replaceAll("/", "%2F").replace(/^\./, "%2E");
}

function secretsOf(actor: ActorRecord | undefined): Set<string> {
  return new Set((actor?.fields ?? []).filter((f) => f.secret).map((f) => f.camelName));
}

/** The mirror text of a service: its record without the secret fields of its data. */
export function serviceMirrorText(service: ServiceRecord, actor: ActorRecord | undefined): string {
  const secret = secretsOf(actor);
  const data: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(service.data)) {
    if (!secret.has(name)) data[name] = value;
  }
  return JSON.stringify({ ...service, data }, null, 2) + "\n";
}

/** Relative paths of every service's mirror file; a child sits in its parent's folder. */
export function servicePaths(
  services: readonly Pick<ServiceRecord, "key" | "role" | "name" | "parent">[],
): Map<string, string> {
  const byName = new Map(services.map((s) => [serviceName(s.role, s.name), s]));
  const paths = new Map<string, string>();
  const folderOf = (
    service: Pick<ServiceRecord, "role" | "name" | "parent">,
    depth: number,
  ): string => {
    const name = serviceName(service.role, service.name);
    const own = folderName(name);
    const parent = service.parent ? byName.get(service.parent) : undefined;
    // A missing parent or a cycle (refused by blueprints anyway) puts it at the top.
    if (!parent || depth > byName.size) return own;
    return join(folderOf(parent, depth + 1), own);
  };
  for (const service of services) {
    paths.set(service.key, join("services", folderOf(service, 0), SERVICE_FILE));
  }
  return paths;
}

async function filesNamed(root: string, fileName: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name === fileName) found.push(path);
    }
  };
  await walk(root);
  return found;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = join(path, "..");
  await mkdir(dir, { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}

/** Removes `dir` and its parents up to `stop` while they are empty. */
async function pruneEmpty(dir: string, stop: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stop) && current !== stop) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = join(current, "..");
  }
}

/**
 * Writes the given mirror files (paths relative to `repoPath`) whose text differs from what is
 * on disk, and nothing else. For changes that move or remove nothing. A file that cannot be
 * written does not stop the others: afterwards a {@link MirrorWriteError} names each failure.
 */
export async function writeMirrorFiles(
  repoPath: string,
  files: ReadonlyMap<string, string>,
): Promise<MirrorWriteResult> {
  const result: MirrorWriteResult = { written: 0, removed: 0, unchanged: 0 };
  const failures: { path: string; error: unknown }[] = [];
  for (const [path, text] of files) {
    const absolute = join(repoPath, path);
    if ((await readText(absolute)) === text) {
      result.unchanged++;
      continue;
    }
    try {
      await writeAtomically(absolute, text);
      result.written++;
    } catch (error) {
      failures.push({ path, error });
    }
  }
  if (failures.length > 0) throw new MirrorWriteError(failures);
  return result;
}

/**
 * Brings `actors/` and `services/` of the repository at `repoPath` in line with the given
 * records: writes what changed, removes what is gone. A file that cannot be written does not
 * stop the others: afterwards a {@link MirrorWriteError} names each failure.
 */
export async function writeMirror(
  repoPath: string,
  content: { actors: readonly ActorRecord[]; services: readonly ServiceRecord[] },
): Promise<MirrorWriteResult> {
  const actorsByName = new Map(content.actors.map((a) => [a.name, a]));
  const wanted = new Map<string, string>();
  for (const actor of content.actors) {
    wanted.set(
      join(repoPath, "actors", folderName(actor.name), ACTOR_FILE),
      JSON.stringify(actor, null, 2) + "\n",
    );
  }
  const paths = servicePaths(content.services);
  for (const service of content.services) {
    wanted.set(
      join(repoPath, paths.get(service.key)!),
      serviceMirrorText(service, actorsByName.get(service.actor)),
    );
  }
  const result: MirrorWriteResult = { written: 0, removed: 0, unchanged: 0 };
  const existing = [
    ...(await filesNamed(join(repoPath, "actors"), ACTOR_FILE)),
    ...(await filesNamed(join(repoPath, "services"), SERVICE_FILE)),
  ];
  for (const path of existing) {
    if (wanted.has(path)) continue;
    await rm(path, { force: true });
    result.removed++;
    const top = path.includes(`${join(repoPath, "actors")}`) ? "actors" : "services";
    await pruneEmpty(join(path, ".."), join(repoPath, top));
  }
  const failures: { path: string; error: unknown }[] = [];
  for (const [path, text] of wanted) {
    if ((await readText(path)) === text) {
      result.unchanged++;
      continue;
    }
    try {
      await writeAtomically(path, text);
      result.written++;
    } catch (error) {
      failures.push({ path: relative(repoPath, path), error });
    }
  }
  if (failures.length > 0) throw new MirrorWriteError(failures);
  return result;
}

/**
 * Reads the mirror back: every `actor.json` and `service.json`. Secret fields are absent and
 * reported in `emptiedSecrets`. Throws InputError naming the file for unreadable JSON.
 */
export async function readMirror(repoPath: string): Promise<MirrorContent> {
  const parse = async <T>(path: string): Promise<T> => {
    const text = await readFile(path, "utf8");
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new InputError(`not valid JSON: ${(error as Error).message}`, {
        location: { file: relative(repoPath, path) || path },
      });
    }
  };
  const actors: ActorRecord[] = [];
  for (const path of (await filesNamed(join(repoPath, "actors"), ACTOR_FILE)).sort()) {
    actors.push(await parse<ActorRecord>(path));
  }
  const byName = new Map(actors.map((a) => [a.name, a]));
  const services: ServiceRecord[] = [];
  const emptiedSecrets: MirrorContent["emptiedSecrets"] = [];
  for (const path of (await filesNamed(join(repoPath, "services"), SERVICE_FILE)).sort()) {
    const service = await parse<ServiceRecord>(path);
    for (const secret of secretsOf(byName.get(service.actor))) {
      emptiedSecrets.push({ service: serviceName(service.role, service.name), field: secret });
    }
    services.push(service);
  }
  return { actors, services, emptiedSecrets };
}

/** How many actor and service files the mirror of the repository at `repoPath` holds. */
export async function countMirror(repoPath: string): Promise<{ actors: number; services: number }> {
  const [actors, services] = await Promise.all([
    filesNamed(join(repoPath, "actors"), ACTOR_FILE),
    filesNamed(join(repoPath, "services"), SERVICE_FILE),
  ]);
  return { actors: actors.length, services: services.length };
}

/** Removes the mirror of the repository at `repoPath` (its `actors/` and `services/`). */
export async function removeMirror(repoPath: string): Promise<void> {
  for (const folder of ["actors", "services"]) {
    await rm(join(repoPath, folder), { recursive: true, force: true });
  }
}
