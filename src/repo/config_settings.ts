/**
 * What `.ays/config.yaml` may hold (docs/repositories.md), shared by its two readers: the quick
 * one of plain `key: value` lines (`config.ts`) and the YAML one (`config_yaml.ts`).
 *
 * @module
 */
import { join } from "node:path";

/** The settings of `.ays/config.yaml`. */
export interface RepoConfig {
  /** The repository's name; default the folder's name. */
  name?: string;
  /** Store URL (SQLite path or `redis://…`). */
  store?: string;
  /** Default `--parallel` of runs. */
  parallel?: number;
  /** `v81`: apply blueprints as v8.1 did, with a warning each (docs/from-v81.md). */
  compat?: "v81";
  /** v8.1's noexec: runs record actions as done without executing them (`ays noexec`). */
  noexec?: boolean;
  /**
   * The isolation of actions whose `actor.yaml` names none (default `pool`; docs/runs.md,
   * "Memory limits").
   */
  isolation?: "pool" | "job" | "process";
  /** Bytes an `isolation: process` job may use when its action gives no `memory:` (1 GiB). */
  memory?: number;
  /** Runs send their jobs to the fleet of `ays worker`s (docs/fleet.md); Redis store only. */
  fleet?: boolean;
}

/** The settings, in the order a parsed config holds them. */
export const SETTING_NAMES: readonly (keyof RepoConfig)[] = [
  "name",
  "store",
  "parallel",
  "compat",
  "noexec",
  "isolation",
  "memory",
  "fleet",
];

/**
 * Repository names go into Redis keys and HTTP paths, so they are kept to characters that
 * need no escaping there.
 */
export const REPO_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The path of a repository's config file. */
export function repoConfigPath(repoPath: string): string {
  return join(repoPath, ".ays", "config.yaml");
}
