import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkActionsFile, checkActorsImport } from "../../src/blueprint/actions_check.ts";
import { actor } from "./helpers.ts";
import { applyBlueprintUnit } from "../../src/blueprint/apply.ts";
import { locateImportError } from "../../src/blueprint/import_error.ts";
import { validateRepository } from "../../src/blueprint/validate.ts";
import { InputError } from "../../src/errors.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempRepo, type TempDir } from "../helpers/mod.ts";

const GOOD: Record<string, string> = {
  "actorTemplates/db/schema.hrd": "port = type:int default:6379\n",
  "actorTemplates/db/actions.ts": "export function install() {}\nexport function flush() {}\n",
  "actorTemplates/db/actor.yaml": "recurring:\n  flush: 1m\n",
  "actorTemplates/app/schema.hrd": "db = type:str consume:db:1:1\n",
  "actorTemplates/app/actions.js": "export async function install() {}\n",
  "blueprints/1_db.yaml": "db__main: {port: 1}\n",
  "blueprints/2_app.yaml": "app__a: {db: main}\nactions:\n  - action: flush\n    actor: db\n",
};

// The exports are still readable from the text: only importing the file finds the error.
const SYNTAX =
  "export function install(job) {\n  if (job.x {\n    throw new Error('x');\n  }\n}\n" +
  "export function flush() {}\n";

async function withRepo(
  files: Record<string, string>,
  fn: (repo: TempDir) => Promise<void>,
): Promise<void> {
  const repo = await makeTempRepo({ name: "v", files });
  try {
    await fn(repo);
  } finally {
    await repo.remove();
  }
}

describe("locateImportError", () => {
  it("takes the first of Bun's build errors, with its position", () => {
    const error = {
      message: '2 errors building "/r/a.ts"',
      errors: [
        {
          message: 'Expected ")" but found "{"',
          position: { file: "/r/a.ts", line: 2, column: 13 },
        },
        { message: "Unexpected }", position: { file: "/r/a.ts", line: 5, column: 1 } },
      ],
    };
    assert.deepEqual(locateImportError(error, "/r/a.ts"), {
      message: 'Expected ")" but found "{" (and 1 more)',
      location: { file: "/r/a.ts", line: 2, column: 13 },
    });
  });
  it("places Bun's missing module at its specifier in the importing file", () => {
    const error = {
      message: "Cannot find module './x.ts' imported from /r/a.ts",
      specifier: "./x.ts",
      referrer: "/r/a.ts",
    };
    const source = "// helper\nimport { y } from './x.ts';\n";
    assert.deepEqual(locateImportError(error, "/r/a.ts", { readSource: () => source }), {
      message: "Cannot find module './x.ts' imported from /r/a.ts",
      location: { file: "/r/a.ts", line: 2, column: 19 },
    });
  });
  it("reads Deno's place from the message, without colour codes", () => {
    const error = new TypeError(
      'Module not found "file:///r/x.ts".\n    at \u001b[0m\u001b[36mfile:///r/a.ts\u001b[0m:\u001b[0m\u001b[33m1\u001b[0m:\u001b[0m\u001b[33m19\u001b[0m',
    );
    assert.deepEqual(locateImportError(error, "/r/a.ts"), {
      message: 'Module not found "file:///r/x.ts".',
      location: { file: "/r/a.ts", line: 1, column: 19 },
    });
  });
  it("places an error thrown by the module's top level at its frame in the file", () => {
    const error = new Error("boom");
    error.stack = "Error: boom\n    at file:///r/lib.ts:3:1\n    at file:///r/a.ts:7:9\n";
    assert.deepEqual(locateImportError(error, "/r/a.ts"), {
      message: "boom",
      location: { file: "/r/a.ts", line: 7, column: 9 },
    });
  });
});

describe("checkActionsFile (a real worker)", () => {
  it("names the functions a file exports", async () => {
    await withRepo({
      "a/actions.ts":
        "export function install() {}\nexport const n = 1;\nexport const start = async () => {};\n",
    }, async (repo) => {
      const checked = await checkActionsFile(join(repo.path, "a/actions.ts"));
      assert.deepEqual(checked, { ok: true, functions: ["install", "start"] });
    });
  });
  it("places an error thrown by the top level at its line", async () => {
    await withRepo({
      "a/actions.ts": "export function install() {}\n\nthrow new Error('no config');\n",
    }, async (repo) => {
      const path = join(repo.path, "a/actions.ts");
      const checked = await checkActionsFile(path);
      assert.equal(checked.ok, false);
      assert.ok(!checked.ok && /no config/.test(checked.message), JSON.stringify(checked));
      assert.deepEqual(!checked.ok && [checked.location?.file, checked.location?.line], [path, 3]);
    });
  });
  it("gives up on an import that never finishes", async () => {
    await withRepo({
      "a/actions.ts": "await new Promise(() => {});\nexport function install() {}\n",
    }, async (repo) => {
      const path = join(repo.path, "a/actions.ts");
      const checked = await checkActionsFile(path, { timeoutMs: 200 });
      assert.deepEqual(checked, {
        ok: false,
        message: "importing it did not finish within 0.2 s",
        location: { file: path, line: 1, column: 1 },
      });
    });
  });
});

describe("checkActorsImport", () => {
  it("reports the first broken file in the actors' order, and passes when none is", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) {
      files[`t${i}/actions.ts`] = i === 2 || i === 5 ? SYNTAX : "export function install() {}\n";
    }
    await withRepo(files, async (repo) => {
      const actors = [0, 1, 2, 3, 4, 5, 0].map((i) => ({
        ...actor(`t${i}`, []),
        actionsPath: join(repo.path, `t${i}/actions.ts`),
      }));
      await assert.rejects(checkActorsImport(actors), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.deepEqual(error.location, {
          file: join(repo.path, "t2/actions.ts"),
          line: 2,
          column: 13,
        });
        return true;
      });
      await checkActorsImport(actors.filter((a) => !/t[25]/.test(a.name)));
    });
  });
});

describe("validateRepository", () => {
  it("finds nothing wrong in a repository that works, and writes nothing", async () => {
    await withRepo(GOOD, async (repo) => {
      const report = await validateRepository(repo.path, { repoName: "v" });
      assert.deepEqual(report.problems, []);
      assert.equal(report.templates, 2);
      assert.equal(report.actionsFiles, 2);
      assert.equal(report.blueprints, 2);
      assert.deepEqual(await readdir(join(repo.path, ".ays")), ["config.yaml"]);
    });
  });

  it("lists every problem of each kind with its file:line:column", async () => {
    await withRepo({
      ...GOOD,
      "actorTemplates/db/actions.ts": SYNTAX,
      "actorTemplates/app/actions.js":
        "import { h } from './helper.js';\nexport const install = h;\n",
      "actorTemplates/web/actions.ts": "export function install() {}\n",
      "actorTemplates/web/actor.yaml": "actions:\n  install: {}\nrecurring:\n  backup: 1m\n",
      "actorTemplates/bad/schema.hrd": "x = type:str\ny = type:nosuchtype\n",
      "blueprints/3_typo.yaml": "dbb__x: {}\n",
      "blueprints/4_bad.yaml": "web__w: {nosuchfield: 1}\n",
    }, async (repo) => {
      const report = await validateRepository(repo.path, { repoName: "v" });
      const seen = report.problems.map((p) => [
        p.kind,
        p.location?.file.replace(repo.path + "/", ""),
        p.location?.line,
        p.location?.column,
      ]);
      assert.deepEqual(seen, [
        ["template", "actorTemplates/bad/schema.hrd", 2, 5],
        ["actions", "actorTemplates/app/actions.js", 1, 19],
        ["actions", "actorTemplates/db/actions.ts", 2, 13],
        ["actions", "actorTemplates/web/actor.yaml", 4, 3],
        ["blueprint", "blueprints/3_typo.yaml", 1, 1],
        ["blueprint", "blueprints/4_bad.yaml", 1, 10],
      ]);
      assert.match(report.problems[3].message, /configures action 'backup'/);
      assert.equal(report.actionsFiles, 3); // each file once, whatever its problems
      assert.match(report.problems[4].message, /did you mean 'db'/);
    });
  });

  it("resolves against the services given (the store's)", async () => {
    const files = { ...GOOD, "blueprints/1_db.yaml": "db__other: {}\n" };
    await withRepo(files, async (repo) => {
      const alone = await validateRepository(repo.path, { repoName: "v" });
      assert.deepEqual(alone.problems.map((p) => p.location?.file), ["blueprints/2_app.yaml"]);
    });
  });

  it("lists what compat v81 does silently as warnings, where the default refuses", async () => {
    const files = { ...GOOD, "blueprints/2_app.yaml": "app__a: {db: uservdc}\n" };
    await withRepo(files, async (repo) => {
      const strict = await validateRepository(repo.path, { repoName: "v" });
      assert.equal(strict.problems.length, 1);
      assert.equal(strict.problems[0].location?.file, "blueprints/2_app.yaml");
      const v81 = await validateRepository(repo.path, { repoName: "v", compat: "v81" });
      assert.deepEqual(v81.problems, []);
      assert.equal(v81.warnings.filter((w) => /uservdc/.test(w)).length, 1);
    });
  });
});

describe("applyBlueprintUnit and an actions file that does not import", () => {
  it("refuses the unit at the syntax error's place and writes nothing", async () => {
    await withRepo({ ...GOOD, "actorTemplates/db/actions.ts": SYNTAX }, async (repo) => {
      const opened = await openRepositoryStore({ repoPath: repo.path, repoName: "v", env: {} });
      try {
        const error = await applyBlueprintUnit(opened.store, { repoPath: repo.path }).then(
          () => assert.fail("applied"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof InputError, String(error));
        assert.deepEqual(error.location, {
          file: join(repo.path, "actorTemplates/db/actions.ts"),
          line: 2,
          column: 13,
        });
        assert.deepEqual(await opened.store.loadServices(), []);
        assert.deepEqual(await opened.store.loadActors(), []);
      } finally {
        await opened.driver.close();
      }
      assert.equal(await readFile(join(repo.path, ".ays/config.yaml"), "utf8"), "name: v\n");
    });
  });
});
