/**
 * A secret an action logs, echoes through job.exec or puts in its error never reaches what
 * `ays run show` prints (docs/hrd.md: never printed, never logged).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { captureIo, runCli } from "../../src/cli/mod.ts";
import { makeTempDir, makeTempRepo, type TempDir } from "../helpers/mod.ts";

const ACTIONS = `
export async function install(job) {
  job.log("pw is " + job.service.data.pw);
  await job.exec("echo exec says " + job.service.data.pw);
}
export function start(job) {
  throw new Error("cannot start with " + job.service.data.pw);
}
`;

describe("secrets in job logs", () => {
  let repo: TempDir;
  let xdg: TempDir;
  const run = async (...args: string[]) => {
    const io = captureIo({ cwd: repo.path, env: { XDG_CONFIG_HOME: xdg.path } });
    const code = await runCli(args, io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  };

  before(async () => {
    xdg = await makeTempDir();
    repo = await makeTempRepo({
      files: {
        "actorTemplates/db/schema.hrd": "pw = type:str secret\n",
        "actorTemplates/db/actions.js": ACTIONS,
        "blueprints/db.yaml": "db__main:\n  pw: hunter2-very-secret\n",
      },
    });
    assert.equal((await run("blueprint", "-q")).code, 0);
  });
  after(async () => {
    await repo?.remove();
    await xdg?.remove();
  });

  it("are masked in the log, the exec output and the error that run show prints", async () => {
    const installed = await run("do", "install");
    assert.equal(installed.code, 0, installed.err);
    const started = await run("do", "start");
    assert.equal(started.code, 1);
    const runs = JSON.parse((await run("runs", "--json")).out) as { id: string }[];
    assert.equal(runs.length, 2);
    for (const { id } of runs) {
      const shown = await run("run", "show", id, "--json");
      assert.equal(shown.code, 0, shown.err);
      assert.ok(!shown.out.includes("hunter2"), shown.out);
      const text = await run("run", "show", id);
      assert.ok(!text.out.includes("hunter2"), text.out);
    }
    const all = (await Promise.all(runs.map(({ id }) => run("run", "show", id, "--json")))).map((
      r,
    ) => r.out)
      .join("");
    assert.match(all, /pw is \*\*\*/);
    assert.match(all, /exec says \*\*\*/);
    assert.match(all, /cannot start with \*\*\*/);
    for (const r of [installed, started]) assert.ok(!(r.out + r.err).includes("hunter2"));
  });
});
