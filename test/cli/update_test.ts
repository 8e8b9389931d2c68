/**
 * `ays update` refuses a schema change that would lose stored values, unless told to reset them.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir, makeTempRepo, type TempDir } from "../helpers/mod.ts";

describe("ays update and values the new schema refuses", () => {
  let repo: TempDir;
  let xdg: TempDir;
  const run = async (...args: string[]) => {
    const io = captureIo({ cwd: repo.path, env: { XDG_CONFIG_HOME: xdg.path } });
    const code = await runCli(args, io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  };
  const schema = (extra: string) => `name = type:str ${extra}\nsize = type:int default:1\n`;

  before(async () => {
    xdg = await makeTempDir();
    repo = await makeTempRepo({
      files: {
        "actorTemplates/box/schema.hrd": schema(""),
        "blueprints/boxes.yaml": "box__a:\n  name: Upper\nbox__b:\n  name: lower\n",
      },
    });
    assert.equal((await run("blueprint", "-q")).code, 0);
  });
  after(async () => {
    await repo?.remove();
    await xdg?.remove();
  });

  it("exits 2 naming the values and changes nothing", async () => {
    await writeFile(join(repo.path, "actorTemplates/box/schema.hrd"), schema("regex:'^[a-z]+$'"));
    const before = await run("show", "-r", "box", "--json");
    const mirrorBefore = await readFile(join(repo.path, "services/box!a/service.json"), "utf8");
    const result = await run("update");
    assert.equal(result.code, 2, result.err);
    assert.match(result.err, /box!a: name/);
    assert.match(result.err, /--reset-invalid/);
    assert.doesNotMatch(result.err, /box!b/);
    assert.equal((await run("show", "-r", "box", "--json")).out, before.out);
    assert.equal(
      await readFile(join(repo.path, "services/box!a/service.json"), "utf8"),
      mirrorBefore,
    );
  });

  it("--reset-invalid resets them to their defaults and keeps the valid ones", async () => {
    const result = await run("update", "--reset-invalid");
    assert.equal(result.code, 0, result.err);
    assert.match(result.err, /box!a: name was reset to its default/);
    const shown = JSON.parse((await run("show", "-r", "box", "--json")).out) as {
      name: string;
      data: { name: string };
    }[];
    assert.deepEqual(shown.map((s) => [s.name, s.data.name]), [["a", ""], ["b", "lower"]]);
  });
});
