import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commandName, dropRunOnceEnv, RUN_ONCE_ENV, runsOnce } from "../../src/cli/run_once.ts";

describe("run-once commands", () => {
  it("finds the command after the global options and their values", () => {
    assert.equal(commandName(["blueprint"]), "blueprint");
    assert.equal(commandName(["--json", "-q", "blueprint", "x.yaml"]), "blueprint");
    assert.equal(commandName(["--store", "redis://h:1/0", "blueprint"]), "blueprint");
    assert.equal(commandName(["--repo", "blueprint", "list"]), "list");
    assert.equal(commandName(["--store=sqlite:x.db", "list"]), "list");
    assert.equal(commandName(["--no-color", "--", "blueprint"]), "blueprint");
    assert.equal(commandName(["--json"]), undefined);
    assert.equal(commandName([]), undefined);
  });

  it("restarts `ays blueprint` and `ays run` only", () => {
    assert.equal(runsOnce(["blueprint", "--dry-run"]), true);
    assert.equal(runsOnce(["--repo", "r", "blueprint"]), true);
    assert.equal(runsOnce(["run", "--parallel", "20"]), true);
    assert.equal(runsOnce(["-q", "run"]), true);
    assert.equal(runsOnce(["list"]), false);
    assert.equal(runsOnce(["do", "install"]), false);
    assert.equal(runsOnce(["--repo", "blueprint"]), false);
    assert.equal(runsOnce(["--version"]), false);
  });

  it("turns off the optimizing tier and marks the restart, nothing else", () => {
    assert.deepEqual({ ...RUN_ONCE_ENV }, {
      BUN_JSC_useFTLJIT: "0",
      AYS_RUN_ONCE_RESTARTED: "1",
    });
  });

  it("takes the variables back out of a restarted process's environment only", () => {
    const restarted: Record<string, string | undefined> = { ...RUN_ONCE_ENV, HOME: "/h" };
    dropRunOnceEnv(restarted);
    assert.deepEqual(restarted, { HOME: "/h" });
    const users: Record<string, string | undefined> = { BUN_JSC_useFTLJIT: "1", HOME: "/h" };
    dropRunOnceEnv(users);
    assert.deepEqual(users, { BUN_JSC_useFTLJIT: "1", HOME: "/h" });
  });
});
