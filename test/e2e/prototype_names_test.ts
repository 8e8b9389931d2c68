/**
 * Names users give are looked up as own properties (docs/cli.md): through dist/ays, the names of
 * `Object.prototype`'s members are just names — an action, role or service that is not there
 * (exit 2, store unchanged), a service instance that works like any other, a blueprint key that is
 * refused as unknown — on the CLI, in blueprints and in the daemon's API, which keeps serving
 * ordinary requests afterwards. Build first: `node_modules/.bin/bun build.ts`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aysBinary, freePort, makeTempRepo, runAys, type TempDir, until } from "../helpers/mod.ts";

const NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

const FILES = {
  "actorTemplates/kv/schema.hrd": "x = type:str\n",
  "actorTemplates/kv/actions.js": "export function install() {}\nexport function setkey() {}\n",
  "blueprints/a.yaml": "kv__one:\n  x: a\n",
};

describe("prototype names through dist/ays", () => {
  let repo: TempDir;
  const ays = (...args: string[]) => runAys(args, { cwd: repo.path });
  const listed = async () => {
    const out = await ays("list", "--json");
    assert.equal(out.code, 0, out.stderr);
    return out.stdout;
  };

  before(async () => {
    repo = await makeTempRepo({ files: FILES, name: "protos" });
    const applied = await ays("blueprint");
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await repo?.remove();
  });

  it("the CLI refuses each as an unknown action, role or service and changes nothing", async () => {
    const before = await listed();
    for (const name of NAMES) {
      for (
        const args of [
          ["do", name],
          ["set_state", name, "--state", "ok"],
          ["simulate", "--action", name],
          ["run", "-r", name],
          ["list", "-r", name],
          ["show", `kv:${name}`],
        ]
      ) {
        const out = await ays(...args);
        assert.equal(out.code, 2, `ays ${args.join(" ")}: ${out.stdout}${out.stderr}`);
        assert.equal(out.stdout, "", `ays ${args.join(" ")}`);
        assert.ok(out.stderr.includes(name), `ays ${args.join(" ")}: ${out.stderr}`);
      }
    }
    assert.equal(await listed(), before);
  });

  it("in a blueprint each is an ordinary instance name, and an unknown attribute or action", async () => {
    for (const name of NAMES) {
      await writeFile(join(repo.path, "blueprints", "b.yaml"), `kv__two:\n  ${name}: v\n`);
      const attribute = await ays("blueprint");
      assert.equal(attribute.code, 2, attribute.stdout + attribute.stderr);
      assert.match(attribute.stderr, new RegExp(`b\\.yaml:2:3: unknown attribute '${name}'`));

      await writeFile(join(repo.path, "blueprints", "b.yaml"), `actions:\n  - action: ${name}\n`);
      const action = await ays("blueprint");
      assert.equal(action.code, 2, action.stdout + action.stderr);
      assert.match(action.stderr, new RegExp(`b\\.yaml:2:13: no matching service has an action`));
    }
    await writeFile(
      join(repo.path, "blueprints", "b.yaml"),
      NAMES.map((name) => `kv__${name}:\n  x: ${name}-value\n`).join(""),
    );
    const applied = await ays("blueprint");
    assert.equal(applied.code, 0, applied.stderr);
    const services = JSON.parse(await listed()) as { name: string }[];
    for (const name of NAMES) assert.ok(services.some((s) => s.name === name), name);
    const shown = await ays("show", "kv:__proto__", "--json");
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).data.x, "__proto__-value");
  });

  describe("the daemon's API", () => {
    let daemon: ChildProcess | undefined;
    let base = "";

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      daemon = spawn(aysBinary, ["daemon", "--listen", `127.0.0.1:${port}`], {
        cwd: repo.path,
        stdio: "ignore",
      });
      await until(async () => (await fetch(`${base}/health`).catch(() => null))?.ok, {
        what: "the daemon's API",
        timeoutMs: 20_000,
      });
    });
    after(() => {
      daemon?.kill("SIGKILL");
    });

    const post = (body: unknown) =>
      fetch(`${base}/repos/protos/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    it("refuses each as an action (400) and still queues an ordinary run afterwards", async () => {
      for (const name of NAMES) {
        const answer = await post({ action: name });
        const text = await answer.text();
        assert.equal(answer.status, 400, `${name}: ${text}`);
        assert.match(text, /no matching service has an action/);
      }
      const unknownRepo = await fetch(`${base}/repos/constructor/services`);
      assert.equal(unknownRepo.status, 404);
      await unknownRepo.body?.cancel();
      const ok = await post({ action: "setkey", role: "kv", instance: "one" });
      assert.equal(ok.status, 202, await ok.text());
    });
  });
});
