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
 * temporary file and a rename, so a reader never sees half a file — but for the files of
 * services a run's jobs ended, rewritten in place: `mirror_rewrite.ts`), and mirror files of
 * services or actors that are gone are removed with the folders they leave empty. Files are
 * written {@link MIRROR_WRITERS} at once; each folder is created once, before the first file
 * in it, and a file known not to exist yet is not read first (a failed open per file and a
 * `mkdir -p` per file cost more than the writes themselves at 10,000 services).
 *
 * @module
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import process from "node:process";
import { InputError } from "../errors.ts";
import { type ActorRecord, serviceName, type ServiceRecord } from "../model/mod.ts";

import { ACTOR_FILE, SERVICE_FILE } from "./mirror_count.ts";
import { rewriteInPlace } from "./mirror_rewrite.ts";

export { ACTOR_FILE, SERVICE_FILE };

/** Mirror files written at once. */
export const MIRROR_WRITERS = 16;

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

/**
 * Whether two versions of an actor leave the same fields out of its services' mirror files
 * (when not, every file of its services changes).
 */
export function sameMirrorSecrets(a: ActorRecord, b: ActorRecord): boolean {
  const before = secretsOf(a);
  const after = secretsOf(b);
  return before.size === after.size && [...before].every((name) => after.has(name));
}

/** The relative path of an actor's mirror file. */
export function actorMirrorPath(name: string): string {
  return join("actors", folderName(name), ACTOR_FILE);
}

/** The mirror text of an actor. */
export function actorMirrorText(actor: ActorRecord): string {
  return JSON.stringify(actor, null, 2) + "\n";
}

/** The mirror text of a service: its record without the secret fields of its data. */
export function serviceMirrorText(service: ServiceRecord, actor: ActorRecord | undefined): string {
  return mirrorTextOf(service, secretsOf(actor));
}

/**
 * {@link serviceMirrorText} for many services of one actor: its secret fields found once, not
 * once per service.
 */
export function serviceMirrorTexts(
  actor: ActorRecord | undefined,
): (service: ServiceRecord) => string {
  const secret = secretsOf(actor);
  return (service) => mirrorTextOf(service, secret);
}

function mirrorTextOf(service: ServiceRecord, secret: ReadonlySet<string>): string {
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
    return folderOf(parent, depth + 1) + sep + own;
  };
  // Joined as `join` would: no part is empty, `.`, `..` or holds a separator (`folderName`
  // escapes them), so there is nothing to normalise (`join` was a fifth of this at 10,000).
  for (const service of services) {
    paths.set(service.key, "services" + sep + folderOf(service, 0) + sep + SERVICE_FILE);
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

/** Whether an error is a missing file or folder. */
function isMissing(error: unknown): boolean {
  return (error as { code?: string })?.code === "ENOENT";
}

/**
 * Creates folders below `root` once each: a folder's parent before it, a folder that exists
 * already costs one failed `mkdir`, and concurrent callers share the one creation.
 */
class Folders {
  readonly #root: string;
  readonly #made = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.#root = root;
  }

  ensure(dir: string): Promise<void> {
    if (dir === this.#root || !dir.startsWith(this.#root)) return Promise.resolve();
    let made = this.#made.get(dir);
    if (!made) {
      made = this.ensure(dirname(dir)).then(() =>
        mkdir(dir).then(() => {}, (error) => {
          if ((error as { code?: string })?.code !== "EEXIST") throw error;
        })
      );
      this.#made.set(dir, made);
    }
    return made;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
async function writeAtomically(
  path: string,
  text: string,
  folders: Folders,
  fresh: boolean,
): Promise<void> {
  if (fresh) await folders.ensure(dirname(path));
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, text);
  } catch (error) {
    if (fresh || !isMissing(error)) throw error;
    // The folder is gone (a file expected to exist was removed by hand).
    await folders.ensure(dirname(path));
    await writeFile(temp, text);
  }
  await rename(temp, path);
}

/** Options of {@link writeMirrorFiles}. */
export interface WriteMirrorFilesOptions {
  /**
   * Paths (as given) known not to exist yet, e.g. of services just created: written without
   * reading them first, their folders created first.
   */
  fresh?: ReadonlySet<string>;
  /**
   * Paths (as given) whose text is known to differ from the file's (a service a job just
   * ended): written without reading them first, over the file that is there when it is a
   * regular file with one link (not atomic: see `mirror_rewrite.ts`), else through a temporary
   * file and a rename.
   */
  changed?: ReadonlySet<string>;
}

/**
 * Writes `files` (absolute path → text), {@link MIRROR_WRITERS} at once; files not `fresh`
 * are read first and left alone when their text is the same. Failures are collected under
 * their `label` (the path relative to the repository).
 */
async function writeFiles(
  root: string,
  files: readonly (readonly [string, string])[],
  options: {
    fresh: (path: string) => boolean;
    label: (path: string) => string;
    changed?: (path: string) => boolean;
  },
): Promise<{ result: MirrorWriteResult; failures: { path: string; error: unknown }[] }> {
  const result: MirrorWriteResult = { written: 0, removed: 0, unchanged: 0 };
  const failures: { path: string; error: unknown }[] = [];
  const folders = new Folders(root);
  let next = 0;
  const writer = async () => {
    while (next < files.length) {
      const [path, text] = files[next++];
      const fresh = options.fresh(path);
      const changed = !fresh && options.changed?.(path) === true;
      if (!fresh && !changed && (await readText(path)) === text) {
        result.unchanged++;
        continue;
      }
      try {
        // A file a job just ended is rewritten over itself: no new inode per job (see
        // mirror_rewrite.ts for what that gives up).
        if (!changed || !(await rewriteInPlace(path, text))) {
          await writeAtomically(path, text, folders, fresh);
        }
        result.written++;
      } catch (error) {
        failures.push({ path: options.label(path), error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MIRROR_WRITERS, files.length) }, writer));
  // Reported in the order given, whichever writer met them.
  const order = new Map(files.map(([path], i) => [options.label(path), i]));
  failures.sort((a, b) => order.get(a.path)! - order.get(b.path)!);
  return { result, failures };
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
  options: WriteMirrorFilesOptions = {},
): Promise<MirrorWriteResult> {
  const { fresh = new Set<string>(), changed = new Set<string>() } = options;
  const byAbsolute = new Map<string, string>();
  const entries = [...files].map(([path, text]) => {
    const absolute = join(repoPath, path);
    byAbsolute.set(absolute, path);
    return [absolute, text] as const;
  });
  const { result, failures } = await writeFiles(repoPath, entries, {
    fresh: (absolute) => fresh.has(byAbsolute.get(absolute)!),
    changed: (absolute) => changed.has(byAbsolute.get(absolute)!),
    label: (absolute) => byAbsolute.get(absolute)!,
  });
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
    wanted.set(join(repoPath, actorMirrorPath(actor.name)), actorMirrorText(actor));
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
  const present = new Set(existing);
  for (const path of existing) {
    if (wanted.has(path)) continue;
    await rm(path, { force: true });
    result.removed++;
    const top = path.includes(`${join(repoPath, "actors")}`) ? "actors" : "services";
    await pruneEmpty(join(path, ".."), join(repoPath, top));
  }
  const written = await writeFiles(repoPath, [...wanted], {
    fresh: (path) => !present.has(path),
    label: (path) => relative(repoPath, path),
  });
  result.written = written.result.written;
  result.unchanged = written.result.unchanged;
  if (written.failures.length > 0) throw new MirrorWriteError(written.failures);
  return result;
}

/**
 * Reads the mirror back: every `actor.json` and `service.json`. Secret fields are absent and
 * reported in `emptiedSecrets`. Unreadable JSON is an InputError located at the first such file
 * whose message names every one of them, so one look tells what to mend before a restore.
 */
export async function readMirror(repoPath: string): Promise<MirrorContent> {
  const broken: { file: string; reason: string }[] = [];
  const parse = async <T>(path: string): Promise<T | undefined> => {
    const text = await readFile(path, "utf8");
    const file = relative(repoPath, path) || path;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      broken.push({ file, reason: (error as Error).message });
      return undefined;
    }
    // `null` or `0` would otherwise be left out, and a restore would delete that service.
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      broken.push({ file, reason: "not a JSON object" });
      return undefined;
    }
    return value as T;
  };
  const actors: ActorRecord[] = [];
  for (const path of (await filesNamed(join(repoPath, "actors"), ACTOR_FILE)).sort()) {
    const actor = await parse<ActorRecord>(path);
    if (actor !== undefined) actors.push(actor);
  }
  const byName = new Map(actors.map((a) => [a.name, a]));
  const services: ServiceRecord[] = [];
  const emptiedSecrets: MirrorContent["emptiedSecrets"] = [];
  for (const path of (await filesNamed(join(repoPath, "services"), SERVICE_FILE)).sort()) {
    const service = await parse<ServiceRecord>(path);
    if (service === undefined) continue;
    for (const secret of secretsOf(byName.get(service.actor))) {
      emptiedSecrets.push({ service: serviceName(service.role, service.name), field: secret });
    }
    services.push(service);
  }
  if (broken.length > 0) throw brokenMirrorError(broken);
  return { actors, services, emptiedSecrets };
}

/** One InputError for every unreadable file: located at the first, naming all of them. */
function brokenMirrorError(broken: { file: string; reason: string }[]): InputError {
  const [first, ...others] = broken;
  const more = others.length === 0
    ? ""
    : `; and ${others.length} more file${others.length === 1 ? "" : "s"} not valid JSON: ${
      others.map((b) => `${b.file} (${b.reason})`).join(", ")
    }`;
  return new InputError(`not valid JSON: ${first.reason}${more}`, {
    location: { file: first.file },
  });
}

/** Removes the mirror of the repository at `repoPath` (its `actors/` and `services/`). */
export async function removeMirror(repoPath: string): Promise<void> {
  for (const folder of ["actors", "services"]) {
    await rm(join(repoPath, folder), { recursive: true, force: true });
  }
}
