/**
 * Real v8.1 repositories through `dist/ays` (build it first: `node_modules/.bin/bun build.ts`):
 * schemas and blueprints as v8.1 wrote them, broken and duplicate templates, unported
 * `actions.py`, `compat: v81`, `ays restore --from-v81` and `ays noexec`. The fixtures are
 * written here, in the shapes v8.1 used.
 */
import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServiceRecord } from "../../src/model/types.ts";
import { openRepositoryStore } from "../../src/store/open.ts";
import { makeTempDir, makeTempRepo, runAys, type TempDir } from "../helpers/mod.ts";

const CHECKOUT = fileURLToPath(new URL("../fixtures/repos/v81_checkout/", import.meta.url));

/** A v8.1-shaped template tree: quoted and dotted links, two parents, a duplicate, a broken one. */
const TEMPLATES: Record<string, string> = {
  "actorTemplates/infra/sshkey/schema.hrd": "key = type:str default:''\n",
  "actorTemplates/infra/disk/schema.hrd": "size = type:int default:10\n",
  "actorTemplates/infra/node.ovc/schema.hrd": "sshkey = type:str consume:'sshkey':1:3 auto\n" +
    "disk = type:str consume:'disk':0\n",
  "actorTemplates/infra/os.ssh.ubuntu/schema.hrd": "node = type:str parent:'node.ovc' auto\n",
  "actorTemplates/infra/app/schema.hrd":
    "vdc = type:string parent:node\nos = type:string parent:os\nmon = type:str consume:os.ssh.ubuntu\n",
  "actorTemplates/infra/app/actions.py":
    "def install(job):\n    job.service.executor.cuisine.core.run('true')\n\ndef backup(job):\n    pass\n",
  "actorTemplates/g8os/vfs/schema.hrd": "a = type:str\n",
  "actorTemplates/os/vfs/schema.hrd": "b = type:str\n",
  "actorTemplates/broken/bad/schema.hrd": "x = type:str\ny = type:nosuchtype\n",
};

async function services(repo: TempDir, repoName = "v81"): Promise<Map<string, ServiceRecord>> {
  const opened = await openRepositoryStore({ repoPath: repo.path, repoName, env: {} });
  try {
    return new Map((await opened.store.loadServices()).map((s) => [`${s.role}!${s.name}`, s]));
  } finally {
    await opened.driver.close();
  }
}

const ays = (repo: TempDir, ...args: string[]) =>
  runAys(["--repo", repo.path, ...args], { extraEnv: { AYS_TEMPLATES: "" } });

describe("v8.1 repositories through dist/ays", () => {
  it("quotes, dotted names, two parents, broken and duplicate templates; unported actions fail", async () => {
    const repo = await makeTempRepo({
      name: "v81",
      files: {
        ...TEMPLATES,
        "blueprints/a.yaml": "node.ovc__n1:\n  disk: []\nos.ssh.ubuntu__o1:\n  node: n1\n" +
          "app__web:\n  node: n1\n  mon: o1\n  os: free text\n\nactions:\n  - action: install\n",
      },
    });
    try {
      const applied = await ays(repo, "blueprint");
      assert.equal(applied.code, 0, applied.stderr);
      // Warnings, not errors: the broken template, the duplicate, the second parent, actions.py.
      assert.match(
        applied.stderr,
        /template bad is broken .*bad[\\/]schema\.hrd:2:5: unknown type/,
      );
      assert.match(
        applied.stderr,
        /template 'vfs' is defined twice .*g8os[\\/]vfs and .*os[\\/]vfs/,
      );
      assert.match(applied.stderr, /schema\.hrd:2:18: field "os" names a second parent/);
      assert.match(applied.stderr, /template app: actions\.py is not ported to actions\.ts/);
      const all = await services(repo);
      assert.deepEqual([...all.keys()].sort(), ["app!web", "node!n1", "os!o1", "sshkey!auto_0"]);
      assert.deepEqual(all.get("node!n1")!.producers, { sshkey: ["sshkey!auto_0"] });
      assert.equal(all.get("os!o1")!.parent, "node!n1");
      assert.equal(all.get("app!web")!.parent, "node!n1");
      assert.deepEqual(all.get("app!web")!.producers.os, ["os!o1"]);
      assert.equal(all.get("app!web")!.data.os, "free text");
      assert.ok("backup" in all.get("app!web")!.actions, "action names come from def lines");

      // A blueprint using the ambiguous or the broken template fails, naming the cause.
      await writeFile(join(repo.path, "blueprints", "b.yaml"), "vfs__v:\n");
      const ambiguous = await ays(repo, "blueprint");
      assert.equal(ambiguous.code, 2, ambiguous.stderr);
      assert.match(ambiguous.stderr, /b\.yaml:1:1: actor 'vfs' cannot be used: .*g8os[\\/]vfs and/);
      await writeFile(join(repo.path, "blueprints", "b.yaml"), "bad__v:\n");
      const broken = await ays(repo, "blueprint");
      assert.equal(broken.code, 2, broken.stderr);
      assert.match(
        broken.stderr,
        /ays: .*bad[\\/]schema\.hrd:2:5: unknown type .*\(the template of actor 'bad', used at blueprints[\\/]b\.yaml:1:1\)/,
      );

      // The unported template's job fails with a pointer to the porting guide.
      await writeFile(join(repo.path, "blueprints", "b.yaml"), "sshkey__k2:\n");
      const run = await ays(repo, "run");
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(
        run.stdout + run.stderr,
        /error app!web install: actions\.py of app is not ported to actions\.ts \(see docs\/from-v81\.md\)/,
      );
    } finally {
      await repo.remove();
    }
  });

  it("compat: v81 drops missing producers with a warning; --compat, -r/-i and a folder", async () => {
    const repo = await makeTempRepo({
      name: "v81",
      files: {
        ...TEMPLATES,
        "blueprints/a.yaml": "sshkey__k:\nnode.ovc__n1:\n  sshkey: [k, uservdc]\n",
        "more/c.yaml": "disk__d1:\ndisk__d2:\n",
      },
    });
    try {
      const strict = await ays(repo, "blueprint");
      assert.equal(strict.code, 2);
      assert.match(strict.stderr, /a\.yaml:3:15: producer 'uservdc' of node!n1 does not exist/);
      const flag = await ays(repo, "blueprint", "--compat", "v81", "--dry-run");
      assert.equal(flag.code, 0, flag.stderr);
      assert.match(
        flag.stderr,
        /a\.yaml:3:15: compat v81: producer 'uservdc' of node!n1 does not exist/,
      );
      await writeFile(join(repo.path, ".ays", "config.yaml"), "name: v81\ncompat: v81\n");
      const configured = await ays(repo, "blueprint");
      assert.equal(configured.code, 0, configured.stderr);
      assert.deepEqual((await services(repo)).get("node!n1")!.producers, { sshkey: ["sshkey!k"] });
      const only = await ays(repo, "blueprint", "-r", "disk", "-i", "d2", join(repo.path, "more"));
      assert.equal(only.code, 0, only.stderr);
      const all = await services(repo);
      assert.ok(all.has("disk!d2") && !all.has("disk!d1"), [...all.keys()].join(" "));
    } finally {
      await repo.remove();
    }
  });

  it("restore --from-v81 imports a v8.1 checkout; noexec records actions as done", async () => {
    // A v8.1 checkout as it is: `.ays` an empty file, no config.
    const repo = await makeTempDir("ays-v81-");
    try {
      await cp(CHECKOUT, repo.path, { recursive: true });
      const restored = await ays(repo, "restore", "--from-v81");
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(restored.stdout, /imported 3 actors and 3 services of a v8\.1 repository/);
      const all = await services(repo, basename(repo.path));
      assert.equal(all.get("box!b1")!.parent, "dc!east");
      assert.deepEqual(all.get("dc!east")!.data, { location: "Ghent" });

      assert.match((await ays(repo, "noexec", "--show")).stdout, /noexec is off/);
      const enabled = await ays(repo, "noexec", "--enable");
      assert.equal(enabled.code, 0, enabled.stderr);
      assert.equal(
        await readFile(join(repo.path, ".ays", "config.yaml"), "utf8"),
        // The restore, the first write, recorded the name (docs/repositories.md).
        `name: ${basename(repo.path)}\nnoexec: true\n`,
      );
      // box has only an unported actions.py: under noexec its install is recorded as done.
      const run = await ays(repo, "run");
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(
        (await services(repo, basename(repo.path))).get("box!b1")!.actions.install.state,
        "ok",
      );
      await ays(repo, "noexec", "--disable");
      assert.match((await ays(repo, "noexec", "--show")).stdout, /noexec is off/);
      assert.equal((await ays(repo, "noexec", "--enable", "--disable")).code, 2);
    } finally {
      await repo.remove();
    }
  });

  it("a v8.1 node template ported: input() creates its os service, shown by --dry-run, then run", async () => {
    const repo = await makeTempRepo({
      name: "v81",
      files: {
        // v8.1's node.* templates created `os.ssh.ubuntu!<node>` in input(); this is the port.
        "actorTemplates/node.ssh/schema.hrd":
          "ip = type:ipaddr default:127.0.0.1\nport = type:int default:22\n",
        "actorTemplates/node.ssh/actions.ts": `
export function input(ctx) {
  return {
    args: { port: ctx.service.args.port ?? 2222 },
    services: [{ actor: "os.ssh.ubuntu", instance: ctx.service.name, parent: "node!" + ctx.service.name }],
  };
}
export function install(job) { job.log("node " + job.service.name + " on port " + job.service.data.port); }
`,
        "actorTemplates/os.ssh.ubuntu/schema.hrd": "node = type:str parent:'node.ssh'\n",
        "actorTemplates/os.ssh.ubuntu/actions.ts": `
export function install(job) {
  job.service.data.node = job.service.parent.name;
  return { on: job.service.parent.data.port };
}
`,
        "blueprints/nodes.yaml": "node.ssh__n1:\n\nactions:\n  - action: install\n",
      },
    });
    try {
      const dry = await ays(repo, "blueprint", "--dry-run");
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /os!n1/);
      assert.match(dry.stdout, /dry run of 1 blueprint: 2 created/);
      const applied = await ays(repo, "blueprint");
      assert.equal(applied.code, 0, applied.stderr);
      const all = await services(repo);
      assert.equal(all.get("os!n1")!.parent, "node!n1");
      assert.equal(all.get("node!n1")!.data.port, 2222);
      const run = await ays(repo, "run");
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const after = await services(repo);
      assert.equal(after.get("os!n1")!.actions.install.state, "ok");
      assert.equal(after.get("node!n1")!.actions.install.state, "ok");
      // A hook that throws is exit 2 at the blueprint line, naming the actions file.
      await writeFile(
        join(repo.path, "actorTemplates", "node.ssh", "actions.ts"),
        "export function input() { throw new Error('no ssh key'); }\n",
      );
      await writeFile(join(repo.path, "blueprints", "more.yaml"), "node.ssh__n2:\n");
      const failed = await ays(repo, "blueprint");
      assert.equal(failed.code, 2, failed.stderr);
      assert.match(
        failed.stderr,
        /blueprints[\\/]more\.yaml:1:1: .*node\.ssh[\\/]actions\.ts: input\(\) of node!n2: no ssh key/,
      );
    } finally {
      await repo.remove();
    }
  });
});
