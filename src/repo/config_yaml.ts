/**
 * `.ays/config.yaml` read and written through the YAML parser and its schema (docs/repositories.md):
 * every error with its `file:line:column`, edits that keep the file's comments. Loaded only when
 * needed (`config.ts`): the plain `key: value` file most repositories have is read without it.
 *
 * @module
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import process from "node:process";
import { Document, isMap, isScalar, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { parseYaml } from "../yaml/mod.ts";
import { parseMemorySize } from "../hrd/mod.ts";
import { ensureAysDir } from "./find.ts";
import { REPO_NAME_PATTERN, type RepoConfig, repoConfigPath } from "./config.ts";

const configSchema = z.strictObject({
  name: z.string().regex(
    REPO_NAME_PATTERN,
    "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'",
  ).optional(),
  store: z.string().min(1, "must not be empty").optional(),
  parallel: z.number().int("must be a whole number").min(1, "must be at least 1").optional(),
  compat: z.literal("v81", { error: "must be v81 (or left out)" }).optional(),
  noexec: z.boolean("must be true or false").optional(),
  isolation: z.enum(["pool", "job", "process"], "must be pool, job or process").optional(),
  memory: z.union([z.string(), z.number()], "must be a memory size such as 512M or 2G")
    .transform((value, ctx) => {
      try {
        return parseMemorySize(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }).optional(),
  fleet: z.boolean("must be true or false").optional(),
});

/** Options of {@link parseRepoConfig}. */
export interface ParseRepoConfigOptions {
  /** The file name used in error locations. */
  file: string;
}

/** Parses and validates the text of `.ays/config.yaml`. */
export function parseRepoConfig(text: string, options: ParseRepoConfigOptions): RepoConfig {
  const yaml = parseYaml(text, { file: options.file });
  const doc = yaml.doc;
  const at = yaml.at;
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) {
    throw new InputError(
      "the repository config must be a mapping (name, store, parallel, compat, noexec, isolation, memory, fleet)",
      {
        location: { file: options.file, line: 1, column: 1 },
      },
    );
  }
  const parsed = configSchema.safeParse(yaml.data.toJS());
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.map(String);
  let node = path.length > 0 ? (doc.getIn(path, true) as Node | undefined) : undefined;
  let message = issue.message;
  let key = path.join(".");
  if (issue.code === "unrecognized_keys") {
    key = issue.keys[0];
    const pair = doc.contents.items.find((item) =>
      isScalar(item.key) && String(item.key.value) === key
    );
    node = pair?.key as Node | undefined;
    message =
      `unknown setting '${key}' (expected name, store, parallel, compat, noexec, isolation, memory, fleet)`;
  } else {
    message = `'${key}': ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  }
  const location = node?.range ? at(node.range[0]) : { file: options.file, line: 1, column: 1 };
  throw new InputError(message, { location });
}

/**
 * Sets (or, with `undefined`, removes) one setting of `.ays/config.yaml`, keeping the rest of
 * the file — comments included — as it is. The new file is validated before it is written
 * (through a temporary file and a rename); a v8.1 `.ays` marker file becomes a folder.
 */
export async function writeRepoSettingYaml(
  repoPath: string,
  setting: { key: keyof RepoConfig; value: unknown },
): Promise<RepoConfig> {
  const { key, value } = setting;
  if (!(key in configSchema.shape)) throw new TypeError(`unknown setting ${String(key)}`);
  const file = repoConfigPath(repoPath);
  await ensureAysDir(repoPath);
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  parseRepoConfig(text, { file });
  const doc = parseDocument(text);
  let next: string;
  if (doc.contents === null) {
    // An empty file (or only comments): start the mapping after what is there.
    next = value === undefined
      ? text
      : `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${
        new Document({ [key]: value }).toString()
      }`;
  } else {
    if (value === undefined) doc.delete(key);
    else doc.set(key, value);
    next = doc.toString();
  }
  const config = parseRepoConfig(next, { file });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, next);
  await rename(temporary, file);
  return config;
}
