/**
 * `ays blueprint` and `ays run` restart the compiled binary with JavaScriptCore's FTL tier off
 * (docs/development.md, "JavaScriptCore's options"): the environment the apply ran with is seen
 * by an `input(ctx)` hook, which stores it in the service's data; the one a run ran with, by an
 * action, which writes it beside its file.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { makeTempRepo, runAys, type TempDir } from "../helpers/mod.ts";

const FILES = {
  "actorTemplates/probe/schema.hrd": "jit = type:str\n",
  "actorTemplates/probe/actions.ts": [
    'import { readFileSync } from "node:fs";',
    "export function input(ctx) {",
    // What the process started with (execve's environment), then what a child would inherit.
    '  const started = readFileSync("/proc/self/environ", "utf8").split("\\0")',
    '    .find((v) => v.startsWith("BUN_JSC_useFTLJIT="))?.slice(18) ?? "unset";',
    '  const inherited = process.env.BUN_JSC_useFTLJIT ?? "unset";',
    "  return { args: { jit: `${started} ${inherited}` } };",
    "}",
    "",
  ].join("\n"),
  "blueprints/b.yaml": "probe__p1:\n",
};

/** The `jit` value the hook stored for probe!p1, from the mirror. */
async function storedJit(repo: TempDir): Promise<unknown> {
  const text = await readFile(join(repo.path, "services", "probe!p1", "service.json"), "utf8");
  return JSON.parse(text).data.jit;
}

describe("ays blueprint through dist/ays: the JIT's last tier off", () => {
  let repo: TempDir | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("applies in a process started with BUN_JSC_useFTLJIT=0", async () => {
    repo = await makeTempRepo({ name: "runonce", files: FILES });
    const env = { ...process.env as Record<string, string> };
    delete env.BUN_JSC_useFTLJIT;
    const result = await runAys(["blueprint"], { cwd: repo.path, env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await storedJit(repo), "0 unset");
  });

  it("keeps the user's own BUN_JSC_useFTLJIT and does not restart", async () => {
    repo = await makeTempRepo({ name: "runonce", files: FILES });
    const result = await runAys(["blueprint"], {
      cwd: repo.path,
      extraEnv: { BUN_JSC_useFTLJIT: "1" },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await storedJit(repo), "1 1");
  });

  it("passes the exit code and the error of a bad blueprint through", async () => {
    repo = await makeTempRepo({
      name: "runonce",
      files: { ...FILES, "blueprints/b.yaml": "probe__p1:\n  nofield: 1\n" },
    });
    const result = await runAys(["blueprint"], { cwd: repo.path });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /b\.yaml:2:3: unknown attribute 'nofield'/);
  });
});

describe("ays run through dist/ays: the JIT's last tier off", () => {
  const RUN_FILES = {
    "actorTemplates/probe/schema.hrd": "n = type:int\n",
    "actorTemplates/probe/actions.ts": [
      'import { readFileSync, writeFileSync } from "node:fs";',
      "export function install() {",
      '  const started = readFileSync("/proc/self/environ", "utf8").split("\\0")',
      '    .find((v) => v.startsWith("BUN_JSC_useFTLJIT="))?.slice(18) ?? "unset";',
      '  const jit = `${started} ${process.env.BUN_JSC_useFTLJIT ?? "unset"}`;',
      '  writeFileSync(new URL("./jit.txt", import.meta.url), jit);',
      "}",
      "",
    ].join("\n"),
    "blueprints/b.yaml": "probe__p1: {}\nactions:\n  - action: install\n",
  };
  let repo: TempDir | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });

  it("runs the jobs in a process started with BUN_JSC_useFTLJIT=0", async () => {
    repo = await makeTempRepo({ name: "runonce", files: RUN_FILES });
    const env = { ...process.env as Record<string, string> };
    delete env.BUN_JSC_useFTLJIT;
    assert.equal((await runAys(["blueprint"], { cwd: repo.path, env })).code, 0);
    const result = await runAys(["run"], { cwd: repo.path, env });
    assert.equal(result.code, 0, result.stderr);
    const jit = await readFile(join(repo.path, "actorTemplates", "probe", "jit.txt"), "utf8");
    assert.equal(jit, "0 unset");
  });
});
