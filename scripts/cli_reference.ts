/**
 * Keeps the CLI reference in `docs/cli.md` equal to what `dist/ays <command> --help` prints.
 *
 * The reference holds one section per command; each section carries the command's help between
 * `<!-- help:TITLE -->` and `<!-- /help:TITLE -->` (TITLE is `ays` and the command's words, e.g.
 * `ays run show`). Text outside those blocks is hand-written and left alone, so notes written
 * under a section survive regeneration.
 *
 * - `bun scripts/cli_reference.ts` rewrites the blocks from the binary (build it first) and
 *   appends a section for each command the reference does not have yet;
 * - `bun scripts/cli_reference.ts --check` only compares and exits 1 on a difference
 *   (`test/e2e/cli_docs_test.ts` does the same through {@link compareReference}).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the reference lives. */
export const referencePath: string = join(root, "docs", "cli.md");

/** New sections are inserted before this line. */
export const END_MARKER = "<!-- cli-reference:end -->";

/** Runs `binary ...path --help` and returns what it printed. */
export function helpOf(binary: string, path: string[]): string {
  const result = spawnSync(binary, [...path, "--help"], {
    encoding: "utf8",
    // Help is wrapped at the terminal's width; a pipe gives commander's fixed default.
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", COLUMNS: "" },
  });
  if (result.status !== 0) {
    throw new Error(`${[binary, ...path, "--help"].join(" ")} exited ${result.status}`);
  }
  return result.stdout;
}

/**
 * The subcommands a help text lists under `Commands:` (their first name; aliases after `|` and
 * commander's own `help` command left out).
 */
export function subcommandsOf(help: string): string[] {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => l === "Commands:");
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    // A command starts in column 2; wrapped descriptions are indented further.
    const match = /^ {2}([A-Za-z0-9_-][^\s|]*)/.exec(line);
    if (match && match[1] !== "help") names.push(match[1]);
  }
  return names;
}

/** The help text of every command, the root included, by title (`ays`, `ays run show`). */
export function walkHelp(binary: string): Map<string, string> {
  const helps = new Map<string, string>();
  const visit = (path: string[]) => {
    const help = helpOf(binary, path);
    helps.set(title(path.join(" ")), help);
    for (const name of subcommandsOf(help)) visit([...path, name]);
  };
  visit([]);
  return helps;
}

/** The title of a command's section in the reference. */
function title(path: string): string {
  return path === "" ? "ays" : `ays ${path}`;
}

function block(path: string, help: string): string {
  // Blank lines around the fence, as `deno fmt` writes them.
  return `<!-- help:${path} -->\n\n\`\`\`text\n${help.trimEnd()}\n\`\`\`\n\n<!-- /help:${path} -->`;
}

const BLOCK = /<!-- help:([^>]*) -->\n+```text\n([\s\S]*?)\n```\n+<!-- \/help:\1 -->/g;

/** The help blocks a reference holds, by title. Duplicates are reported. */
export function blocksOf(doc: string): { blocks: Map<string, string>; duplicates: string[] } {
  const blocks = new Map<string, string>();
  const duplicates: string[] = [];
  for (const match of doc.matchAll(BLOCK)) {
    if (blocks.has(match[1])) duplicates.push(match[1]);
    blocks.set(match[1], match[2]);
  }
  return { blocks, duplicates };
}

/** What differs between a reference and the help texts: one line per problem, empty if none. */
export function compareReference(doc: string, helps: Map<string, string>): string[] {
  const { blocks, duplicates } = blocksOf(doc);
  const problems = duplicates.map((p) => `'${p}' has more than one help block`);
  for (const [path, help] of helps) {
    const documented = blocks.get(path);
    if (documented === undefined) problems.push(`'${path}' is not in the reference`);
    else if (documented !== help.trimEnd()) {
      problems.push(`'${path}' differs from its --help`);
    }
  }
  for (const path of blocks.keys()) {
    if (!helps.has(path)) problems.push(`'${path}' is documented but no such command`);
  }
  return problems;
}

/** The reference with every block rewritten and missing commands appended before the end. */
export function updateReference(doc: string, helps: Map<string, string>): string {
  let text = doc.replace(BLOCK, (whole, path: string) => {
    const help = helps.get(path);
    return help === undefined ? whole : block(path, help);
  });
  const { blocks } = blocksOf(text);
  const missing = [...helps.keys()].filter((p) => !blocks.has(p));
  if (missing.length > 0) {
    const sections = missing.map((p) => `### ${p}\n\n${block(p, helps.get(p)!)}\n\n`);
    const at = text.indexOf(END_MARKER);
    if (at < 0) throw new Error(`${referencePath} lacks the line ${END_MARKER}`);
    text = text.slice(0, at) + sections.join("") + text.slice(at);
  }
  return text;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const binary = join(root, "dist", "ays");
  const helps = walkHelp(binary);
  const doc = await readFile(referencePath, "utf8");
  if (check) {
    const problems = compareReference(doc, helps);
    for (const p of problems) console.error(p);
    process.exit(problems.length === 0 ? 0 : 1);
  }
  const updated = updateReference(doc, helps);
  if (updated !== doc) await writeFile(referencePath, updated);
  const stale = compareReference(updated, helps);
  for (const p of stale) console.error(`left for you: ${p}`);
  console.log(`docs/cli.md: ${helps.size} commands`);
}

if (import.meta.main) await main();
