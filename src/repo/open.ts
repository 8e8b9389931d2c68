/**
 * Opening the repository a command works on: find it, read its config, know its name, and
 * record it in the registry of `ays repos` (docs/repositories.md: every command that opens a repository
 * adds it there).
 *
 * @module
 */
import { readRepoConfig, type RepoConfig, repoNameOf } from "./config.ts";
import { findRepo, type FoundRepo } from "./find.ts";
import { registerRepo } from "./registry.ts";

/** An opened repository. */
export interface OpenedRepo {
  /** Absolute path of the repository root. */
  path: string;
  /** `name:` of the config, else the folder's name. */
  name: string;
  config: RepoConfig;
  /** `file` for a v8.1 repository whose `.ays` is still an empty file. */
  marker: FoundRepo["marker"];
  /** Warnings for the user (e.g. the registry could not be written). */
  warnings: string[];
}

/** Options of {@link openRepo}. */
export interface OpenRepoOptions {
  /** `--repo PATH`. */
  repoFlag?: string;
  /** The environment (`XDG_CONFIG_HOME`, `HOME`). */
  env: Record<string, string | undefined>;
  /** Leave the registry alone (e.g. for read-only tools in tests). */
  noRegister?: boolean;
}

/**
 * Finds the repository from `cwd` (or `--repo`), reads `.ays/config.yaml` and records the
 * repository in the registry; a registry failure becomes a warning.
 */
export async function openRepo(cwd: string, options: OpenRepoOptions): Promise<OpenedRepo> {
  const found = await findRepo(cwd, { repoFlag: options.repoFlag });
  const config = await readRepoConfig(found.path);
  const name = repoNameOf(found.path, config);
  const warnings: string[] = [];
  if (!options.noRegister) {
    const registered = await registerRepo({ name, path: found.path }, { env: options.env });
    warnings.push(...registered.warnings);
  }
  return { path: found.path, name, config, marker: found.marker, warnings };
}
