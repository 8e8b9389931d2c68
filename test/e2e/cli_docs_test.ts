import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { aysBinary, runAys } from "../helpers/mod.ts";
import {
  blocksOf,
  compareReference,
  referencePath,
  subcommandsOf,
  updateReference,
  walkHelp,
} from "../../scripts/cli_reference.ts";

describe("docs/cli.md", () => {
  it("documents every command exactly as dist/ays --help prints it", async () => {
    const helps = walkHelp(aysBinary);
    // The walk must have found real commands, or the comparison would prove nothing.
    assert.ok(helps.has("ays") && helps.has("ays init") && helps.has("ays schema"));
    const doc = await readFile(referencePath, "utf8");
    const problems = compareReference(doc, helps);
    assert.deepEqual(
      problems,
      [],
      `regenerate with: bun build.ts && bun scripts/cli_reference.ts\n${problems.join("\n")}`,
    );
  });

  it("notices a changed, a missing and an extra command", () => {
    const helps = new Map([["ays", "Usage: ays\n"], ["ays x", "Usage: ays x\n"]]);
    const doc = updateReference("intro\n<!-- cli-reference:end -->\n", helps);
    assert.deepEqual(compareReference(doc, helps), []);
    assert.equal(blocksOf(doc).blocks.get("ays x"), "Usage: ays x");
    const changed = new Map([["ays", "Usage: ays [options]\n"], ["ays y", "Usage: ays y\n"]]);
    assert.deepEqual(compareReference(doc, changed), [
      "'ays' differs from its --help",
      "'ays y' is not in the reference",
      "'ays x' is documented but no such command",
    ]);
  });

  it("reads subcommands from a help text, aliases and wrapped lines left out", () => {
    const help = [
      "Usage: ays [options] [command]",
      "",
      "Commands:",
      "  simulate|plan [options]  preview a run",
      "                           (wrapped line)",
      "  run [options]            execute",
      "  help [command]           display help for command",
      "",
    ].join("\n");
    assert.deepEqual(subcommandsOf(help), ["simulate", "run"]);
  });

  it("dist/ays completions bash completes real commands in bash", async () => {
    const script = await runAys(["completions", "bash"]);
    assert.equal(script.code, 0, script.stderr);
    // Source the script and ask it, as bash does on <Tab>, what "ays ini" and "ays schema --la"
    // complete to.
    const ask = (words: string[]) =>
      `COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _ays; ` +
      `echo "\${COMPREPLY[*]}"`;
    const bash = spawnSync("bash", [
      "-c",
      `${script.stdout}\n${ask(["ays", "ini"])}\n${ask(["ays", "schema", "--la"])}`,
    ], { encoding: "utf8" });
    assert.equal(bash.status, 0, bash.stderr);
    assert.equal(bash.stdout, "init\n--layout\n");
  });
});
