/**
 * Commands are loaded on demand (src/cli/mod.ts): the table of command modules names every
 * command the program has, each module adds exactly the commands named for it, and the word
 * that picks the command is found past the global options — anything unsure loads them all.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureIo, COMMAND_MODULES, commandOf } from "../../src/cli/mod.ts";
import { buildProgram } from "../../src/cli/program.ts";

const namesOf = (program: Awaited<ReturnType<typeof buildProgram>>) =>
  program.commands.flatMap((c) => [c.name(), ...c.aliases()]).filter((n) => n !== "help");

describe("loading commands on demand", () => {
  it("the table names every command of the whole program, in its order", async () => {
    const all = await buildProgram({ io: captureIo(), exitCode: 0 });
    assert.deepEqual(namesOf(all), COMMAND_MODULES.flatMap((m) => m.names));
  });

  it("each command alone gets its own module's commands only", async () => {
    for (const module of COMMAND_MODULES) {
      for (const name of module.names) {
        const one = await buildProgram({ io: captureIo(), exitCode: 0 }, { command: name });
        assert.deepEqual(namesOf(one), module.names, name);
      }
    }
  });

  it("finds the command past the global options", () => {
    assert.equal(commandOf(["list"]), "list");
    assert.equal(commandOf(["--json", "list", "-r", "x"]), "list");
    assert.equal(commandOf(["--repo", "list", "show", "a!b"]), "show");
    assert.equal(commandOf(["--store", "redis://h", "-q", "--no-color", "plan"]), "plan");
    assert.equal(commandOf(["--repo=/x", "--store=sqlite:a.db", "run", "show", "1"]), "run");
    assert.equal(commandOf(["--quiet", "start"]), "start");
  });

  it("loads every command when it cannot tell", () => {
    for (
      const argv of [[], ["--help"], ["-h"], ["help", "list"], ["lst"], ["--bogus", "list"], [
        "completions",
        "bash",
      ], [
        "--repo",
      ]]
    ) {
      assert.equal(commandOf(argv), undefined, argv.join(" "));
    }
  });

  it("a typo still gets commander's suggestion, and --help lists every command", async () => {
    const { runCli } = await import("../../src/cli/mod.ts");
    const typo = captureIo();
    assert.equal(await runCli(["lst"], typo), 2);
    assert.match(typo.err.join(""), /Did you mean list\?/);
    const help = captureIo();
    assert.equal(await runCli(["--help"], help), 0);
    for (const module of COMMAND_MODULES) {
      assert.match(help.out.join(""), new RegExp(module.names[0]));
    }
  });
});
