import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { discoverTemplates, globalTemplateDirs } from "../../src/repo/templates.ts";
import { makeTempDir, makeTempRepo, writeFiles } from "../helpers/mod.ts";

describe("discoverTemplates", () => {
  it("finds templates by their files, in nested categories, skipping _ and . folders", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/sshkey/schema.hrd": "key = type:str\n",
        "actorTemplates/infra/node.ssh/schema.hrd": "ssh.addr = type:str\n",
        "actorTemplates/infra/node.ssh/actions.ts": "export function install() {}\n",
        "actorTemplates/infra/os/os.ubuntu/actor.yaml": "recurring: {}\n",
        "actorTemplates/infra/only_actions/actions.js": "export function x() {}\n",
        "actorTemplates/infra/capnp_one/schema.capnp": "@0x8000000000000001;\n",
        "actorTemplates/infra/empty_category/README.md": "not a template\n",
        "actorTemplates/_archived/old/schema.hrd": "a = type:str\n",
        "actorTemplates/.hidden/schema.hrd": "a = type:str\n",
        "actorTemplates/infra/_wip/schema.hrd": "a = type:str\n",
      },
    });
    try {
      const { templates, warnings } = await discoverTemplates(repo.path);
      assert.deepEqual(warnings, []);
      assert.deepEqual(templates.map((t) => t.name), [
        "capnp_one",
        "node.ssh",
        "only_actions",
        "os.ubuntu",
        "sshkey",
      ]);
      const node = templates.find((t) => t.name === "node.ssh")!;
      assert.deepEqual(node, {
        name: "node.ssh",
        path: join(repo.path, "actorTemplates", "infra", "node.ssh"),
        source: "repo",
        schemaHrd: join(node.path, "schema.hrd"),
        schemaCapnp: null,
        actions: join(node.path, "actions.ts"),
        actionsPy: null,
        actorConfig: null,
      });
      assert.equal(
        templates.find((t) => t.name === "os.ubuntu")!.actorConfig?.endsWith("actor.yaml"),
        true,
      );
    } finally {
      await repo.remove();
    }
  });

  it("a repository template overrides a global one", async () => {
    const repo = await makeTempRepo({
      files: { "actorTemplates/web/schema.hrd": "a = type:str\n" },
    });
    const global = await makeTempDir();
    try {
      await writeFiles(global.path, {
        "web/schema.hrd": "b = type:str\n",
        "cat/db/schema.hrd": "c = type:str\n",
      });
      const { templates } = await discoverTemplates(repo.path, { globalDirs: [global.path] });
      assert.deepEqual(templates.map((t) => [t.name, t.source]), [["db", "global"], [
        "web",
        "repo",
      ]]);
      assert.equal(templates[1].path, join(repo.path, "actorTemplates", "web"));
    } finally {
      await repo.remove();
      await global.remove();
    }
  });

  it("the same name twice in the repository is an error", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/a/web/schema.hrd": "a = type:str\n",
        "actorTemplates/b/web/actions.ts": "export function x() {}\n",
      },
    });
    try {
      await assert.rejects(
        discoverTemplates(repo.path),
        (e: unknown) =>
          e instanceof InputError && /'web' is defined twice in the repository/.test(e.message) &&
          e.message.includes(join("a", "web")) && e.message.includes(join("b", "web")),
      );
    } finally {
      await repo.remove();
    }
  });

  it("duplicates: report keeps the first folder in path order and lists both", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/os/vfs/schema.hrd": "a = type:str\n",
        "actorTemplates/g8os/vfs/schema.hrd": "b = type:str\n",
        "actorTemplates/web/schema.hrd": "a = type:str\n",
      },
    });
    try {
      const found = await discoverTemplates(repo.path, { duplicates: "report" });
      const root = join(repo.path, "actorTemplates");
      assert.deepEqual(found.templates.map((t) => t.path), [
        join(root, "g8os", "vfs"),
        join(root, "web"),
      ]);
      assert.deepEqual(found.duplicates, [{
        name: "vfs",
        paths: [join(root, "g8os", "vfs"), join(root, "os", "vfs")],
      }]);
      await assert.rejects(
        discoverTemplates(repo.path, { duplicates: "nope" as "error" }),
        TypeError,
      );
    } finally {
      await repo.remove();
    }
  });

  it("an actions.py without actions.ts is an unported template; with one it is ignored", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/old/actions.py": "def install(job):\n    pass\n",
        "actorTemplates/ported/actions.py": "def install(job):\n    pass\n",
        "actorTemplates/ported/actions.ts": "export function install() {}\n",
      },
    });
    try {
      const { templates } = await discoverTemplates(repo.path);
      const root = join(repo.path, "actorTemplates");
      assert.deepEqual(templates.map((t) => [t.name, t.actions, t.actionsPy]), [
        ["old", null, join(root, "old", "actions.py")],
        ["ported", join(root, "ported", "actions.ts"), null],
      ]);
    } finally {
      await repo.remove();
    }
  });

  it("the same name twice among global folders is an error, even if the repository has it", async () => {
    const repo = await makeTempRepo({
      files: { "actorTemplates/web/schema.hrd": "a = type:str\n" },
    });
    const g1 = await makeTempDir();
    const g2 = await makeTempDir();
    try {
      await writeFiles(g1.path, { "web/schema.hrd": "a = type:str\n" });
      await writeFiles(g2.path, { "x/web/schema.hrd": "a = type:str\n" });
      await assert.rejects(
        discoverTemplates(repo.path, { globalDirs: [g1.path, g2.path] }),
        /'web' is defined twice among the global template folders/,
      );
    } finally {
      await repo.remove();
      await g1.remove();
      await g2.remove();
    }
  });

  it("warns about a missing global folder and about files that lose", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/web/actions.ts": "export function x() {}\n",
        "actorTemplates/web/actions.js": "export function x() {}\n",
        "actorTemplates/web/actor.hrd": "\n",
        "actorTemplates/web/actor.yaml": "{}\n",
      },
    });
    try {
      const { templates, warnings } = await discoverTemplates(repo.path, {
        globalDirs: ["/no/such/ays/templates"],
      });
      assert.equal(templates[0].actions, join(repo.path, "actorTemplates", "web", "actions.ts"));
      assert.equal(
        templates[0].actorConfig,
        join(repo.path, "actorTemplates", "web", "actor.yaml"),
      );
      assert.equal(warnings.length, 3);
      assert.match(warnings.join("\n"), /\/no\/such\/ays\/templates is not a folder/);
      assert.match(warnings.join("\n"), /both actions\.ts and actions\.js; using actions\.ts/);
    } finally {
      await repo.remove();
    }
  });

  it("rejects an actor name with '__'", async () => {
    const repo = await makeTempRepo({
      files: { "actorTemplates/a__b/schema.hrd": "a = type:str\n" },
    });
    try {
      await assert.rejects(discoverTemplates(repo.path), /may not contain '__'/);
    } finally {
      await repo.remove();
    }
  });

  it("a repository without actorTemplates/ has no templates", async () => {
    const dir = await makeTempDir();
    try {
      assert.deepEqual(await discoverTemplates(dir.path), {
        templates: [],
        warnings: [],
        duplicates: [],
      });
    } finally {
      await dir.remove();
    }
  });

  it("AYS_TEMPLATES is split on ':'", () => {
    assert.deepEqual(globalTemplateDirs({ AYS_TEMPLATES: "/a::/b:" }), ["/a", "/b"]);
    assert.deepEqual(globalTemplateDirs({}), []);
  });
});
