/**
 * `ays validate` and the import check of `ays blueprint` through `dist/ays` (build it first:
 * `node_modules/.bin/bun build.ts`), on the default SQLite store.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempDir, makeTempRepo, runAys, type TempDir } from "../helpers/mod.ts";

const GOOD: Record<string, string> = {
  "actorTemplates/db/schema.hrd": "port = type:int default:6379\n",
  "actorTemplates/db/actions.ts": "export function install() {}\nexport function flush() {}\n",
  "actorTemplates/db/actor.yaml": "recurring:\n  flush: 1m\n",
  "actorTemplates/app/schema.hrd": "db = type:str consume:db:1:1\n",
  "actorTemplates/app/actions.ts": "export async function install() {}\n",
  "blueprints/1_db.yaml": "db__main: {port: 1}\n",
  "blueprints/2_app.yaml": "app__a: {db: main}\nactions:\n  - action: flush\n    actor: db\n",
};

// The exports are still readable from the text: only importing the file finds the error.
const SYNTAX =
  "export function install(job) {\n  if (job.x {\n    throw new Error('x');\n  }\n}\n" +
  "export function flush() {}\n";

async function withRepo(
  files: Record<string, string>,
  fn: (repo: TempDir, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const repo = await makeTempRepo({ name: "v", files });
  const config = await makeTempDir();
  try {
    await fn(repo, { XDG_CONFIG_HOME: config.path });
    // Never registered: validate reads only, and the other commands here go through --repo.
  } finally {
    await repo.remove();
    await config.remove();
  }
}

async function storedServices(repo: TempDir): Promise<string[]> {
  const opened = await openRepositoryStore({ repoPath: repo.path, repoName: "v", env: {} });
  try {
    return (await opened.store.loadServices()).map((s) =>
      `${s.role}!${s.name} ${JSON.stringify(s.data)}`
    )
      .sort();
  } finally {
    await opened.driver.close();
  }
}

/** Every file below `root` (the SQLite files aside) with its size and modification time. */
async function filesOf(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith("store.db")) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path);
    out[path] = `${info.size} ${info.mtimeMs}`;
  }
  return out;
}

describe("ays validate (dist/ays, SQLite)", () => {
  it("prints a one-line summary for a clean repository, exit 0, and creates nothing", async () => {
    await withRepo(GOOD, async (repo, extraEnv) => {
      const result = await runAys(["validate"], { cwd: repo.path, extraEnv });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "valid: 2 templates, 2 actions files, 2 blueprints\n");
      assert.equal(result.stderr, "");
      assert.deepEqual(await readdir(join(repo.path, ".ays")), ["config.yaml"]);
      assert.equal(existsSync(join(extraEnv.XDG_CONFIG_HOME, "ays")), false);
    });
  });

  it("lists every problem with file:line:column and exits 2; --json has them too", async () => {
    const files = {
      ...GOOD,
      "actorTemplates/db/actions.ts": SYNTAX,
      "actorTemplates/app/actions.ts":
        "import { h } from './helper.ts';\nexport const install = h;\n",
      "actorTemplates/bad/schema.hrd": "x = type:str\ny = type:nosuchtype\n",
      "blueprints/3_typo.yaml": "dbb__x: {}\n",
    };
    await withRepo(files, async (repo, extraEnv) => {
      const text = await runAys(["validate"], { cwd: repo.path, extraEnv });
      assert.equal(text.code, 2, text.stderr);
      const at = (path: string) => join(repo.path, path);
      for (
        const where of [
          `ays: template: ${at("actorTemplates/bad/schema.hrd")}:2:5: `,
          `ays: actions: ${
            at("actorTemplates/app/actions.ts")
          }:1:19: the actions file does not import: `,
          `ays: actions: ${
            at("actorTemplates/db/actions.ts")
          }:2:13: the actions file does not import: `,
          "ays: blueprint: blueprints/3_typo.yaml:1:1: unknown actor 'dbb'",
        ]
      ) assert.ok(text.stderr.includes(where), `${where}\nnot in\n${text.stderr}`);
      assert.match(text.stdout, /^\d+ problems in 3 templates, 2 actions files, 3 blueprints\n$/);
      const json = await runAys(["validate", "--json"], { cwd: repo.path, extraEnv });
      assert.equal(json.code, 2);
      const report = JSON.parse(json.stdout);
      assert.equal(report.valid, false);
      assert.equal(report.store, false);
      assert.deepEqual(
        report.problems.slice(0, 3).map((p: { kind: string; location: { line: number } }) => [
          p.kind,
          p.location.line,
        ]),
        [["template", 2], ["actions", 1], ["actions", 2]],
      );
      assert.deepEqual(await readdir(join(repo.path, ".ays")), ["config.yaml"]);
    });
  });

  it("resolves against the store's services, read-only", async () => {
    await withRepo(GOOD, async (repo, extraEnv) => {
      const applied = await runAys(["--repo", repo.path, "blueprint", "blueprints/1_db.yaml"], {
        cwd: repo.path,
        extraEnv,
      });
      assert.equal(applied.code, 0, applied.stderr);
      await writeFile(join(repo.path, "blueprints/1_db.yaml"), "db__other: {}\n");
      const before = await storedServices(repo);
      const files = await filesOf(repo.path);
      const result = await runAys(["validate", "--json"], { cwd: repo.path, extraEnv });
      assert.equal(result.code, 0, result.stdout);
      assert.equal(JSON.parse(result.stdout).store, true);
      assert.deepEqual(await storedServices(repo), before);
      assert.deepEqual(await filesOf(repo.path), files, "the mirror and every file as they were");
    });
  });

  it("lists what v8.1 did silently with --compat v81 (and compat: v81); default exit 2", async () => {
    const files = { ...GOOD, "blueprints/2_app.yaml": "app__a: {db: uservdc}\n" };
    await withRepo(files, async (repo, extraEnv) => {
      const strict = await runAys(["validate"], { cwd: repo.path, extraEnv });
      assert.equal(strict.code, 2);
      assert.match(strict.stderr, /ays: blueprint: blueprints\/2_app\.yaml:1:\d+: /);
      const v81 = await runAys(["validate", "--compat", "v81"], { cwd: repo.path, extraEnv });
      assert.equal(v81.code, 0, v81.stderr);
      assert.match(v81.stderr, /ays: warning: .*compat v81: .*uservdc/);
      assert.equal(v81.stdout, "valid: 2 templates, 2 actions files, 2 blueprints\n");
      await writeFile(join(repo.path, ".ays/config.yaml"), "name: v\ncompat: v81\n");
      const configured = await runAys(["validate", "--json"], { cwd: repo.path, extraEnv });
      assert.equal(configured.code, 0, configured.stderr);
      const report = JSON.parse(configured.stdout);
      assert.equal(report.compat, "v81");
      assert.equal(report.warnings.filter((w: string) => w.includes("uservdc")).length, 1);
    });
  });
});

describe("ays blueprint and an actions.ts with a syntax error (dist/ays, SQLite)", () => {
  it("is exit 2 at the error's file:line:column, the store unchanged", async () => {
    await withRepo(GOOD, async (repo, extraEnv) => {
      const first = await runAys(["blueprint"], { cwd: repo.path, extraEnv });
      assert.equal(first.code, 0, first.stderr);
      const before = await storedServices(repo);
      await writeFile(join(repo.path, "actorTemplates/db/actions.ts"), SYNTAX);
      await writeFile(join(repo.path, "blueprints/1_db.yaml"), "db__main: {port: 2}\n");
      const result = await runAys(["blueprint"], { cwd: repo.path, extraEnv });
      assert.equal(result.code, 2, result.stderr);
      assert.ok(
        result.stderr.startsWith(
          `ays: ${
            join(repo.path, "actorTemplates/db/actions.ts")
          }:2:13: the actions file does not import: `,
        ),
        result.stderr,
      );
      assert.match(result.stderr, /\n {4}2 \| {3}if \(job\.x \{\n/);
      assert.deepEqual(await storedServices(repo), before);
    });
  });
});
