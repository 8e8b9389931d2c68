/**
 * The lifecycle model end to end through `dist/ays` (build it first: `bun build.ts`), on both
 * stores — the repository's SQLite file and a private Redis given with `--store`: the shipped
 * examples/webstack torn down twice, and the rules of docs/runs.md "Action states".
 */
import assert from "node:assert/strict";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type AysResult,
  freePort,
  makeTempDir,
  projectRoot,
  type RedisServer,
  runAys,
  startRedis,
  type TempDir,
} from "../helpers/mod.ts";

let redis: RedisServer | undefined;
let counter = 0;

const backends: { name: string; url: () => string | undefined }[] = [
  { name: "sqlite", url: () => undefined },
  { name: "redis", url: () => redis!.url },
];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.close();
});

/** Whether a process exists and has not exited (a zombie has). */
async function alive(pid: number): Promise<boolean> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    return !text.slice(text.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Parsed `--json` output, read field by field in assertions. */
// deno-lint-ignore no-explicit-any
type Json = any;

/** A copy of a repository folder driven through the binary on one store. */
export class E2eRepo {
  readonly path: string;
  readonly store: string | undefined;
  readonly env: Record<string, string>;

  constructor(temp: TempDir, path: string, store: string | undefined) {
    this.path = path;
    this.store = store;
    this.env = {
      ...process.env as Record<string, string>,
      XDG_CONFIG_HOME: join(temp.path, ".cfg"),
      NO_COLOR: "1",
    };
    delete this.env.AYS_STORE;
  }

  ays(args: string[]): Promise<AysResult> {
    const all = this.store ? ["--store", this.store, ...args] : args;
    return runAys(all, { cwd: this.path, env: this.env });
  }

  async ok(args: string[]): Promise<AysResult> {
    const result = await this.ays(args);
    assert.equal(result.code, 0, `ays ${args.join(" ")}\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  async show(service: string): Promise<Json> {
    return JSON.parse((await this.ok(["show", service, "--json"])).stdout);
  }
}

for (const backend of backends) {
  describe(`examples/webstack torn down twice (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    let port: number;
    const pids: number[] = [];

    before(async () => {
      temp = await makeTempDir("ays-lifecycle-");
      const path = join(temp.path, "webstack");
      await cp(join(projectRoot, "examples", "webstack"), path, { recursive: true });
      // A name of its own, so repositories sharing the Redis do not meet.
      await writeFile(join(path, ".ays", "config.yaml"), `name: ws${process.pid}n${++counter}\n`);
      port = await freePort();
      const blueprint = join(path, "blueprints", "02_web.yaml");
      const text = await readFile(blueprint, "utf8");
      await writeFile(blueprint, text.replace(/^ {2}port: 8080$/m, `  port: ${port}`));
      repo = new E2eRepo(temp, path, backend.url());
    });
    after(async () => {
      for (const pid of pids) if (await alive(pid)) process.kill(-pid, "SIGKILL");
      await temp?.remove();
    });

    it("blueprint, run, do stop, do uninstall, blueprint, run, do stop: the server stops", async () => {
      const url = `http://127.0.0.1:${port}/`;
      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
      const first = (await repo.show("webserver:main")).data.pid;
      pids.push(first);
      assert.ok(await alive(first) && await answers(url), "the server runs");

      await repo.ok(["do", "stop"]);
      assert.ok(!(await alive(first)), "the first stop stops the server");
      await repo.ok(["do", "uninstall"]);
      let web = await repo.show("webserver:main");
      assert.deepEqual(
        [web.actions.install.state, web.actions.start.state, web.actions.stop.state],
        ["new", "new", "new"],
      );

      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
      web = await repo.show("webserver:main");
      const second = web.data.pid;
      pids.push(second);
      assert.ok(second !== first && await alive(second) && await answers(url), "runs again");
      assert.equal(web.actions.stop.state, "new", "a successful start sets stop back to new");
      assert.equal(web.actions.uninstall.state, "new", "a successful install sets uninstall back");

      const stop = await repo.ok(["do", "stop"]);
      assert.doesNotMatch(stop.stderr, /already ok/);
      assert.ok(!(await alive(second)), `the second stop stops the server (pid ${second})`);
      assert.ok(!(await answers(url)));
      assert.equal((await repo.show("webserver:main")).actions.stop.state, "ok");
      // The daemon's monitor is paused while the server is stopped, and ays state says why.
      const state = JSON.parse((await repo.ok(["state", "-r", "webserver", "--json"])).stdout);
      assert.equal(
        state[0].actions.monitor.paused,
        "start is new (monitor runs while start is ok)",
      );
      const text = (await repo.ok(["state", "-r", "webserver"])).stdout;
      assert.match(text, /monitor +paused: start is new/);
    });

    it("uninstall of a started service runs stop first", async () => {
      await repo.ok(["do", "start"]);
      const web = await repo.show("webserver:main");
      pids.push(web.data.pid);
      assert.ok(await alive(web.data.pid));
      const run = JSON.parse(
        (await repo.ok(["do", "uninstall", "-r", "webserver", "--json"])).stdout,
      );
      const jobs = run.jobs.map((j: { service: string; action: string }) => j.action);
      assert.deepEqual(jobs, ["stop", "uninstall"]);
      assert.ok(!(await alive(web.data.pid)), "uninstall stopped the server first");
    });
  });
}

/** A repository of one `kv` service whose explicit action `setkey` logs its `job.args`. */
const KV_FILES: Record<string, string> = {
  "actorTemplates/kv/schema.hrd": "key = type:str default:''\n",
  "actorTemplates/kv/actions.js": `
import { appendFileSync } from "node:fs";
export async function install(job) {}
export async function setkey(job) {
  appendFileSync(job.repo.path + "/setkey.log", JSON.stringify(job.args) + "\\n");
  if (job.args.fail !== undefined) throw new Error("asked to fail");
  job.service.data.key = String(job.args.key);
}
`,
  "blueprints/1_kv.yaml": "kv__one:\n\nactions:\n  - action: install\n",
};

/** A temporary repository of `files` on one store. */
async function kvRepo(
  backend: { url: () => string | undefined },
  files: Record<string, string> = KV_FILES,
): Promise<{ temp: TempDir; repo: E2eRepo }> {
  const temp = await makeTempDir("ays-lifecycle-");
  const path = join(temp.path, "kv");
  files = { ...files, ".ays/config.yaml": `name: kv${process.pid}n${++counter}\n` };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), text);
  }
  return { temp, repo: new E2eRepo(temp, path, backend.url()) };
}

async function setkeyLog(repo: E2eRepo): Promise<unknown[]> {
  const text = await readFile(join(repo.path, "setkey.log"), "utf8").catch(() => "");
  return text.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

for (const backend of backends) {
  describe(`explicit actions (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend));
      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
    });
    after(() => temp?.remove());

    it("run every time ays do asks, with that call's --args", async () => {
      const first = await repo.ok(["do", "setkey", "--args", "key=k1"]);
      assert.match(first.stderr, /scheduled setkey on 1 of 1 services that have it/);
      const second = await repo.ok(["do", "setkey", "--args", "key=k2"]);
      assert.match(second.stderr, /scheduled setkey on 1 of 1 services that have it/);
      assert.deepEqual(await setkeyLog(repo), [{ key: "k1" }, { key: "k2" }]);
      assert.equal((await repo.show("kv:one")).data.key, "k2");
      // Lifecycle actions keep the rule.
      const install = await repo.ok(["do", "install"]);
      assert.match(install.stderr, /1 already ok: --force runs them again/);
    });

    it("--args k=v values are strings; a YAML file gives typed ones; k:v is accepted", async () => {
      const before = (await setkeyLog(repo)).length;
      await repo.ok(["do", "setkey", "--args", "key=1.10", "n=3"]);
      await repo.ok(["do", "setkey", "--args", "key:v81 n:4"]);
      await writeFile(join(repo.path, "args.yaml"), "key: typed\nn: 5\nratio: 1.10\n");
      await repo.ok(["do", "setkey", "--args", "args.yaml"]);
      assert.deepEqual((await setkeyLog(repo)).slice(before), [
        { key: "1.10", n: "3" },
        { key: "v81", n: "4" },
        { key: "typed", n: 5, ratio: 1.1 },
      ]);
      const bad = await repo.ays(["do", "setkey", "--args", "nosuch.yaml"]);
      assert.equal(bad.code, 2, bad.stderr);
    });

    it("a failed one stays error; a plain run does not take it again, ays do does", async () => {
      const failed = await repo.ays(["do", "setkey", "--args", "fail=1"]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.equal((await repo.show("kv:one")).actions.setkey.state, "error");
      const ran = (await setkeyLog(repo)).length;
      const run = await repo.ays(["run"]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await setkeyLog(repo)).length, ran, "the plain run ran setkey");
      assert.equal((await repo.show("kv:one")).actions.setkey.state, "error");
      await repo.ok(["do", "setkey", "--args", "key=k3"]);
      const kv = await repo.show("kv:one");
      assert.equal(kv.actions.setkey.state, "ok");
      assert.equal(kv.data.key, "k3");
    });
  });
}

for (const backend of backends) {
  describe(`no phantom work (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, {
        ...KV_FILES,
        "actorTemplates/plain/schema.hrd": "note = type:str default:''\n",
        "blueprints/1_kv.yaml": "kv__one:\nplain__p:\n\nactions:\n  - action: install\n",
      }));
      await repo.ok(["blueprint"]);
    });
    after(() => temp?.remove());

    const runCount = async () => JSON.parse((await repo.ok(["runs", "--json"])).stdout).length;

    it("plans default actions only where the actions file exports them", async () => {
      const result = await repo.ok(["run", "--json"]);
      const run = JSON.parse(result.stdout);
      assert.deepEqual(
        run.jobs.map((j: { service: string; action: string }) => `${j.service} ${j.action}`),
        ["kv!one install"],
      );
      assert.match(result.stderr, / run \S+: 1 job\n/);
      // Satisfied without a job: ok all the same.
      const plain = await repo.show("plain:p");
      assert.equal(plain.actions.install.state, "ok");
      assert.equal(plain.actions.init.state, "ok");
      assert.equal(plain.state, "ok");
      assert.equal((await repo.show("kv:one")).actions.init.state, "ok");
    });

    it("a run with nothing to do is not recorded", async () => {
      const before = await runCount();
      assert.equal(before, 1);
      const again = await repo.ok(["run"]);
      assert.match(again.stderr, /nothing to do/);
      const install = await repo.ok(["do", "install"]);
      assert.match(install.stderr, /scheduled install on 0 of 2 services that have it \(2 already/);
      assert.equal(await runCount(), before);
    });

    it("counts the services that have the action", async () => {
      const r = await repo.ok(["do", "setkey", "--args", "key=a"]);
      assert.match(r.stderr, /scheduled setkey on 1 of 1 services that have it\n/);
      assert.match(r.stderr, / run \S+: 1 job\n/);
    });
  });
}

for (const backend of backends) {
  describe(`simulate --action shows what ays do would run (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, {
        ...KV_FILES,
        "blueprints/1_kv.yaml": "kv__one:\nkv__two:\n\nactions:\n  - action: install\n",
      }));
      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
    });
    after(() => temp?.remove());

    const simulated = async (args: string[]) => {
      const plan = JSON.parse((await repo.ok(["simulate", "--json", ...args])).stdout);
      return plan.steps.flat().map((j: { service: string; action: string }) =>
        `${j.service} ${j.action}`
      );
    };
    const ran = async (args: string[]) => {
      const r = await repo.ok(["do", "--json", ...args]);
      if (r.stdout.trim() === "") return [];
      return JSON.parse(r.stdout).jobs.map((j: { service: string; action: string }) =>
        `${j.service} ${j.action}`
      ).sort();
    };

    for (
      const args of [
        ["setkey", "--args", "key=x"],
        ["setkey", "-i", "two", "--args", "key=y"],
        ["install"],
        ["install", "-i", "one", "--force"],
        ["stop"],
      ]
    ) {
      it(`ays do ${args.join(" ")}`, async () => {
        const [action, ...rest] = args.filter((a) => !a.startsWith("key="));
        const filters = rest.filter((a) => a !== "--args");
        const plan = await simulated(["--action", action, ...filters]);
        const text = (await repo.ok(["simulate", "--action", action, ...filters])).stdout;
        for (const job of plan) assert.match(text, new RegExp(`  ${job}  \\(\\w+\\)`));
        assert.deepEqual([...plan].sort(), await ran(args));
      });
    }

    it("simulate --action writes nothing and refuses typos", async () => {
      const before = (await repo.show("kv:one")).actions.setkey.state;
      await repo.ok(["simulate", "--action", "setkey"]);
      assert.equal((await repo.show("kv:one")).actions.setkey.state, before);
      const typo = await repo.ays(["simulate", "--action", "stekey"]);
      assert.equal(typo.code, 2, typo.stderr);
    });
  });
}

for (const backend of backends) {
  describe(`typos are errors with suggestions (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, {
        ...KV_FILES,
        "actorTemplates/redis/schema.hrd": "port = type:int default:6379\n",
        "actorTemplates/app/schema.hrd": "redis = consume:redis:1:1\n",
        "blueprints/1_kv.yaml": "kv__one:\nredis__main:\napp__web:\n  redis: main\n",
      }));
      await repo.ok(["blueprint"]);
    });
    after(() => temp?.remove());

    const refused = async (args: string[], message: RegExp) => {
      const before = await repo.ok(["list", "--json"]);
      const r = await repo.ays(args);
      assert.equal(r.code, 2, `ays ${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal((await repo.ok(["list", "--json"])).stdout, before.stdout, "store unchanged");
      return r;
    };

    it("in filters, actions and services on the command line", async () => {
      const role = /unknown role or actor 'redsi' \(did you mean 'redis'\?\)/;
      await refused(["run", "-r", "redsi"], role);
      await refused(["simulate", "-r", "redsi"], role);
      await refused(["list", "-r", "redsi"], role);
      await refused(["state", "-r", "redsi"], role);
      await refused(["do", "install", "-r", "redsi"], role);
      await refused(["run", "-r", "nosuchrole"], /unknown role or actor 'nosuchrole'\n/);
      await refused(["list", "-i", "mian"], /no service matches -i mian \(did you mean 'main'\?\)/);
      await refused(
        ["simulate", "--action", "stekey"],
        /no matching service has an action stekey \(did you mean 'setkey'\?\)/,
      );
      await refused(
        ["show", "redis!mian"],
        /no service redis!main|no service redis!mian in this repository \(did you mean 'redis!main'\?\)/,
      );
    });

    it("in blueprints, with the source line and a caret under the column", async () => {
      const write = (text: string) => writeFile(join(repo.path, "blueprints", "2_bad.yaml"), text);
      await write("redsi__cache:\n");
      let r = await refused(["blueprint"], /unknown actor 'redsi' \(did you mean 'redis'\?\)/);
      assert.match(r.stderr, /2_bad\.yaml:1:1: .*\n {4}1 \| redsi__cache:\n {6}\| \^\n/);
      await write("redis__cache:\n  prot: 1\n");
      r = await refused(["blueprint"], /unknown attribute 'prot' .*\(did you mean 'port'\?\)/);
      assert.match(r.stderr, /2_bad\.yaml:2:3: .*\n {4}2 \| {3}prot: 1\n {6}\| {3}\^\n/);
      await write("app__other:\n  redis: mian\n");
      r = await refused(["blueprint"], /producer 'mian' .*\(did you mean 'main'\?\)/);
      assert.match(r.stderr, /\n {4}2 \| {3}redis: mian\n {6}\| {10}\^\n/);
      await writeFile(join(repo.path, "blueprints", "2_bad.yaml"), "");
    });
  });
}

for (const backend of backends) {
  describe(`ays show says why (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, {
        ...KV_FILES,
        "blueprints/1_kv.yaml": "kv__one:\nkv__two:\n\nactions:\n  - action: install\n",
      }));
      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
    });
    after(() => temp?.remove());

    it("the last job of each action: state, time, run id and error message", async () => {
      const failed = await repo.ays(["do", "setkey", "-i", "one", "--args", "fail=1", "--json"]);
      assert.equal(failed.code, 1, failed.stderr);
      const run = JSON.parse(failed.stdout);
      const kv = await repo.show("kv:one");
      const job = kv.actions.setkey.lastJob;
      assert.equal(job.state, "error");
      assert.equal(job.run, run.id);
      assert.equal(job.error, "asked to fail");
      assert.ok(!Number.isNaN(Date.parse(job.at)), job.at);
      assert.equal(kv.actions.install.lastJob.state, "ok");
      const text = (await repo.ok(["show", "kv!one"])).stdout;
      assert.match(
        text,
        /setkey +error\b.*\n +last job error at \S+, run \S+\n +error: asked to fail\n/,
      );
      assert.ok(text.includes(`run ${run.id}`), text);
    });

    it("ays show ROLE shows every service of that role", async () => {
      const all = JSON.parse((await repo.ok(["show", "kv", "--json"])).stdout);
      assert.deepEqual(all.map((s: { name: string }) => s.name), ["one", "two"]);
      const text = (await repo.ok(["show", "kv"])).stdout;
      assert.match(text, /^kv!one\n[\s\S]*\nkv!two\n/);
      const typo = await repo.ays(["show", "vk"]);
      assert.equal(typo.code, 2, typo.stderr);
    });
  });
}

const CHANGE_FILES: Record<string, string> = {
  "actorTemplates/redis/schema.hrd": "port = type:int default:6379\n",
  "actorTemplates/redis/actions.js": `
import { appendFileSync } from "node:fs";
const log = (job, what) => appendFileSync(job.repo.path + "/order.log", what + "\\n");
export async function install(job) {}
export async function processChange(job) {
  log(job, "begin redis " + JSON.stringify(job.args.changes));
  await new Promise((resolve) => setTimeout(resolve, 200));
  log(job, "end redis");
}
`,
  "actorTemplates/app/schema.hrd": "redis = consume:redis:1:1\n",
  "actorTemplates/app/actions.js": `
import { appendFileSync, writeFileSync } from "node:fs";
const log = (job, what) => appendFileSync(job.repo.path + "/order.log", what + "\\n");
const configure = (job) => writeFileSync(job.repo.path + "/" + job.service.name + ".conf",
  "port=" + job.service.producers.redis[0].data.port + "\\n");
export async function install(job) { configure(job); }
export async function processChange(job) {
  log(job, "begin " + job.service.name + " " + JSON.stringify(job.args.changes));
  configure(job);
  log(job, "end " + job.service.name);
}
`,
  "blueprints/1_app.yaml":
    "redis__main:\n  port: 6379\napp__web:\n  redis: main\napp__worker:\n  redis: main\n\n" +
    "actions:\n  - action: install\n",
};

for (const backend of backends) {
  describe(`changes reach consumers (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, CHANGE_FILES));
      await repo.ok(["blueprint"]);
      await repo.ok(["run"]);
    });
    after(() => temp?.remove());

    it("a producer's change gets each consumer's processChange after the producer's", async () => {
      const conf = (name: string) => readFile(join(repo.path, `${name}.conf`), "utf8");
      assert.equal(await conf("web"), "port=6379\n");
      const blueprint = join(repo.path, "blueprints", "1_app.yaml");
      await writeFile(blueprint, CHANGE_FILES["blueprints/1_app.yaml"].replace("6379", "6380"));
      const applied = JSON.parse((await repo.ok(["blueprint", "--json"])).stdout);
      assert.deepEqual(
        applied.scheduled.map((s: { service: string; action: string }) => s.service).sort(),
        ["app!web", "app!worker", "redis!main"],
      );
      await repo.ok(["run"]);
      assert.equal(await conf("web"), "port=6380\n");
      assert.equal(await conf("worker"), "port=6380\n");
      const lines = (await readFile(join(repo.path, "order.log"), "utf8")).trim().split("\n");
      const change = JSON.stringify({ "redis!main": { port: { old: 6379, new: 6380 } } });
      assert.equal(lines[0], `begin redis ${JSON.stringify({ port: { old: 6379, new: 6380 } })}`);
      assert.equal(lines[1], "end redis", "a consumer's processChange ran during the producer's");
      assert.deepEqual(lines.slice(2).sort(), [
        `begin web ${change}`,
        `begin worker ${change}`,
        "end web",
        "end worker",
      ]);
      const web = await repo.show("app:web");
      assert.equal(web.actions.processChange.state, "ok");
    });
  });
}

for (const backend of backends) {
  describe(`blueprint --dry-run is a diff (${backend.name})`, () => {
    let temp: TempDir;
    let repo: E2eRepo;
    before(async () => {
      ({ temp, repo } = await kvRepo(backend, CHANGE_FILES));
      await repo.ok(["blueprint"]);
    });
    after(() => temp?.remove());

    it("prints + ~ - without colour, the same content as --json, and writes nothing", async () => {
      await writeFile(
        join(repo.path, "blueprints", "1_app.yaml"),
        "redis__main:\n  port: 6380\nredis__cache:\napp__web:\n  redis: cache\n",
      );
      const before = await repo.ok(["list", "--json"]);
      const r = await repo.ok(["blueprint", "--dry-run"]);
      assert.equal(
        r.stdout,
        [
          "+ redis!cache (redis)",
          "+     port: 6379",
          "~ app!web",
          '~     redis: "main" → "cache"',
          "+     link redis!cache",
          "-     link redis!main",
          "~ redis!main",
          "~     port: 6379 → 6380",
          "  schedule redis!main processChange (port)",
          "  schedule app!web processChange (redis)",
          "- not in any blueprint: app!worker — `ays delete app!worker` to remove",
          "dry run of 1 blueprint: 1 created, 2 updated, 2 scheduled; nothing written",
          "",
        ].join("\n"),
      );
      const json = JSON.parse((await repo.ok(["blueprint", "--dry-run", "--json"])).stdout);
      assert.deepEqual(json.diff.create, [{
        service: "redis!cache",
        actor: "redis",
        data: { port: 6379 },
        links: [],
      }]);
      assert.deepEqual(json.diff.update.map((u: { service: string }) => u.service), [
        "app!web",
        "redis!main",
      ]);
      assert.deepEqual(json.diff.notInBlueprints, ["app!worker"]);
      assert.equal((await repo.ok(["list", "--json"])).stdout, before.stdout);
    });
  });
}
