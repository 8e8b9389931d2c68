/**
 * Choosing and opening the store (`docs/store.md`, "Choosing the store"): `--store URL` >
 * `AYS_STORE` > `.ays/config.yaml` `store` > the embedded default `.ays/store.db`; the backend
 * follows from the URL's scheme. Also the repository's identity on a store: one name, one folder.
 *
 * @module
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import type { KeyValueStore, StoreDriver } from "./driver.ts";
import { openRedisDriver } from "./redis_open.ts";
import type * as Sqlite from "./sqlite.ts";
import type { MirrorContent } from "./mirror.ts";
import { countMirror } from "./mirror_count.ts";
import type { RepoStore } from "./repo_store.ts";
import { storeLostSinceMirror } from "./store_lost.ts";
import { maskUrl, storeKindOf } from "./url.ts";
import { REPO_PATH_KEY } from "./record_keys.ts";

/** Where a store URL came from. */
export type StoreUrlSource = "flag" | "env" | "config" | "default";

/** Inputs of {@link resolveStoreUrl}. */
export interface ResolveStoreUrlOptions {
  /** The repository root (the folder holding `.ays`). */
  repoPath: string;
  /** `--store URL`. */
  flag?: string;
  /** The environment; `AYS_STORE` is read from it. */
  env?: Record<string, string | undefined>;
  /** `store` from `.ays/config.yaml`. */
  config?: { store?: string | null };
}

/** A chosen store URL and where it came from. */
export interface ResolvedStoreUrl {
  url: string;
  source: StoreUrlSource;
}

/** The default store of a repository: `sqlite:<repo>/.ays/store.db`. */
export function defaultStoreUrl(repoPath: string): string {
  return `sqlite:${join(resolve(repoPath), ".ays", "store.db")}`;
}

/** Picks the store URL: `--store` > `AYS_STORE` > config `store` > the embedded default. */
export function resolveStoreUrl(options: ResolveStoreUrlOptions): ResolvedStoreUrl {
  const pick = (value: string | null | undefined) =>
    typeof value === "string" && value.trim() !== "" ? value.trim() : null;
  const flag = pick(options.flag);
  if (flag) return { url: flag, source: "flag" };
  const env = pick(options.env?.AYS_STORE);
  if (env) return { url: env, source: "env" };
  const config = pick(options.config?.store);
  if (config) return { url: config, source: "config" };
  return { url: defaultStoreUrl(options.repoPath), source: "default" };
}

/**
 * The file a `sqlite:` URL names: `sqlite:/abs/file.db`, `sqlite:///abs/file.db`,
 * `file:///abs/file.db`, or `sqlite:relative.db` (relative to the repository root).
 */
export function sqlitePathOf(url: string, repoPath: string): string {
  const rest = url.replace(/^(sqlite|file):/i, "");
  let path = rest.startsWith("//") ? rest.slice(2) : rest;
  path = decodeURIComponent(path);
  if (path === "") throw new InputError(`no file in store URL ${maskUrl(url)}`);
  return isAbsolute(path) ? path : resolve(repoPath, path);
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** The repository's name: the store namespace. */
  repoName: string;
  /** The repository root; recorded as the owner of the name on shared stores. */
  repoPath: string;
  /** Redis: give up connecting after this long (default 3000 ms). */
  connectTimeoutMs?: number;
}

/** Characters that would make two namespaces collide in `ays:<repo>:<key>`. */
// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const BAD_NAME = /[:\s\u0000-\u001f]/;

/**
 * Opens the store at `url` for one repository. Refuses (InputError) a name that a different
 * folder already uses on the same store; UnavailableError when the store cannot be reached.
 */
export async function openStore(url: string, options: OpenStoreOptions): Promise<StoreDriver> {
  const { driver, shared } = await openDriver(url, options);
  if (!shared) return driver;
  try {
    await claimRepository(driver, { name: options.repoName, repoPath: options.repoPath });
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}

/**
 * Opens the backend `url` names, without claiming the name yet. `shared`: the store may hold
 * other folders' repositories (Redis, or a SQLite file outside the repository), so the name must
 * be claimed before writing.
 */
async function openDriver(
  url: string,
  options: OpenStoreOptions,
): Promise<{ driver: StoreDriver; shared: boolean }> {
  const name = options.repoName;
  checkRepoName(name);
  const kind = storeKindOf(url);
  if (kind === "redis") {
    const driver = await openRedisDriver(url, {
      namespace: name,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    return { driver, shared: true };
  }
  if (kind === "sqlite") {
    const path = sqlitePathOf(url, options.repoPath);
    const driver = (await sqliteModule()).openSqliteDriver(path, { namespace: name });
    // The repository's own file cannot be shared by another folder: nothing to claim (and
    // no reason to write while only reading).
    const own = canonical(dirname(dirname(path))) === canonical(options.repoPath);
    return { driver, shared: !own };
  }
  throw new InputError(
    `unknown store URL ${maskUrl(url)}: use redis://, rediss:// or sqlite:PATH`,
  );
}

/**
 * The SQLite backend's module, loaded at the first open: a read of a store never written does
 * without it and `node:sqlite` (`storeNeverWritten`; docs/benchmarks.md, "Start-up, fifth pass").
 */
function sqliteModule(): Promise<typeof Sqlite> {
  return import("./sqlite.ts");
}

/** Refuses a repository name that cannot key a store namespace (InputError). */
function checkRepoName(name: string): void {
  if (name === "" || BAD_NAME.test(name)) {
    throw new InputError(
      `repository name ${JSON.stringify(name)} cannot be used in a store: ` +
        `no colons, spaces or control characters (set name: in .ays/config.yaml)`,
    );
  }
}

export { REPO_PATH_KEY };

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Records `repoPath` as the owner of this store namespace, or checks that it already is.
 * Atomic (a guarded batch), so two folders racing for one name cannot both win.
 */
export async function claimRepository(
  driver: KeyValueStore,
  owner: { name: string; repoPath: string },
): Promise<void> {
  const { name, repoPath } = owner;
  const mine = canonical(repoPath);
  const encoder = new TextEncoder();
  for (let round = 0; round < 3; round++) {
    const recorded = await driver.get(REPO_PATH_KEY);
    if (recorded !== null) {
      const owner = new TextDecoder().decode(recorded);
      if (owner === mine) return;
      if (!existsSync(join(owner, ".ays"))) {
        // The owner's folder is no repository any more: it was moved (or renamed) to this one,
        // which takes the name over — unless another folder was quicker.
        const moved = await driver.batch(
          [{ op: "set", key: REPO_PATH_KEY, value: encoder.encode(mine) }],
          { guards: [{ key: REPO_PATH_KEY, value: recorded }] },
        );
        if (moved) return;
        continue;
      }
      throw new InputError(
        `the store ${driver.location} already holds a repository named "${name}" at ${owner}; ` +
          `give this one another name (name: in .ays/config.yaml) or use another store`,
      );
    }
    const claimed = await driver.batch(
      [{ op: "set", key: REPO_PATH_KEY, value: encoder.encode(mine) }],
      { guards: [{ key: REPO_PATH_KEY, value: null }] },
    );
    if (claimed) return;
  }
  throw new InputError(`could not record repository "${name}" on ${driver.location}`);
}

/** Options of {@link openRepositoryStore}. */
export interface OpenRepositoryStoreOptions {
  /** The repository root. */
  repoPath: string;
  /** The repository name (config `name:` or the folder's name). */
  repoName: string;
  /** `--store URL`. */
  storeFlag?: string;
  /** The environment (`AYS_STORE`). */
  env?: Record<string, string | undefined>;
  /** `store:` of `.ays/config.yaml`. */
  configStore?: string | null;
  /** Keep the readable mirror up to date after every change (writing commands). */
  mirror?: boolean;
  /** Where a mirror write failure goes (a warning); without it the failure is thrown. */
  onMirrorError?: (error: unknown) => void;
  /**
   * The command rebuilds the store from the mirror (`ays restore`): a store without records
   * while the mirror has some is what it is there for. Every other command refuses such a store
   * as one that lost its data (StoreLostError, exit 4).
   */
  rebuild?: boolean;
  /**
   * `repoName` is only the folder's name (no `name:` in `.ays/config.yaml`). Then the
   * repository's own embedded store, when it holds the records of exactly one other name (the
   * repository was made under an older folder name and moved), keeps being used under that
   * name: see {@link OpenedRepositoryStore.repoName}.
   */
  defaultName?: boolean;
}

/** An opened repository store. */
export interface OpenedRepositoryStore {
  /** The name the store knows the repository by (see `defaultName`). */
  repoName: string;
  /** The records layer. */
  store: RepoStore;
  /** The driver (locks, queues, logs); close it when done. */
  driver: StoreDriver;
  /** The store URL with its password masked. */
  location: string;
  /** The store URL as given (with its password: never print it; the fleet connects to it). */
  url: string;
  /** Where the URL came from. */
  source: StoreUrlSource;
  /**
   * Reads the repository's mirror (`readMirror`: its actor and service files). The mirror's
   * module is loaded at the call: what a reading command's start loads stays without it and
   * its `node:fs/promises` (docs/benchmarks.md, "Start-up, fifth pass").
   */
  readMirror(): Promise<MirrorContent>;
}

/**
 * Everything a command needs to use a repository's store: picks the URL, opens the backend,
 * checks the name, checks (and migrates) the layout version. Close `driver` when done.
 */
export async function openRepositoryStore(
  options: OpenRepositoryStoreOptions,
): Promise<OpenedRepositoryStore> {
  const { url, source } = chosenUrl(options);
  const repoName = options.defaultName
    ? await storedName(url, options.repoPath) ?? options.repoName
    : options.repoName;
  const storeOptions = { repoName, repoPath: options.repoPath };
  const { driver, shared } = await openDriver(url, storeOptions);
  try {
    // Before the claim, which would write to a store that lost its data.
    if (!options.rebuild) await refuseLostStore(driver, options.repoPath);
    if (shared) {
      await claimRepository(driver, { name: repoName, repoPath: options.repoPath });
    }
    // The records layer (codecs, schema model, mirror writer) is loaded here, not with this
    // module: a read of a store never written does without it (`storeNeverWritten`).
    const { openRepoStore } = await import("./repo_store.ts");
    const store = await openRepoStore(driver, {
      repoName,
      repoPath: options.repoPath,
      mirror: options.mirror
        ? { repoPath: options.repoPath, onMirrorError: options.onMirrorError }
        : undefined,
    });
    const readMirror = async () => (await import("./mirror.ts")).readMirror(options.repoPath);
    return { repoName, store, driver, location: driver.location, url, source, readMirror };
  } catch (error) {
    await driver.close();
    throw error;
  }
}

function chosenUrl(options: OpenRepositoryStoreOptions): ResolvedStoreUrl {
  return resolveStoreUrl({
    repoPath: options.repoPath,
    flag: options.storeFlag,
    env: options.env,
    config: { store: options.configStore },
  });
}

/**
 * Whether the store `options` select is the repository's own SQLite file (`.ays/store.db` inside
 * `repoPath`, or another file in that `.ays`) and nothing is at its path: no command ever wrote
 * to it, so it holds no records, and a reading command can answer without opening it or loading
 * the records layer (docs/store.md, "A store never written"). Refuses what
 * {@link openRepositoryStore} refuses before it would read: a bad repository name (InputError),
 * and a mirror that shows actors or services (StoreLostError: the store lost them). False for
 * every other store, including a file elsewhere (opening it claims the name: a write).
 */
export function storeNeverWritten(options: OpenRepositoryStoreOptions): Promise<boolean> {
  // A promise still (a refusal rejects it), though every read is a blocking one
  // (`countMirror`, src/store/mirror_count.ts).
  return new Promise((done) => done(neverWritten(options)));
}

/** {@link storeNeverWritten}'s work, as blocking calls. */
function neverWritten(options: OpenRepositoryStoreOptions): boolean {
  const path = ownSqlitePath(chosenUrl(options).url, options.repoPath);
  if (path === null) return false;
  checkRepoName(options.repoName);
  try {
    statSync(path);
    return false;
  } catch (error) {
    // Anything but "no such file" (a folder on the way, no permission) is for the open to say.
    if ((error as { code?: unknown }).code !== "ENOENT") return false;
  }
  refuseLostMirror("sqlite", path, options.repoPath);
  return true;
}

/**
 * The one name the repository's own SQLite file (`.ays/store.db` inside `repoPath`) holds
 * records under, or null (another store, no file, none or several names). A repository made
 * before `ays init` wrote `name:` was keyed by its folder's name; after a rename of the folder
 * its records are still found this way (docs/repositories.md).
 */
async function storedName(url: string, repoPath: string): Promise<string | null> {
  const path = ownSqlitePath(url, repoPath);
  if (path === null) return null;
  const names = (await sqliteModule()).sqliteNamespaces(path);
  return names.length === 1 ? names[0] : null;
}

/** The path of the SQLite file `url` names when it is in `repoPath`'s own `.ays`; else null. */
function ownSqlitePath(url: string, repoPath: string): string | null {
  if (storeKindOf(url) !== "sqlite") return null;
  const path = sqlitePathOf(url, repoPath);
  return canonical(dirname(dirname(path))) === canonical(repoPath) ? path : null;
}

/**
 * A store that was never written has no layout record. When the repository's mirror still
 * shows actors or services, the store did have records and lost them (a Redis restarted without
 * persistence, a store file replaced): refuse it (StoreLostError) rather than show an empty
 * repository. Costs one read, plus a walk of the mirror only when the record is missing.
 */
async function refuseLostStore(driver: StoreDriver, repoPath: string): Promise<void> {
  if ((await driver.getLayoutVersion()) !== null) return;
  refuseLostMirror(driver.kind, driver.location, repoPath);
}

/** Throws StoreLostError when the mirror of a store with no records shows actors or services. */
function refuseLostMirror(kind: StoreDriver["kind"], location: string, repoPath: string): void {
  const counts = countMirror(repoPath);
  if (counts.actors === 0 && counts.services === 0) return;
  throw storeLostSinceMirror(kind, location, counts);
}
