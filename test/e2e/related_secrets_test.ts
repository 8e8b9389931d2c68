/**
 * A job's log, result and error mask the secret fields of the services it sees (its parent,
 * producers, consumers), not only its own: `ays run --json` and `ays run show` never print
 * the parent's password, on both stores (build first: `node_modules/.bin/bun build.ts`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  makeTempDir,
  makeTempRepo,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

const APP = `
export function install(job) {
  const pw = job.service.parent.data.adminPassword;
  job.log("parent password " + pw);
  job.log("producer password " + job.service.producers.db[0].data.dbPassword);
  if (job.service.name === "bad") throw new Error("failed with " + pw);
  return { seen: pw };
}
`;

let redis: RedisServer | undefined;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.close();
});

const backends: { name: string; url: () => string[] }[] = [
  { name: "sqlite", url: () => [] },
  { name: "redis", url: () => ["--store", redis!.url] },
];

for (const backend of backends) {
  describe(`secrets of related services are masked in a job's output (${backend.name})`, () => {
    let dir: TempDir;
    let repo: TempDir;
    let env: Record<string, string>;
    const ays = (args: string[]) =>
      runAys([...backend.url(), ...args], { cwd: repo.path, extraEnv: env });

    before(async () => {
      dir = await makeTempDir("ays-e2e-related-secrets-");
      env = { XDG_CONFIG_HOME: join(dir.path, "cfg"), NO_COLOR: "1" };
      repo = await makeTempRepo({
        name: `relsec${process.pid}${backend.name}`,
        files: {
          "actorTemplates/node/schema.hrd": "adminPassword = type:str secret\n",
          "actorTemplates/db/schema.hrd": "dbPassword = type:password\n",
          "actorTemplates/app/schema.hrd": "node = type:str parent:node\ndb = consume:db:1:1\n",
          "actorTemplates/app/actions.ts": APP,
          "blueprints/all.yaml": [
            "node__n1:\n  adminPassword: NODE-ADMIN-PW\n",
            "db__d1:\n  dbPassword: DB-SECRET-PW\n",
            "app__good:\n  node: n1\n  db: d1\n",
            "app__bad:\n  node: n1\n  db: d1\n",
            "actions:\n  - action: install\n",
          ].join(""),
        },
      });
      const applied = await ays(["blueprint"]);
      assert.equal(applied.code, 0, applied.stderr);
    });
    after(async () => {
      await repo?.remove();
      await dir?.remove();
    });

    it("in the log, result and error that run and run show print", async () => {
      const r = await ays(["run", "--json"]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const run = JSON.parse(r.stdout) as { id: string; jobs: { service: string }[] };
      assert.ok(run.jobs.some((job) => job.service === "app!good"), r.stdout);
      const shown = await ays(["run", "show", run.id, "--json"]);
      assert.equal(shown.code, 0, shown.stderr);
      const text = r.stdout + r.stderr + shown.stdout + shown.stderr;
      assert.doesNotMatch(text, /NODE-ADMIN-PW|DB-SECRET-PW/);
      assert.match(shown.stdout, /parent password \*\*\*/);
      assert.match(shown.stdout, /producer password \*\*\*/);
      assert.match(shown.stdout, /failed with \*\*\*/);
    });
  });
}
