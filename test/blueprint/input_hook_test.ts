import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { applyInputHooks } from "../../src/blueprint/input_hook.ts";
import { readBlueprint } from "../../src/blueprint/read.ts";
import { applyBlueprints } from "../../src/blueprint/resolve.ts";
import { loadRepoActors } from "../../src/repo/actor.ts";
import { makeTempRepo, type TempDir } from "../helpers/mod.ts";
import { storedService } from "./helpers.ts";

/** A node whose input() creates its os service, as v8.1's node.* templates did in input(). */
const NODE_ACTIONS = `
export function input(ctx) {
  const { service } = ctx;
  if (service.args.size === "huge") throw new Error("no huge nodes");
  if (service.args.size === "loop") return new Promise(() => {});
  if (service.args.size === "bad") return { services: [{ actor: "nope", instance: "x" }] };
  if (service.args.size === "write") { ctx.repo.services.push({}); }
  return {
    args: { size: service.args.size ?? "small", seen: ctx.repo.services.length },
    services: [{ actor: "os.ssh.ubuntu", instance: service.name, parent: "node!" + service.name,
                 args: { image: "ubuntu:16.04" } }],
  };
}
export function install(job) { job.log("installing " + job.service.name); }
`;

async function repoWithNode(): Promise<TempDir> {
  return await makeTempRepo({
    files: {
      "actorTemplates/node.ovc/schema.hrd": "size = type:str\nseen = type:int\n",
      "actorTemplates/node.ovc/actions.ts": NODE_ACTIONS,
      "actorTemplates/os.ssh.ubuntu/schema.hrd": "node = type:str parent:node\nimage = type:str\n",
    },
  });
}

async function run(repo: TempDir, text: string, timeoutMs?: number) {
  const { actors } = await loadRepoActors(repo.path);
  const docs = [readBlueprint(text, { file: "bp.yaml" })];
  const folded = await applyInputHooks(docs, {
    actors,
    services: [],
    repo: { name: "r", path: repo.path },
    timeoutMs,
  });
  return { actors, folded };
}

describe("applyInputHooks", () => {
  it("folds changed args and the services input() asks for into the unit", async () => {
    const repo = await repoWithNode();
    try {
      const { actors, folded } = await run(repo, "node.ovc__n1:\n");
      assert.ok(!actors.get("node.ovc")!.actionNames.includes("input"), "input is no action");
      const changes = applyBlueprints(folded, { repoName: "r", actors, services: [] });
      const byName = new Map(changes.created.map((s) => [`${s.role}!${s.name}`, s]));
      assert.deepEqual([...byName.keys()], ["node!n1", "os!n1"]);
      assert.deepEqual(byName.get("node!n1")!.data, { size: "small", seen: 0 });
      assert.equal(byName.get("os!n1")!.parent, "node!n1");
      assert.equal(byName.get("os!n1")!.data.image, "ubuntu:16.04");
      // Generated entries sit at the blueprint line that caused them.
      assert.deepEqual(folded[0].services[1].location, folded[0].services[0].location);
    } finally {
      await repo.remove();
    }
  });

  it("a throwing, hanging, malformed or writing hook is an InputError at the blueprint line naming the actions file", async () => {
    const repo = await repoWithNode();
    try {
      const expectError = async (size: string, message: RegExp, timeoutMs?: number) => {
        await assert.rejects(
          run(repo, `sshkey__k:\nnode.ovc__n1:\n  size: ${size}\n`, timeoutMs),
          (e: unknown) =>
            e instanceof InputError && e.location?.file === "bp.yaml" && e.location.line === 2 &&
            e.message.includes("node.ovc/actions.ts: input() of node!n1: ") &&
            message.test(e.message),
        );
      };
      await expectError("huge", /no huge nodes/);
      await expectError("loop", /did not return within 0.3 s/, 300);
      await expectError("bad", /services\[0\]: unknown actor "nope"/);
      await expectError("write", /(read.?only|not extensible|frozen|Cannot add)/i);
    } finally {
      await repo.remove();
    }
  });

  it("is called for new or changed services only", async () => {
    const repo = await repoWithNode();
    try {
      const { actors } = await loadRepoActors(repo.path);
      const node = actors.get("node.ovc")!;
      const stored = [storedService("r", node, "n1", { data: { size: "huge", seen: 0 } })];
      const apply = (text: string) =>
        applyInputHooks([readBlueprint(text, { file: "bp.yaml" })], {
          actors,
          services: stored,
          repo: { name: "r", path: repo.path },
        });
      // Unchanged: the hook (which would throw for "huge") is not called.
      const same = await apply("node.ovc__n1:\n  size: huge\n");
      assert.equal(same[0].services.length, 1);
      // Changed: it is.
      const changed = await apply("node.ovc__n1:\n  size: medium\n");
      assert.deepEqual(changed[0].services.map((e) => `${e.actor}__${e.instance}`), [
        "node.ovc__n1",
        "os.ssh.ubuntu__n1",
      ]);
    } finally {
      await repo.remove();
    }
  });
});
