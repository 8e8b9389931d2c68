/**
 * What an action does inside its worker, through `dist/ays` (build it first:
 * `node_modules/.bin/bun build.ts`): what it prints goes to its job log, masked, never to ays'
 * standard output (so `ays run --json` stays JSON) or standard error; `process.exit()` fails
 * its job at once and the run goes on; a thrown non-Error value reads as one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, makeTempRepo, runAys, type TempDir } from "../helpers/mod.ts";

const NOISY = `
export function install(job) {
  console.log("NOISY-LOG password is", job.service.data.password);
  console.error("NOISY-ERR");
  process.stdout.write("NOISY-RAW\\n");
  return "printed";
}
`;
const QUITTER = `
export function install() {
  process.exit(0);
}
`;
const THROWER = `
export function install() {
  throw Object.create(null);
}
`;

const CHATTY = `
export async function install(job) {
  job.log("L".repeat(100_000_000));
  await job.exec("head -c 50000000 /dev/zero | tr '\\\\0' E; echo; echo after-the-long-line");
  for (let i = 0; i < 2000; i++) job.log("x".repeat(1000) + " line " + i);
  job.log("the last line");
}
`;

interface RunJson {
  id: string;
  state: string;
  jobs: { service: string; state: string; error: { message: string } | null }[];
}

describe("an action's output and exits through the binary", () => {
  let dir: TempDir;
  let repo: TempDir;
  let env: Record<string, string>;

  before(async () => {
    dir = await makeTempDir("ays-e2e-action-output-");
    env = { XDG_CONFIG_HOME: join(dir.path, "cfg"), NO_COLOR: "1" };
    repo = await makeTempRepo({
      name: "noisy",
      files: {
        "actorTemplates/noisy/schema.hrd": "password = type:str secret\n",
        "actorTemplates/noisy/actions.ts": NOISY,
        "actorTemplates/quitter/schema.hrd": "x = type:str\n",
        "actorTemplates/quitter/actions.ts": QUITTER,
        "actorTemplates/thrower/schema.hrd": "x = type:str\n",
        "actorTemplates/thrower/actions.ts": THROWER,
        "blueprints/all.yaml": [
          "noisy__a:\n  password: S3CRET-VALUE\n",
          "quitter__q:\n  x: one\n",
          "thrower__t:\n  x: two\n",
          "actions:\n  - action: install\n",
        ].join(""),
      },
    });
    const applied = await runAys(["blueprint"], { cwd: repo.path, extraEnv: env });
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await repo?.remove();
    await dir?.remove();
  });

  it("bounds a job's log in bytes and line length, keeping its tail", async () => {
    const chatty = await makeTempRepo({
      name: "chatty",
      files: {
        "actorTemplates/chatty/schema.hrd": "x = type:str\n",
        "actorTemplates/chatty/actions.ts": CHATTY,
        "blueprints/all.yaml": "chatty__c:\n  x: one\nactions:\n  - action: install\n",
      },
    });
    try {
      const applied = await runAys(["blueprint"], { cwd: chatty.path, extraEnv: env });
      assert.equal(applied.code, 0, applied.stderr);
      const r = await runAys(["run", "--json"], { cwd: chatty.path, extraEnv: env });
      assert.equal(r.code, 0, r.stderr);
      const run = JSON.parse(r.stdout) as RunJson;
      const shown = await runAys(["run", "show", run.id, "--json", "--tail", "100000"], {
        cwd: chatty.path,
        extraEnv: env,
      });
      assert.equal(shown.code, 0, shown.stderr);
      const job = (JSON.parse(shown.stdout) as { jobs: { log: string[] }[] }).jobs[0];
      const bytes = new TextEncoder().encode(job.log.join("\n")).length;
      assert.ok(bytes <= 1024 * 1024 + 100, `the stored log holds ${bytes} bytes`);
      assert.ok(bytes > 1024 * 1024 / 2, `the stored log holds only ${bytes} bytes`);
      assert.match(job.log[0], /log truncated/);
      assert.equal(job.log.at(-1), "[info] the last line");
      assert.ok(job.log.every((line) => line.length <= 16 * 1024 + 40));
    } finally {
      await chatty.remove();
    }
  });

  it("run --json prints only JSON; the output is in the job log, masked", async () => {
    // Before, the exiting action held the run until its 1 h timeout: the harness kills at 120 s.
    const r = await runAys(["run", "--json"], { cwd: repo.path, extraEnv: env });
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /NOISY|S3CRET/);
    const run = JSON.parse(r.stdout) as RunJson;
    const jobs = new Map(run.jobs.map((job) => [job.service, job]));
    assert.equal(jobs.get("noisy!a")?.state, "ok");
    assert.equal(jobs.get("quitter!q")?.state, "error");
    assert.equal(
      jobs.get("quitter!q")?.error?.message,
      "the action ended its worker (process.exit)",
    );
    assert.equal(
      jobs.get("thrower!t")?.error?.message,
      "a non-Error value was thrown: [Object: null prototype] {}",
    );
    const shown = await runAys(["run", "show", run.id], { cwd: repo.path, extraEnv: env });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\[info\] NOISY-LOG password is \*\*\*/);
    assert.match(shown.stdout, /\[error\] NOISY-ERR/);
    assert.match(shown.stdout, /NOISY-RAW/);
    assert.doesNotMatch(shown.stdout, /S3CRET/);
  });
});
