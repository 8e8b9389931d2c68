import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { actionSettings, DEFAULT_ACTION_SETTINGS } from "../../src/run/execute.ts";
import { actor } from "./model_fixtures.ts";

const MiB = 1024 * 1024;

describe("actionSettings: isolation and memory", () => {
  const a = actor("node.ssh", {
    install: { timeout: 60 },
    build: { isolation: "process", memory: 512 * MiB },
    sized: { memory: 256 * MiB },
    threaded: { isolation: "job" },
  });

  it("uses the built-in defaults when nothing is given", () => {
    assert.deepEqual(actionSettings(a, "start"), DEFAULT_ACTION_SETTINGS);
    assert.deepEqual(actionSettings(undefined, "start"), DEFAULT_ACTION_SETTINGS);
    assert.equal(actionSettings(a, "install").isolation, undefined);
  });

  it("keeps the action's own isolation and memory over the run-wide defaults", () => {
    const defaults = { isolation: "pool" as const, memory: 2048 * MiB };
    assert.deepEqual(actionSettings(a, "build", { defaults }), {
      ...DEFAULT_ACTION_SETTINGS,
      isolation: "process",
      memory: 512 * MiB,
    });
    assert.equal(actionSettings(a, "threaded", { defaults }).isolation, "job");
  });

  it("runs an action with a memory limit and no isolation in a process", () => {
    assert.deepEqual(actionSettings(a, "sized"), {
      ...DEFAULT_ACTION_SETTINGS,
      isolation: "process",
      memory: 256 * MiB,
    });
    assert.equal(
      actionSettings(a, "sized", { defaults: { isolation: "job" } }).isolation,
      "process",
    );
  });

  it("applies the run-wide defaults to actions that give none", () => {
    const settings = actionSettings(a, "install", {
      defaults: { isolation: "process", memory: 768 * MiB },
    });
    assert.deepEqual(settings, {
      ...DEFAULT_ACTION_SETTINGS,
      timeout: 60,
      isolation: "process",
      memory: 768 * MiB,
    });
  });
});
