/**
 * A memory limit per job through `dist/ays` (build it first: `node_modules/.bin/bun build.ts`):
 * an action with `isolation: process` that allocates without bound fails "out of memory (limit
 * 256 MiB)", is retried per its settings, and the other jobs of the run finish; ays itself
 * lives (exit 1, not 137), and the next `ays run` takes the failed action again without
 * crashing. Bad `memory:` and `--isolation` values are exit 2 with their place.
 *
 * So that a limit that does not work cannot take the machine down, the hog stops by itself at
 * about 3 GiB, and ays runs in a memory cgroup of 3 GiB made for the test when this machine
 * lets it make one (cgroup v2 or v1, removed afterwards).
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { aysBinary, makeTempDir, makeTempRepo, runAys, type TempDir } from "../helpers/mod.ts";

const GiB = 1024 * 1024 * 1024;

/** 400 arrays of a million numbers: about 3 GiB, then it stops and succeeds (which fails the test). */
const HOG = `
export function install(job) {
  const kept = [];
  for (let i = 0; i < 400; i++) kept.push(new Array(1e6).fill(i));
  job.log("allocated " + kept.length + " arrays and nobody stopped me");
  return kept.length;
}
`;

const NAPPER = `
export async function install(job) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return job.service.name;
}
`;

interface RunJson {
  id: string;
  state: string;
  jobs: {
    service: string;
    state: string;
    attempts: number;
    error: { message: string } | null;
  }[];
}

/** A memory cgroup of `bytes` under this process's own, or null where none can be made. */
function makeMemoryCgroup(bytes: number): { path: string; remove(): void } | null {
  const name = `ays-e2e-memory-${process.pid}`;
  let lines: string[];
  try {
    lines = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
  } catch {
    return null;
  }
  const v1 = lines.map((l) => l.split(":")).find((p) => p[1].split(",").includes("memory"));
  const v2 = lines.map((l) => l.split(":")).find((p) => p[0] === "0" && p[1] === "");
  const candidates: [string, string][] = [];
  if (v1) candidates.push([join("/sys/fs/cgroup/memory", v1[2], name), "memory.limit_in_bytes"]);
  if (v2) candidates.push([join("/sys/fs/cgroup", v2[2], name), "memory.max"]);
  for (const [path, file] of candidates) {
    try {
      mkdirSync(path);
    } catch {
      continue;
    }
    try {
      writeFileSync(join(path, file), String(bytes));
      return { path, remove: () => rmdirSync(path) };
    } catch {
      rmdirSync(path);
    }
  }
  return null;
}

describe("a memory limit per job through the binary", () => {
  let dir: TempDir;
  let repo: TempDir;
  let env: Record<string, string>;
  let cgroup: ReturnType<typeof makeMemoryCgroup> = null;

  /** `ays args…` in the repository, inside the test's memory cgroup when there is one. */
  const ays = (args: string[], cwd = repo.path) => {
    if (!cgroup) return runAys(args, { cwd, extraEnv: env });
    const script = `echo $$ > "$0/cgroup.procs" && exec "$@"`;
    return runAys(["-c", script, cgroup.path, aysBinary, ...args], {
      cwd,
      extraEnv: env,
      binary: "/bin/sh",
    });
  };

  before(async () => {
    dir = await makeTempDir("ays-e2e-memory-");
    env = { XDG_CONFIG_HOME: join(dir.path, "cfg"), NO_COLOR: "1" };
    const nappers = [1, 2, 3, 4, 5].map((i) => `napper__n${i}:\n  x: n${i}\n`).join("");
    repo = await makeTempRepo({
      name: "memory",
      files: {
        "actorTemplates/hog/schema.hrd": "x = type:str\n",
        "actorTemplates/hog/actions.ts": HOG,
        "actorTemplates/hog/actor.yaml":
          "actions:\n  install: { isolation: process, memory: 256M, retries: 1, retryDelay: 0 }\n",
        "actorTemplates/napper/schema.hrd": "x = type:str\n",
        "actorTemplates/napper/actions.ts": NAPPER,
        "blueprints/all.yaml": `hog__h:\n  x: h\n${nappers}actions:\n  - action: install\n`,
      },
    });
    const applied = await runAys(["blueprint"], { cwd: repo.path, extraEnv: env });
    assert.equal(applied.code, 0, applied.stderr);
    cgroup = makeMemoryCgroup(3 * GiB);
  });
  after(async () => {
    try {
      cgroup?.remove();
    } finally {
      await repo?.remove();
      await dir?.remove();
    }
  });

  it("fails the hog 'out of memory', retried; the 5 others finish; ays lives", async () => {
    const result = await ays(["run", "--json"]);
    assert.equal(result.signal, null, `ays was killed: ${result.stderr}`);
    assert.equal(result.code, 1, result.stderr);
    const run = JSON.parse(result.stdout) as RunJson;
    assert.equal(run.state, "error");
    const hog = run.jobs.find((j) => j.service === "hog!h")!;
    assert.equal(hog.state, "error");
    assert.equal(hog.error?.message, "out of memory (limit 256 MiB)");
    assert.equal(hog.attempts, 2, "retried once, per its retries: 1");
    const nappers = run.jobs.filter((j) => j.service.startsWith("napper!"));
    assert.deepEqual(nappers.map((j) => j.state), ["ok", "ok", "ok", "ok", "ok"]);
    assert.match(result.stderr, /error hog!h install: out of memory \(limit 256 MiB\)/);
  });

  it("the next run takes the failed action again and does not crash", async () => {
    const result = await ays(["run", "--json"]);
    assert.equal(result.signal, null, `ays was killed: ${result.stderr}`);
    assert.equal(result.code, 1, result.stderr);
    const run = JSON.parse(result.stdout) as RunJson;
    assert.deepEqual(
      run.jobs.map((j) => [j.service, j.state, j.error?.message]),
      [["hog!h", "error", "out of memory (limit 256 MiB)"]],
    );
    const shown = await ays(["show", "hog!h", "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /"install":\s*"error"|"state":\s*"error"/);
  });

  it("runs every action in a process with --isolation process", async () => {
    const result = await ays([
      "do",
      "install",
      "-r",
      "napper",
      "--force",
      "--isolation",
      "process",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /5 ok/);
  });

  it("moves a hog in a worker thread to a process when ays' memory grows past `memory`", async () => {
    const threaded = await makeTempRepo({
      name: "threaded",
      files: {
        ".ays/config.yaml": "memory: 384M\n",
        "actorTemplates/hog/schema.hrd": "x = type:str\n",
        "actorTemplates/hog/actions.ts": HOG,
        "actorTemplates/napper/schema.hrd": "x = type:str\n",
        "actorTemplates/napper/actions.ts": NAPPER,
        "blueprints/all.yaml":
          `hog__h:\n  x: h\nnapper__n1:\n  x: n1\nactions:\n  - action: install\n`,
      },
    });
    try {
      const applied = await runAys(["blueprint"], { cwd: threaded.path, extraEnv: env });
      assert.equal(applied.code, 0, applied.stderr);
      const result = await ays(["run", "--json"], threaded.path);
      assert.equal(result.signal, null, `ays was killed: ${result.stderr}`);
      assert.equal(result.code, 1, result.stderr);
      const run = JSON.parse(result.stdout) as RunJson;
      assert.deepEqual(
        run.jobs.map((j) => [j.service, j.state, j.error?.message ?? null]),
        [["hog!h", "error", "out of memory (limit 384 MiB)"], ["napper!n1", "ok", null]],
      );
      const shown = await ays(["run", "show", run.id], threaded.path);
      assert.match(shown.stdout, /running it again in a process of its own/);
    } finally {
      await threaded.remove();
    }
  });

  it("refuses a bad memory size in actor.yaml and a bad --isolation (exit 2)", async () => {
    const bad = await makeTempRepo({
      name: "badmemory",
      files: {
        "actorTemplates/hog/schema.hrd": "x = type:str\n",
        "actorTemplates/hog/actor.yaml": "actions:\n  install:\n    memory: 512MB\n",
        "blueprints/all.yaml": "hog__h:\n  x: h\n",
      },
    });
    try {
      const applied = await runAys(["blueprint"], { cwd: bad.path, extraEnv: env });
      assert.equal(applied.code, 2, applied.stderr);
      assert.match(applied.stderr, /actor\.yaml:3:13/);
      assert.match(applied.stderr, /actions\.install\.memory: bad memory size "512MB"/);
    } finally {
      await bad.remove();
    }
    const flag = await ays(["run", "--isolation", "thread"]);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /--isolation must be pool, job or process, not 'thread'/);
  });
});
