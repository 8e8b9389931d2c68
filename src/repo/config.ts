/**
 * `.ays/config.yaml` (docs/repositories.md): all optional — `name`, `store` (URL), `parallel` (default for
 * runs), `compat`, `noexec`, `isolation` and `memory` (defaults of the action settings) — and the repository's name that follows from it.
 *
 * Every command reads the file, and most files are a few plain `key: value` lines: those are
 * read here, without the YAML parser and the schema, whose loading alone cost `ays list` more
 * than the rest of its start-up (docs/benchmarks.md, "start-up"). Anything else — quotes, an
 * unusual value, a mistake — goes to `config_yaml.ts`, which reads every YAML form and reports
 * every error at its `file:line:column`. The quick reader only ever accepts what the YAML
 * reader reads to the same settings (`test/repo/config_test.ts` compares the two).
 *
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { type RepoConfig, repoConfigPath, SETTING_NAMES } from "./config_settings.ts";

export { REPO_NAME_PATTERN, type RepoConfig, repoConfigPath } from "./config_settings.ts";

/**
 * Reads `.ays/config.yaml`. A missing file (or a v8.1 repository whose `.ays` is a file) is
 * an empty config. Syntax errors, unknown keys and wrong values are {@link InputError}s with
 * `file:line:column`.
 */
export async function readRepoConfig(repoPath: string): Promise<RepoConfig> {
  const file = repoConfigPath(repoPath);
  // Blocking reads: see src/repo/find.ts (`statOrNull`).
  if (!isFolder(join(repoPath, ".ays"))) return {};
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const quick = quickRepoConfig(text);
  if (quick) return quick;
  const { parseRepoConfig } = await import("./config_yaml.ts");
  return parseRepoConfig(text, { file });
}

/** Whether `path` is a folder; false when it cannot be told (missing, no permission). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Sets (or, with `undefined`, removes) one setting of `.ays/config.yaml`, keeping the rest of
 * the file — comments included — as it is. The new file is validated before it is written
 * (through a temporary file and a rename); a v8.1 `.ays` marker file becomes a folder.
 */
export async function writeRepoSetting(
  repoPath: string,
  setting: { key: keyof RepoConfig; value: unknown },
): Promise<RepoConfig> {
  const { writeRepoSettingYaml } = await import("./config_yaml.ts");
  return await writeRepoSettingYaml(repoPath, setting);
}

/** The repository's name: `name:` of its config, else its folder's name (docs/repositories.md). */
export function repoNameOf(repoPath: string, config: RepoConfig): string {
  return config.name ?? basename(repoPath);
}

/** A blank line or a comment. */
const NOTHING = /^[ \t]*(?:#.*)?$/;
/** `key: value`, the value one plain word, maybe a comment after it. */
const SETTING = /^([a-z]+): +([^\s#]+)(?: +(?:#.*)?)?$/;
/** Plain words YAML reads as something other than text. */
const NOT_TEXT = new Set([
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "FALSE",
  "null",
  "Null",
  "NULL",
]);
/** A name that YAML reads as text (it starts with a letter) and that is a valid name. */
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;
/** A store URL that YAML reads as text: a scheme, a colon, then URL characters. */
const PLAIN_STORE = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~/@%+=?&:-]*[A-Za-z0-9._~/@%+=?&-]$/;

/** One setting's value, when `word` is a plain form of a valid value; else undefined. */
function quickValue(key: string, word: string): RepoConfig[keyof RepoConfig] | undefined {
  switch (key) {
    case "name":
      return PLAIN_NAME.test(word) && !NOT_TEXT.has(word) ? word : undefined;
    case "store":
      return PLAIN_STORE.test(word) ? word : undefined;
    case "parallel":
      return /^[1-9][0-9]{0,8}$/.test(word) ? Number(word) : undefined;
    case "compat":
      return word === "v81" ? word : undefined;
    case "noexec":
    case "fleet":
      return word === "true" ? true : word === "false" ? false : undefined;
    case "isolation":
      return word === "pool" || word === "job" || word === "process" ? word : undefined;
  }
  // `memory` and unknown keys: the YAML reader.
  return undefined;
}

/**
 * The settings of a config made only of blank lines, comments and `key: value` lines whose
 * values are plain, valid words; undefined for anything else (the YAML reader decides).
 */
export function quickRepoConfig(text: string): RepoConfig | undefined {
  const found = new Map<string, unknown>();
  for (const line of text.split("\n")) {
    if (NOTHING.test(line)) continue;
    const match = SETTING.exec(line);
    if (!match || found.has(match[1])) return undefined;
    const value = quickValue(match[1], match[2]);
    if (value === undefined) return undefined;
    found.set(match[1], value);
  }
  const config: Record<string, unknown> = {};
  for (const key of SETTING_NAMES) if (found.has(key)) config[key] = found.get(key);
  return config as RepoConfig;
}
