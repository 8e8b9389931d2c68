/** The mirror a run writes in the background: only what it changed, the latest version. */
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServiceRecord } from "../../src/model/types.ts";
import { RunMirror } from "../../src/run/run_mirror.ts";
import { servicePaths } from "../../src/store/mirror.ts";
import { makeTempDir, type TempDir } from "../helpers/mod.ts";
import { makeActor, makeService, nameOf } from "../store/fixtures.ts";

describe("RunMirror", () => {
  let dir: TempDir;
  const node = makeActor("node");
  const actors = new Map([[node.name, node]]);
  const a = makeService("r", node, "a");
  const b = makeService("r", node, "b");

  before(async () => {
    dir = await makeTempDir();
  });
  after(() => dir.remove());

  it("writes the marked services only, with their latest record", async () => {
    const services = new Map<string, ServiceRecord>([[nameOf(a), a], [nameOf(b), b]]);
    const errors: unknown[] = [];
    const mirror = new RunMirror(dir.path, services, actors, (e) => errors.push(e));
    mirror.mark(nameOf(a));
    services.set(nameOf(a), { ...a, data: { ...a.data, description: "changed later" } });
    await mirror.flush();
    const paths = servicePaths([a, b]);
    const text = await readFile(join(dir.path, paths.get(a.key)!), "utf8");
    assert.equal(JSON.parse(text).data.description, "changed later");
    assert.equal(await stat(join(dir.path, paths.get(b.key)!)).catch(() => null), null);
    mirror.mark(nameOf(b));
    await mirror.stop();
    assert.ok(await stat(join(dir.path, paths.get(b.key)!)), "stop() writes the rest");
    assert.deepEqual(errors, []);
  });

  it("reports a failed write instead of throwing, and leaves unknown names alone", async () => {
    const blocked = join(dir.path, "blocked");
    await writeFile(blocked, "a file where the repository folder should be");
    const errors: unknown[] = [];
    const mirror = new RunMirror(blocked, new Map([[nameOf(a), a]]), actors, (e) => errors.push(e));
    mirror.mark("node!unknown");
    await mirror.flush();
    assert.deepEqual(errors, []);
    mirror.mark(nameOf(a));
    await mirror.stop();
    assert.equal(errors.length, 1);
  });
});
