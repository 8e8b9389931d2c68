/**
 * The registry of repositories behind `ays repos` (docs/repositories.md): the file
 * `$XDG_CONFIG_HOME/ays/repos` (default `~/.config/ays/repos`), one repository per line as
 * `name<TAB>absolute path`, sorted by path. It is written atomically (a temporary file renamed
 * over it) and only when it changes; failing to write it is a warning, never an error, because
 * it is a convenience and must not stop the command that opened the repository.
 *
 * @module
 */
import { UnavailableError } from "../errors.ts";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** One recorded repository. */
export interface RegistryEntry {
  name: string;
  /** Absolute path of the repository root. */
  path: string;
}

/** Options of the registry functions: where `XDG_CONFIG_HOME` and `HOME` come from. */
export interface RegistryOptions {
  env: Record<string, string | undefined>;
}

/** The registry file's path. */
export function registryPath(options: RegistryOptions): string {
  const xdg = options.env.XDG_CONFIG_HOME;
  if (xdg && xdg.length > 0) return join(xdg, "ays", "repos");
  // `node:os` only when HOME is not set either: loading it costs the start of every command.
  const home = options.env.HOME || process.getBuiltinModule("node:os").homedir();
  const base = join(home, ".config");
  return join(base, "ays", "repos");
}

/** Reads the registry; a missing file is an empty registry and malformed lines are skipped. */
export function readRegistry(options: RegistryOptions): Promise<RegistryEntry[]> {
  // A promise still (a failure rejects it), though the read is a blocking one: see
  // src/repo/find.ts (`statOrNull`).
  return new Promise((done) => done(readRegistryNow(options)));
}

/** {@link readRegistry}'s work, as a blocking read. */
function readRegistryNow(options: RegistryOptions): RegistryEntry[] {
  let text: string;
  try {
    text = readFileSync(registryPath(options), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new UnavailableError(
      `cannot read the repository registry ${registryPath(options)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseRegistry(text);
}

/** Parses the registry's text. */
function parseRegistry(text: string): RegistryEntry[] {
  const entries: RegistryEntry[] = [];
  for (const line of text.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab <= 0 || tab === line.length - 1) continue;
    entries.push({ name: line.slice(0, tab), path: line.slice(tab + 1) });
  }
  return entries;
}

/** What {@link registerRepo} has to say. */
export interface RegisterResult {
  /** Whether the file was (re)written. */
  written: boolean;
  /** Problems writing the registry; the caller prints them as warnings. */
  warnings: string[];
}

/**
 * Records a repository (or updates its name). Never throws: a registry that cannot be read or
 * written gives a warning.
 */
export async function registerRepo(
  entry: RegistryEntry,
  options: RegistryOptions,
): Promise<RegisterResult> {
  const file = registryPath(options);
  const path = resolve(entry.path);
  if (/[\t\n\r]/.test(path) || /[\t\n\r]/.test(entry.name)) {
    return {
      written: false,
      warnings: [`not recorded in ${file}: the repository path or name holds a tab or newline`],
    };
  }
  try {
    const entries = await readRegistry(options);
    const known = entries.find((e) => e.path === path);
    if (known && known.name === entry.name) return { written: false, warnings: [] };
    const next = entries.filter((e) => e.path !== path);
    next.push({ name: entry.name, path });
    next.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await writeAtomically(file, next.map((e) => `${e.name}\t${e.path}\n`).join(""));
    return { written: true, warnings: [] };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { written: false, warnings: [`could not record the repository in ${file}: ${reason}`] };
  }
}

/** Writes a file so that readers see the old or the new content, never a part. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const { mkdir, rename, rm, writeFile } = process.getBuiltinModule("node:fs/promises");
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await writeFile(temp, content);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
}
