import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import {
  exportedNames,
  loadActor,
  loadRepoActors,
  pythonActionNames,
} from "../../src/repo/actor.ts";
import { discoverTemplates } from "../../src/repo/templates.ts";
import { DEFAULT_ACTIONS } from "../../src/model/types.ts";
import { makeTempRepo } from "../helpers/mod.ts";

const ACTIONS_TS = `import type { Job } from "ays";
// export function commentedOut() {}
/* export function alsoCommented() {} */
export async function install(job: Job) { return { url: "http://x//y" }; }
export function backup() {}
export const restore = async () => {};
function helper() {}
export { helper as check, helper };
export type { Job };
export { other } from "./other.ts";
export default function () {}
`;

describe("loadActor", () => {
  it("reads schema.hrd, actions.ts and actor.yaml", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/node.ssh/schema.hrd":
          "ssh.addr = type:ipaddr\nssh.port = type:int default:22\nsshkey = consume:sshkey:1:1 auto\n",
        "actorTemplates/node.ssh/actions.ts": ACTIONS_TS,
        "actorTemplates/node.ssh/actor.yaml":
          "recurring:\n  monitor: { period: 5m, log: true }\nactions:\n  backup: { timeout: 2h }\n",
      },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      const { actor, warnings } = await loadActor(template);
      assert.deepEqual(warnings, []);
      assert.equal(actor.name, "node.ssh");
      assert.equal(actor.role, "node");
      assert.equal(actor.templatePath, template.path);
      assert.deepEqual(actor.fields.map((f) => [f.camelName, f.type]), [
        ["sshAddr", "ipaddr"],
        ["sshPort", "int"],
        ["sshkey", "str"],
      ]);
      assert.deepEqual(actor.fields[2].consume, { roles: ["sshkey"], min: 1, max: 1 });
      assert.equal(actor.actionsPath, template.actions);
      assert.equal(
        actor.actionsHash,
        createHash("sha256").update(ACTIONS_TS).digest("hex"),
      );
      assert.deepEqual(actor.actionNames, [
        ...DEFAULT_ACTIONS,
        "backup",
        "restore",
        "check",
        "helper",
      ]);
      assert.equal(actor.config.recurring.monitor.period, 300);
      assert.match(actor.capnpSchema, /^struct Schema \{$/m);
      assert.match(actor.capnpSchema, /sshPort @1 :Int64;/);
      // The generated schema is one the official compiler accepts.
      const file = join(repo.path, "out.capnp");
      await writeFile(file, actor.capnpSchema);
      execFileSync("capnp", ["compile", "-o-", file], { stdio: ["ignore", "ignore", "pipe"] });
    } finally {
      await repo.remove();
    }
  });

  it("schema.capnp wins over schema.hrd; its types become field specs", async () => {
    const capnp = "@0xd0a1b2c3d4e5f601;\n" +
      "struct Schema {\n  name @0 :Text;\n  port @2 :UInt16 = 80;\n  tags @1 :List(Text);\n" +
      "  color @3 :Color;\n  enum Color { red @0; green @1; }\n}\n";
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/web/schema.capnp": capnp,
        "actorTemplates/web/schema.hrd": "other = type:str\n",
        "actorTemplates/web/actor.hrd": "recurring.monitor =\n    period: 1m,\n    log: True,\n",
      },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      const { actor, warnings } = await loadActor(template);
      assert.match(warnings.join("\n"), /schema\.capnp wins over schema\.hrd/);
      assert.equal(actor.capnpSchema, capnp);
      assert.deepEqual(
        actor.fields.map((f) => [f.camelName, f.type, f.list, f.default, f.minval, f.maxval]),
        [
          ["name", "str", false, undefined, undefined, undefined],
          ["tags", "str", true, undefined, undefined, undefined],
          ["port", "int", false, 80, 0, 65535],
          ["color", "str", false, undefined, undefined, undefined],
        ],
      );
      assert.deepEqual(actor.fields[3].singlechoice, ["red", "green"]);
      assert.equal(actor.config.recurring.monitor.period, 60);
      assert.equal(actor.actionsPath, null);
      assert.equal(actor.actionsHash, null);
      assert.deepEqual(actor.actionNames, [...DEFAULT_ACTIONS]);
    } finally {
      await repo.remove();
    }
  });

  it("a template with only an actions file has no fields and an empty schema", async () => {
    const repo = await makeTempRepo({
      files: { "actorTemplates/tool/actions.js": "export function run() {}\n" },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      const { actor } = await loadActor(template);
      assert.deepEqual(actor.fields, []);
      assert.match(actor.capnpSchema, /struct Schema \{\s*\}/);
      assert.ok(actor.actionNames.includes("run"));
    } finally {
      await repo.remove();
    }
  });

  it("warns about configured actions the file does not export", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/t/actions.ts": "export function install() {}\n",
        "actorTemplates/t/actor.yaml": "recurring:\n  check: { period: 1m }\n",
      },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      const { warnings } = await loadActor(template);
      assert.match(warnings.join("\n"), /configures action 'check', which .* does not export/);
    } finally {
      await repo.remove();
    }
  });

  it("schema errors come with file:line:column", async () => {
    const repo = await makeTempRepo({
      files: { "actorTemplates/t/schema.hrd": "a = type:str\nb = type:nosuchtype\n" },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      await assert.rejects(loadActor(template), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.location?.file, template.schemaHrd);
        assert.equal(error.location?.line, 2);
        return true;
      });
    } finally {
      await repo.remove();
    }
  });

  it("schema.hrd and actor.hrd that are not UTF-8 are refused at the byte", async () => {
    for (const name of ["schema.hrd", "actor.hrd"]) {
      const repo = await makeTempRepo({ files: { "actorTemplates/t/actions.ts": "" } });
      try {
        const file = join(repo.path, "actorTemplates", "t", name);
        const first = name === "schema.hrd" ? "a = type:str\n" : "recurring.m = 1m\n";
        await writeFile(file, Buffer.concat([Buffer.from(`${first}x`), Buffer.from([0xff])]));
        const [template] = (await discoverTemplates(repo.path)).templates;
        await assert.rejects(loadActor(template), (error: unknown) => {
          assert.ok(error instanceof InputError, String(error));
          assert.match(error.message, /not valid UTF-8/);
          assert.deepEqual(error.location, { file, line: 2, column: 2 });
          return true;
        });
      } finally {
        await repo.remove();
      }
    }
  });

  it("a schema.capnp without the root struct is an error", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/t/schema.capnp": "@0xd0a1b2c3d4e5f601;\nstruct Other { a @0 :Text; }\n",
      },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      await assert.rejects(loadActor(template), /has no struct Schema/);
      const { actor } = await loadActor(template, { struct: "Other" });
      assert.deepEqual(actor.fields.map((f) => f.name), ["a"]);
    } finally {
      await repo.remove();
    }
  });
});

describe("exportedNames", () => {
  it("finds function, binding and list exports, not comments, types, re-exports or default", () => {
    assert.deepEqual(exportedNames(ACTIONS_TS), [
      "install",
      "backup",
      "restore",
      "check",
      "helper",
    ]);
  });
});

describe("loadRepoActors", () => {
  it("loads every template of the repository and the global folders", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/a/schema.hrd": "x = type:str\nx = type:int\n",
        "actorTemplates/cat/b.one/actions.ts": "export function go() {}\n",
      },
    });
    try {
      const { actors, warnings } = await loadRepoActors(repo.path);
      assert.deepEqual([...actors.keys()], ["a", "b.one"]);
      assert.equal(actors.get("b.one")!.role, "b");
      // schema.hrd's warning for the field defined twice comes through.
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /schema\.hrd:2/);
    } finally {
      await repo.remove();
    }
  });

  it("unported v8.1 templates: action names from actions.py's def NAME(job) lines, a warning", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/old/schema.hrd": "a = type:str\n",
        "actorTemplates/old/actions.py":
          "from JumpScale import j\n\ndef install(job):\n    pass\n\ndef _helper(x):\n    pass\n\n" +
          "def backup(job, extra=1):\n    pass\n\nclass X:\n    def method(job):\n        pass\n",
      },
    });
    try {
      const [template] = (await discoverTemplates(repo.path)).templates;
      const { actor, warnings } = await loadActor(template);
      assert.equal(actor.actionsPath, join(repo.path, "actorTemplates", "old", "actions.py"));
      assert.ok(actor.actionNames.includes("backup"));
      assert.ok(!actor.actionNames.includes("_helper") && !actor.actionNames.includes("method"));
      assert.match(warnings.join("\n"), /template old: actions\.py is not ported to actions\.ts/);
    } finally {
      await repo.remove();
    }
  });

  it("pythonActionNames reads top-level defs taking job", () => {
    assert.deepEqual(
      pythonActionNames("def init(job):\ndef  start( job ):\ndef helper(x):\n  def inner(job):\n"),
      ["init", "start"],
    );
  });
});

describe("loadRepoActors tolerant", () => {
  it("a broken template and an ambiguous name are warnings and unusable actors, not errors", async () => {
    const repo = await makeTempRepo({
      files: {
        "actorTemplates/good/schema.hrd": "a = type:str\n",
        "actorTemplates/bad/schema.hrd": "a = type:str\nb = nosuchtag:1\n",
        "actorTemplates/os/vfs/schema.hrd": "a = type:str\n",
        "actorTemplates/g8os/vfs/schema.hrd": "a = type:str\n",
      },
    });
    try {
      await assert.rejects(loadRepoActors(repo.path), InputError);
      const loaded = await loadRepoActors(repo.path, { tolerant: true });
      assert.deepEqual([...loaded.actors.keys()], ["good"]);
      assert.deepEqual([...loaded.unusable.keys()].sort(), ["bad", "vfs"]);
      const bad = loaded.unusable.get("bad")!;
      assert.match(bad.message, /unknown tag "nosuchtag"/);
      assert.deepEqual(bad.location, {
        file: join(repo.path, "actorTemplates", "bad", "schema.hrd"),
        line: 2,
        column: 5,
      });
      assert.match(loaded.warnings.join("\n"), /bad[\\/]schema\.hrd:2:5: unknown tag "nosuchtag"/);
      assert.match(loaded.unusable.get("vfs")!.message, /g8os[\\/]vfs and .*os[\\/]vfs/);
      assert.equal(loaded.warnings.length, 2);
      const compat = await loadRepoActors(repo.path, { tolerant: true, compat: "v81" });
      assert.deepEqual([...compat.actors.keys()].sort(), ["good", "vfs"]);
      assert.equal(
        compat.actors.get("vfs")!.templatePath,
        join(repo.path, "actorTemplates", "g8os", "vfs"),
      );
      assert.match(
        compat.warnings.join("\n"),
        /compat v81: template 'vfs' is defined in .*; using /,
      );
    } finally {
      await repo.remove();
    }
  });
});
