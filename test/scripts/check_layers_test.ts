/** scripts/check_layers.ts on fixture trees: a clean one, and one with each kind of violation. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { checkLayers, formatViolation } from "../../scripts/check_layers.ts";
import { makeTempDir, projectRoot, type TempDir, writeFiles } from "../helpers/mod.ts";

/** A small tree that keeps the rules: model below store below cli, imports through mod.ts. */
const CLEAN = {
  "src/errors.ts": "export class AysError extends Error {}\n",
  "src/main.ts": 'const { run } = await import("./cli/mod.ts");\nrun();\n',
  "src/model/mod.ts": 'export * from "./types.ts";\n',
  "src/model/types.ts": 'import type { AysError } from "../errors.ts";\nexport type T = 1;\n',
  "src/store/mod.ts": 'export { open } from "./open.ts";\n',
  "src/store/open.ts": [
    'import type { T } from "../model/mod.ts";',
    '// a comment may mention ../cli/run.ts: from "../cli/run.ts"',
    "/** Lazily, as backends are: */",
    'export const open = (t: T) => import("./redis.ts");',
    "",
  ].join("\n"),
  "src/store/redis.ts": "export const redis = 1;\n",
  "src/cli/mod.ts": 'export { run } from "./run.ts";\n',
  "src/cli/run.ts": [
    "import {",
    "  open,",
    '} from "../store/mod.ts";',
    'import { AysError } from "../errors.ts";',
    "export function run() {}",
    "",
  ].join("\n"),
  "workers/job_worker.ts": 'import type { T } from "../src/model/types.ts";\n',
};

describe("check_layers", () => {
  let dir: TempDir;
  before(async () => {
    dir = await makeTempDir("ays-layers-");
  });
  after(() => dir.remove());

  async function tree(name: string, files: Record<string, string>): Promise<string> {
    const root = `${dir.path}/${name}`;
    await writeFiles(root, { ...CLEAN, ...files });
    return root;
  }

  it("finds nothing in a tree that keeps the rules", async () => {
    assert.deepEqual(checkLayers(await tree("clean", {})), []);
  });

  it("reports a lower layer importing a higher one, at the specifier's file:line:column", async () => {
    const root = await tree("upward", {
      "src/model/types.ts": 'import type { AysError } from "../errors.ts";\n' +
        'import { open } from "../store/mod.ts";\nexport type T = 1;\n',
    });
    assert.deepEqual(checkLayers(root).map(formatViolation), [
      "src/model/types.ts:2:22: model (layer 1) imports src/store/mod.ts of store (layer 4), " +
      "a higher layer",
    ]);
  });

  it("reports a cross-folder import past the folder's mod.ts, but not from the entry points", async () => {
    const root = await tree("face", {
      "src/cli/run.ts": 'import { open } from "../store/open.ts";\nexport function run() {}\n',
      "src/main.ts": 'const { run } = await import("./cli/run.ts");\n',
    });
    assert.deepEqual(checkLayers(root).map(formatViolation), [
      "src/cli/run.ts:1:22: imports src/store/open.ts past its folder's face: " +
      "import src/store/mod.ts",
    ]);
  });

  it("reports a file importing its own folder's mod.ts", async () => {
    const root = await tree("own-face", {
      "src/store/redis.ts": 'import { open } from "./mod.ts";\nexport const redis = 1;\n',
    });
    const found = checkLayers(root);
    assert.equal(found.length, 1);
    assert.equal(found[0].file, "src/store/redis.ts");
    assert.match(found[0].message, /its own folder's mod\.ts/);
  });

  it("reports a folder the layer table does not know, once", async () => {
    const root = await tree("unknown", {
      "src/gadgets/mod.ts": 'export * from "./a.ts";\n',
      "src/gadgets/a.ts": "export const a = 1;\n",
    });
    const found = checkLayers(root).map(formatViolation);
    assert.deepEqual(found, [
      'src/gadgets/a.ts:1:1: "gadgets" has no layer: add it to the layer table',
    ]);
  });

  it("takes another layer order", async () => {
    const root = await tree("order", {});
    const layers = [["errors.ts"], ["cli"], ["store"], ["model"], ["main.ts", "workers"]];
    const found = checkLayers(root, { layers }).map((v) => v.file);
    assert.deepEqual(found, ["src/cli/run.ts", "src/store/open.ts"]);
  });

  it("as a command: exits 1 and prints each violation; exits 0 on a clean tree", async () => {
    const script = `${projectRoot}/scripts/check_layers.ts`;
    const bad = await tree("command", {
      "src/model/types.ts": 'import { run } from "../cli/mod.ts";\nexport type T = 1;\n',
    });
    const failed = spawnSync(process.execPath, [...runArgs(), script, bad], { encoding: "utf8" });
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /^src\/model\/types\.ts:1:21: model \(layer 1\) imports/m);
    const clean = await tree("command-clean", {});
    const passed = spawnSync(process.execPath, [...runArgs(), script, clean], { encoding: "utf8" });
    assert.equal(passed.status, 0, passed.stderr);
  });

  it("finds nothing in this repository", () => {
    assert.deepEqual(checkLayers(projectRoot).map(formatViolation), []);
  });
});

/** The arguments that make this runtime run a script. */
function runArgs(): string[] {
  return "Deno" in globalThis ? ["run", "-A"] : [];
}
