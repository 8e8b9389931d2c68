/**
 * Opening a repository and its store for a command, the same way for every command: find the
 * repository, open the store the flags, environment and config select, hold the repository
 * lock for writing commands, print warnings to stderr, and close everything afterwards.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { type OpenedRepo, openRepo, REPO_NAME_PATTERN, writeRepoSetting } from "../repo/mod.ts";
import {
  currentHolder,
  type HeldLock,
  holdRepoLock,
  type MirrorContent,
  openRepositoryStore,
  type RepoStore,
  type StoreDriver,
  storeNeverWritten,
} from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { type GlobalOptions, globalsOf } from "./global_options.ts";

/** A repository and its store, opened by {@link openSession}; close `driver` when done. */
export interface OpenedSession {
  repo: OpenedRepo;
  store: RepoStore;
  driver: StoreDriver;
  /** The store URL with any password masked. */
  location: string;
  /** The store URL as given, password included: never print it (`ays run --fleet` uses it). */
  url: string;
  /** Prints a warning on stderr (unless `--quiet`). */
  warn(text: string): void;
  /** Reads the repository's mirror, its module loaded at the call (src/store/open.ts). */
  readMirror(): Promise<MirrorContent>;
}

/** What a command gets to work with. */
export interface Session extends OpenedSession {
  globals: GlobalOptions;
  /** The repository lock, when the command writes. */
  lock: HeldLock | null;
}

/** Options of {@link openSession}. */
export interface OpenSessionOptions {
  /** The repository's path (a `--repo`); default the last `--repo`, else the current folder. */
  repoFlag?: string;
  /** Keep the readable mirror up to date after every change (writing commands). */
  mirror?: boolean;
  /**
   * Called with the repository before its store opens; throw to refuse it (`ays daemon`
   * refuses two repositories of one name).
   */
  checkRepo?: (repo: OpenedRepo) => void;
  /**
   * The command rebuilds or clears the store (`ays restore`, `ays destroy`): a store without
   * records while the mirror has some is not refused as a lost store (`docs/store.md`).
   */
  rebuild?: boolean;
}

/** Options of {@link withSession}. */
export interface SessionOptions {
  /**
   * A writing command: keeps the mirror up to date and holds the repository lock for the
   * whole command (docs/runs.md: a writer while a run holds the lock exits 3).
   */
  write?: boolean;
  /** Wait for the lock instead of exiting 3 (`--wait`). */
  wait?: boolean;
  /** See {@link OpenSessionOptions.rebuild}. */
  rebuild?: boolean;
}

/** Prints `ays: warning: …` on stderr unless quiet. */
export function warner(ctx: CliContext, globals: GlobalOptions): (text: string) => void {
  return (text) => {
    if (!globals.quiet) ctx.io.stderr(`ays: warning: ${text}\n`);
  };
}

/**
 * Finds the repository (printing its warnings), then opens the store the flags, environment
 * and config select. The caller closes `driver`.
 */
export async function openSession(
  ctx: CliContext,
  globals: GlobalOptions,
  options: OpenSessionOptions = {},
): Promise<OpenedSession> {
  const opening = await findSessionRepo(ctx, globals, options);
  return await openSessionStore(ctx, globals, opening, options);
}

/** The second half of {@link openSession}: the store of the repository found. */
async function openSessionStore(
  ctx: CliContext,
  globals: GlobalOptions,
  opening: OpenedRepo,
  options: OpenSessionOptions,
): Promise<OpenedSession> {
  const warn = warner(ctx, globals);
  const defaultName = opening.config.name === undefined;
  const opened = await openRepositoryStore({
    ...storeChoice(ctx, globals, opening),
    defaultName,
    mirror: Boolean(options.mirror),
    onMirrorError: (error) => warn(`the mirror was not written: ${String(error)}`),
    rebuild: options.rebuild,
  });
  const repo = { ...opening, name: opened.repoName };
  if (defaultName && options.mirror) await fixName(repo, warn);
  return {
    repo,
    store: opened.store,
    driver: opened.driver,
    location: opened.location,
    url: opened.url,
    warn,
    readMirror: opened.readMirror,
  };
}

/** Finds the repository of a command and prints its warnings. */
async function findSessionRepo(
  ctx: CliContext,
  globals: GlobalOptions,
  options: OpenSessionOptions,
): Promise<OpenedRepo> {
  const opening = await openRepo(ctx.io.cwd, {
    repoFlag: options.repoFlag ?? globals.repo,
    env: ctx.io.env,
  });
  opening.warnings.forEach(warner(ctx, globals));
  options.checkRepo?.(opening);
  return opening;
}

/** The store the flags, the environment and the repository's config select. */
function storeChoice(ctx: CliContext, globals: GlobalOptions, repo: OpenedRepo) {
  return {
    repoPath: repo.path,
    repoName: repo.name,
    storeFlag: globals.store,
    env: ctx.io.env,
    configStore: repo.config.store,
  };
}

/** Options of {@link withReadSession}: what a reading command does with the store, or without one. */
export interface ReadSessionOptions<T> {
  /** Reads the opened store (closed afterwards). */
  read(session: Session): Promise<T>;
  /**
   * The repository's own store file does not exist: nothing was ever written, so there is
   * nothing to read (docs/store.md, "A store never written"). Runs instead of `read`.
   */
  none(repo: OpenedRepo): Promise<T>;
}

/**
 * A reading command: `read` on the repository's store as {@link withGlobals} opens it, or
 * `none` when that store is the repository's own file and it does not exist yet — answered
 * without opening a store or loading the records layer, which is most of a read's start-up
 * (docs/benchmarks.md, "startup"). A mirror that shows records is refused as a lost store
 * either way (docs/store.md).
 */
export async function withReadSession<T>(
  ctx: CliContext,
  globals: GlobalOptions,
  options: ReadSessionOptions<T>,
): Promise<T> {
  const repo = await findSessionRepo(ctx, globals, {});
  if (await storeNeverWritten(storeChoice(ctx, globals, repo))) return await options.none(repo);
  const opened = await openSessionStore(ctx, globals, repo, {});
  try {
    return await options.read({ ...opened, globals, lock: null });
  } finally {
    await opened.driver.close();
  }
}

/**
 * A writing command records the name a repository without `name:` is known by, so that it
 * keeps it when its folder is renamed, moved or copied (docs/repositories.md). A folder name
 * that is no valid name stays unrecorded; a config that cannot be written is a warning.
 */
async function fixName(repo: OpenedRepo, warn: (message: string) => void): Promise<void> {
  if (!REPO_NAME_PATTERN.test(repo.name)) return;
  try {
    await writeRepoSetting(repo.path, { key: "name", value: repo.name });
  } catch (error) {
    warn(`name: ${repo.name} was not recorded in .ays/config.yaml: ${String(error)}`);
  }
}

/** Runs `fn` with the repository of the command opened; always closes the store. */
export async function withSession<T>(
  ctx: CliContext,
  command: CommandUnknownOpts,
  options: SessionOptions,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  return await withGlobals(ctx, globalsOf(command, ctx.io.env), options, fn);
}

/** {@link withSession} with the global options read already (the fast path reads them). */
export async function withGlobals<T>(
  ctx: CliContext,
  globals: GlobalOptions,
  options: SessionOptions,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const opened = await openSession(ctx, globals, {
    mirror: options.write,
    rebuild: options.rebuild,
  });
  let lock: HeldLock | null = null;
  try {
    if (options.write) {
      lock = await holdRepoLock(opened.driver, currentHolder(), { wait: options.wait });
    }
    return await fn({ ...opened, globals, lock });
  } finally {
    await lock?.release();
    await opened.driver.close();
  }
}

/** Writes `value` as indented JSON on stdout. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.stdout(JSON.stringify(value, null, 2) + "\n");
}

/** Items written per write by {@link printJsonList}. */
const JSON_BATCH = 512;

/**
 * Writes `items` as indented JSON on stdout, byte for byte what {@link printJson} writes for the
 * array, a batch of items at a time: a list of 100,000 services is never one 40 MB string.
 */
export function printJsonList(ctx: CliContext, items: readonly unknown[]): void {
  if (items.length === 0) return printJson(ctx, items);
  // A batch stringified as an array is its items as the whole array holds them, between
  // "[\n" and "\n]": the batches' insides joined by ",\n" are the whole array's.
  for (let start = 0; start < items.length; start += JSON_BATCH) {
    const batch = JSON.stringify(items.slice(start, start + JSON_BATCH), null, 2);
    const inside = batch.slice(2, -2);
    const last = start + JSON_BATCH >= items.length;
    ctx.io.stdout(`${start === 0 ? "[\n" : ""}${inside}${last ? "\n]\n" : ",\n"}`);
  }
}
