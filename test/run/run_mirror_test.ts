/** The mirror a run writes in the background: only what it changed, the latest version. */
import assert from "node:assert/strict";
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServiceRecord } from "../../src/model/types.ts";
import { RunMirror } from "../../src/run/run_mirror.ts";
import { MirrorWriteError, serviceMirrorText, servicePaths } from "../../src/store/mirror.ts";
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

  it("rewrites an ended job's service unread; compares the files left for the end", async () => {
    const repo = join(dir.path, "ended");
    const services = new Map<string, ServiceRecord>([[nameOf(a), a], [nameOf(b), b]]);
    const paths = servicePaths([a, b]);
    const fileOf = (s: ServiceRecord) => join(repo, paths.get(s.key)!);
    // Both files hold their records' texts already.
    for (const s of [a, b]) {
      await mkdir(join(fileOf(s), ".."), { recursive: true });
      await writeFile(fileOf(s), serviceMirrorText(s, node));
    }
    // Both dated long ago, so that a write shows in the modification time.
    for (const s of [a, b]) await utimes(fileOf(s), 1, 1);
    const file = async (s: ServiceRecord) => {
      const { ino, mtimeMs } = await stat(fileOf(s));
      return { ino, mtimeMs };
    };
    const before = [await file(a), await file(b)];
    const errors: unknown[] = [];
    const mirror = new RunMirror(repo, services, actors, (e) => errors.push(e));
    mirror.syncAll({ later: [nameOf(a), nameOf(b)] });
    // a's job ended: written without comparing, over its file (the same inode); b's never ran:
    // compared at the end, found current, left alone.
    mirror.mark(nameOf(a));
    await mirror.stop();
    const afterA = await file(a);
    assert.notEqual(afterA.mtimeMs, before[0].mtimeMs, "a was rewritten");
    assert.equal(afterA.ino, before[0].ino, "a was rewritten in place");
    assert.deepEqual(await file(b), before[1], "b was only compared");
    assert.equal(await readFile(fileOf(a), "utf8"), serviceMirrorText(a, node));
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

  it("syncAll brings stale files up to date, past a file that cannot be written", async () => {
    const repo = join(dir.path, "sync");
    const long = makeService("r", node, "x".repeat(300));
    const all = [a, b, long];
    const services = new Map<string, ServiceRecord>(all.map((s) => [nameOf(s), s]));
    const paths = servicePaths(all);
    const fileOf = (s: ServiceRecord) => join(repo, paths.get(s.key)!);
    // `a` as a killed run left it (an older state), `b` current.
    const stale = { ...a, actions: { ...a.actions, start: { ...a.actions.start, state: "ok" } } };
    await mkdir(join(fileOf(a), ".."), { recursive: true });
    await writeFile(fileOf(a), serviceMirrorText(stale as ServiceRecord, node));
    await mkdir(join(fileOf(b), ".."), { recursive: true });
    await writeFile(fileOf(b), serviceMirrorText(b, node));
    const before = await stat(fileOf(b));
    const errors: unknown[] = [];
    const mirror = new RunMirror(repo, services, actors, (e) => errors.push(e));
    mirror.syncAll();
    // What the store holds when syncAll is called is written, not a later change.
    services.set(nameOf(a), { ...a, data: { ...a.data, description: "changed later" } });
    await mirror.flush();
    assert.equal(await readFile(fileOf(a), "utf8"), serviceMirrorText(a, node));
    assert.equal((await stat(fileOf(b))).mtimeMs, before.mtimeMs, "a current file is left alone");
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof MirrorWriteError);
    assert.match(String(errors[0]), /ENAMETOOLONG/);
    assert.deepEqual(errors[0].failures.map((f) => f.path), [paths.get(long.key)]);
  });

  it("syncAll leaves the run's own services for the end, and writes them then", async () => {
    const repo = join(dir.path, "later");
    const services = new Map<string, ServiceRecord>([[nameOf(a), a], [nameOf(b), b]]);
    const paths = servicePaths([a, b]);
    const fileOf = (s: ServiceRecord) => join(repo, paths.get(s.key)!);
    const stale = "stale, as a killed run left it\n";
    for (const s of [a, b]) {
      await mkdir(join(fileOf(s), ".."), { recursive: true });
      await writeFile(fileOf(s), stale);
    }
    const errors: unknown[] = [];
    const mirror = new RunMirror(repo, services, actors, (e) => errors.push(e));
    mirror.syncAll({ later: [nameOf(a)] });
    await mirror.flush();
    assert.equal(await readFile(fileOf(b), "utf8"), serviceMirrorText(b, node));
    assert.equal(await readFile(fileOf(a), "utf8"), stale, "not read nor written at the start");
    // The run's job changes `a` without marking it (a job that ended without a service write):
    // stop() still writes its file, with what the run's view holds at the end.
    const ended = { ...a, data: { ...a.data, description: "at the end" } };
    services.set(nameOf(a), ended);
    await mirror.stop();
    assert.equal(await readFile(fileOf(a), "utf8"), serviceMirrorText(ended, node));
    assert.deepEqual(errors, []);
  });
});
