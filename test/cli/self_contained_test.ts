/**
 * The codebase stands on its own: no source file, worker, example or help text cites "SPEC", a
 * document users and engineers of this repository do not have. Behaviour is cited by the
 * `docs/` page that states it.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { captureIo } from "../../src/cli/mod.ts";
import { buildProgram } from "../../src/cli/program.ts";
import { makeTempDir, projectRoot, type TempDir, writeFiles } from "../helpers/mod.ts";

const WORD = /\bSPEC\b/;

/** `file:line: text` of every line under `root`'s `folders` that contains the word SPEC. */
async function citations(root: string, folders: string[]): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") await walk(path);
        continue;
      }
      const lines = (await readFile(path, "utf8")).split("\n");
      lines.forEach((line, i) => {
        if (WORD.test(line)) found.push(`${relative(root, path)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  for (const folder of folders) await walk(join(root, folder));
  return found.sort();
}

/** Every command of the tree below `command`, with the words that name it. */
function commandsOf(
  command: CommandUnknownOpts,
  path: string[] = [],
): [string, CommandUnknownOpts][] {
  return [
    [["ays", ...path].join(" "), command],
    ...command.commands.flatMap((c) => commandsOf(c, [...path, c.name()])),
  ];
}

describe("no SPEC citations", () => {
  let dir: TempDir;
  before(async () => {
    dir = await makeTempDir("ays-spec-");
  });
  after(() => dir.remove());

  it("the scan finds a citation in any file below the folders, and only the word", async () => {
    await writeFiles(dir.path, {
      "src/a/b.ts": "// fine\n/** as SPEC §3 says */\n",
      "examples/x/actor.yaml": "# SPEC\n",
      "src/c.ts": "const SPECIAL = 1; // a field_spec, not the word\n",
      "other/d.ts": "// SPEC outside the folders\n",
    });
    assert.deepEqual(await citations(dir.path, ["src", "examples"]), [
      "examples/x/actor.yaml:1: # SPEC",
      "src/a/b.ts:2: /** as SPEC §3 says */",
    ]);
  });

  it("src/, workers/ and examples/ cite docs/, not SPEC", async () => {
    assert.deepEqual(await citations(projectRoot, ["src", "workers", "examples"]), []);
  });

  it("no command's help mentions SPEC", async () => {
    const program = await buildProgram({ io: captureIo(), exitCode: 0 });
    const commands = commandsOf(program);
    // The walk must really reach the subcommands (ays run show, ays daemon status, …).
    assert.ok(commands.length > 20, `only ${commands.length} commands found`);
    assert.ok(commands.some(([name]) => name === "ays run show"));
    const cited = commands
      .filter(([, command]) => WORD.test(command.helpInformation()))
      .map(([name]) => name);
    assert.deepEqual(cited, []);
  });
});
