/**
 * Executors end to end through `dist/ays` (build it first: `node_modules/.bin/bun build.ts`):
 * real test hosts (network namespaces of test/helpers/netns.ts) running Debian's sshd, a
 * `node` template whose `executor` points at its host with a key given as data (a secret
 * field), and `app` children whose `install` acts on their node over SSH.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createTestHosts,
  makeTempDir,
  makeTempRepo,
  netnsSkipReason,
  runAys,
  type SshServer,
  startSshd,
  type TempDir,
  type TestHosts,
} from "../helpers/mod.ts";

const NODE_ACTIONS = `
export function executor(job) {
  const d = job.service.data;
  return { kind: "ssh", host: d.ipaddr, user: "root", key: d.sshkey, connectAttempts: 2 };
}
`;

const APP_ACTIONS = `
export async function install(job) {
  const dir = "/tmp/ays-e2e-" + job.runId + "/" + job.service.name;
  await job.exec("mkdir -p " + dir);
  await job.upload("files/serve.sh", dir + "/serve.sh", { mode: 0o755 });
  await job.writeFile(dir + "/note.txt", "written by " + job.service.name);
  await job.exec('echo "$SSH_CONNECTION" > ' + dir + '/conn; echo "$AYS_SERVICE" >> ' + dir + '/conn');
  const pid = await job.exec(dir + "/serve.sh", { detach: true });
  const conn = (await job.readFile(dir + "/conn")).split("\\n");
  const missing = await job.exec("test -e " + dir + "/nothing", { check: false });
  const local = await job.local.exec("echo $AYS_SERVICE", { quiet: true });
  job.service.data.pid = pid;
  return { conn: conn[0], service: conn[1], pid, missing, local: local.stdout.trim(), where: job.executor };
}
`;

const SLOW_ACTIONS = `
export async function install(job) {
  await job.exec("touch /tmp/ays-e2e-slow-" + job.runId + "; sleep 300; echo never");
}
`;

const PINNED_ACTIONS = `
export async function install(job) {
  const r = await job.exec('echo "conn=$SSH_CONNECTION"');
  return { out: r.stdout.trim(), where: job.executor };
}
`;

const SERVE_SH = "#!/bin/sh\nexec sleep 1000\n";

/** The blueprint: nodes (with their address and key) and apps on them. */
function blueprint(nodes: { name: string; address: string; key: string }[], apps: string[][]) {
  const lines: string[] = [];
  for (const node of nodes) {
    lines.push(`node__${node.name}:`, `  ipaddr: ${node.address}`, "  sshkey: |");
    for (const l of node.key.trim().split("\n")) lines.push(`    ${l}`);
    lines.push("");
  }
  apps.forEach((names, i) => {
    for (const app of names) lines.push(`app__${app}:`, `  node: ${nodes[i].name}`, "");
  });
  return lines.join("\n");
}

interface RunJob {
  service: string;
  action: string;
  state: string;
  result?: Record<string, unknown> | null;
  error?: { message: string } | null;
}

/** A repository of node/app/slow templates, through the binary. */
async function makeRepo(bp: string, extra: Record<string, string> = {}) {
  const dir = await makeTempRepo({
    name: `ssh${process.pid}`,
    files: {
      "actorTemplates/node/schema.hrd": "ipaddr = type:str\nsshkey = type:password\n",
      "actorTemplates/node/actions.js": NODE_ACTIONS,
      "actorTemplates/app/schema.hrd": "node = parent:node\npid = type:int\n",
      "actorTemplates/app/actions.js": APP_ACTIONS,
      "actorTemplates/slow/schema.hrd": "node = parent:node\n",
      "actorTemplates/slow/actions.js": SLOW_ACTIONS,
      "actorTemplates/slow/actor.yaml": "actions:\n  install: { timeout: 8s }\n",
      "actorTemplates/pinned/schema.hrd": "node = parent:node\n",
      "actorTemplates/pinned/actions.js": PINNED_ACTIONS,
      "actorTemplates/pinned/actor.yaml": "executor: local\n",
      "files/serve.sh": SERVE_SH,
      "blueprints/1_nodes.yaml": bp,
      ...extra,
    },
  });
  const tmp = join(dir.path, ".tmp");
  await mkdir(tmp);
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    XDG_CONFIG_HOME: join(dir.path, ".cfg"),
    TMPDIR: tmp,
  };
  delete env.AYS_STORE;
  const ays = (args: string[]) => runAys(args, { cwd: dir.path, env, timeoutMs: 240_000 });
  const applied = await ays(["blueprint"]);
  assert.equal(applied.code, 0, applied.stderr);
  const scheduled = await ays(["install", "--schedule-only"]);
  assert.equal(scheduled.code, 0, scheduled.stderr);
  return { dir, tmp, env, ays };
}

/**
 * Removes what the repository's runs wrote in /tmp on the test hosts (they share this machine's
 * file system): each run's `ays-e2e-<run>` folder and `ays-e2e-slow-<run>` marker.
 */
async function removeRunFiles(repo: Awaited<ReturnType<typeof makeRepo>>): Promise<void> {
  // Best effort: a failure here must not hide the test's own result or stop the teardown.
  try {
    const runs = await repo.ays(["runs", "--json"]);
    const ids = runs.code === 0
      ? (JSON.parse(runs.stdout) as { id: string }[]).map((r) => r.id)
      : [];
    for (const id of ids) {
      await rm(`/tmp/ays-e2e-${id}`, { recursive: true, force: true });
      await rm(`/tmp/ays-e2e-slow-${id}`, { force: true });
    }
  } catch { /* left in /tmp */ }
}

/** The pids of the processes in network namespace `name`. */
function nsPids(name: string): Promise<number[]> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "pids", name], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (x) => (out += String(x)));
    child.once("close", () => resolve(out.split(/\s+/).filter(Boolean).map(Number)));
  });
}

/** Samples `ps -eo args` every 20 ms until `stop` resolves. */
function samplePs(stop: Promise<unknown>): Promise<string[]> {
  const samples: string[] = [];
  let done = false;
  stop.finally(() => (done = true));
  const once = () =>
    new Promise<void>((resolve) => {
      const child = spawn("ps", ["-eo", "args"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      child.stdout.on("data", (c) => (out += String(c)));
      child.once("close", () => {
        samples.push(out);
        resolve();
      });
    });
  return (async () => {
    while (!done) {
      await once();
      await new Promise((r) => setTimeout(r, 20));
    }
    return samples;
  })();
}

describe("executors over SSH end to end", { skip: await netnsSkipReason() }, () => {
  let set: TestHosts;
  let servers: SshServer[];
  let keys: TempDir;
  before(async () => {
    // a and b serve ssh; c is a host that is down (nothing listens on its port 22).
    set = await createTestHosts(3, { label: "e2e" });
    keys = await makeTempDir("ays-e2e-keys-");
    servers = [await startSshd(set.hosts[0])];
    servers.push(await startSshd(set.hosts[1], { clientKeyPath: servers[0].keyPath }));
  });
  after(async () => {
    for (const s of servers ?? []) await s.close();
    await set?.close();
    await keys?.remove();
  });

  it("runs 20 services on their own nodes over one master connection each, fails only the down host's, kills a timed-out command there", async () => {
    const [a, b, c] = set.hosts;
    const key = servers[0].privateKey;
    const appsA = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const appsB = Array.from({ length: 10 }, (_, i) => `b${i}`);
    const appsC = ["c0", "c1", "c2"];
    const bp = blueprint(
      [
        { name: "a", address: a.address, key },
        { name: "b", address: b.address, key },
        { name: "c", address: c.address, key },
      ],
      [appsA, appsB, appsC],
    ) + "slow__s1:\n  node: a\n\npinned__p1:\n  node: a\n";
    const repo = await makeRepo(bp);
    try {
      // simulate and show name each job's executor (before anything ran).
      const sim = await repo.ays(["simulate", "--json"]);
      assert.equal(sim.code, 0, sim.stderr);
      const planned = new Map(
        (JSON.parse(sim.stdout).steps.flat() as { service: string; executor: string }[])
          .map((j) => [j.service, j.executor]),
      );
      assert.equal(planned.get("app!a0"), `ssh root@${a.address}`);
      assert.equal(planned.get("app!b3"), `ssh root@${b.address}`);
      assert.equal(planned.get("pinned!p1"), "local");
      const simText = await repo.ays(["simulate"]);
      assert.match(
        simText.stdout,
        new RegExp(`app!a0 install  \\(\\w+\\)  on ssh root@${a.address}\n`),
      );
      assert.match(simText.stdout, /pinned!p1 install {2}\(\w+\)\n/);
      const show = await repo.ays(["show", "app!b1", "--json"]);
      assert.equal(JSON.parse(show.stdout).executor, `ssh root@${b.address}`);
      const showText = await repo.ays(["show", "app!b1"]);
      assert.match(showText.stdout, new RegExp(`\n  executor: +ssh root@${b.address}\n`));

      const running = repo.ays(["run", "--parallel", "10", "--json"]);
      const ps = await samplePs(running);
      const r = await running;
      assert.equal(r.code, 1, r.stderr);
      const run = JSON.parse(r.stdout);
      const jobs = run.jobs as RunJob[];
      const byService = new Map(jobs.map((j) => [j.service, j]));

      // Each app ran on its own node: the command saw SSH_CONNECTION of that host.
      for (const [names, host] of [[appsA, a], [appsB, b]] as const) {
        for (const name of names) {
          const job = byService.get(`app!${name}`)!;
          assert.equal(job.state, "ok", `${name}: ${job.error?.message}`);
          const result = job.result as Record<string, unknown>;
          const [client, , server, port] = String(result.conn).split(" ");
          assert.deepEqual([client, server, port], [host.peerAddress, host.address, "22"]);
          assert.equal(result.service, `app!${name}`);
          assert.equal(result.missing, 1);
          assert.equal(result.local, `app!${name}`);
          assert.deepEqual(result.where, { kind: "ssh", host: host.address, user: "root" });
          // The file it wrote and uploaded, and the process it started, are on that host.
          const dir = `/tmp/ays-e2e-${run.id}/${name}`;
          const files = await host.run([
            "sh",
            "-c",
            `cat ${dir}/note.txt; stat -c %a ${dir}/serve.sh`,
          ]);
          assert.equal(files.stdout, `written by ${name}755\n`);
          assert.ok((await nsPids(host.name)).includes(Number(result.pid)), `pid on ${host.name}`);
        }
      }
      // One master connection per host for all its jobs (sshd counts one accepted login).
      assert.equal(await servers[0].connections(), 1);
      assert.equal(await servers[1].connections(), 1);
      assert.ok((await servers[0].sessions()) >= 10 * 7);

      // A pinned actor runs its jobs here, whatever its parent's executor.
      const pinned = byService.get("pinned!p1")!;
      assert.equal(pinned.state, "ok", String(pinned.error?.message));
      assert.deepEqual(pinned.result, { out: "conn=", where: { kind: "local" } });

      // The down host fails only its own services, as unreachable.
      for (const name of appsC) {
        const job = byService.get(`app!${name}`)!;
        assert.equal(job.state, "error");
        assert.match(job.error!.message, /host unreachable: root@[\d.]+ \(2 attempts\)/);
      }
      // The timed-out command left nothing behind on its host.
      const slow = byService.get("slow!s1")!;
      assert.equal(slow.state, "error");
      assert.match(slow.error!.message, /timed out after 8 s/);
      const commands = await Promise.all(
        (await nsPids(a.name)).map((pid) =>
          readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")
        ),
      );
      // It had started there (its marker file), and nothing of it is left.
      assert.equal((await a.run(["test", "-e", `/tmp/ays-e2e-slow-${run.id}`])).code, 0);
      assert.deepEqual(commands.filter((c) => c.includes("sleep\u0000300")), []);
      assert.ok(commands.some((c) => c.includes("sleep\u00001000")), "the detached servers run");

      // The key was a file only during the run; its folder is gone, and it was never an argument.
      assert.deepEqual((await readdir(repo.tmp)).filter((n) => n.startsWith("ays-ssh-")), []);
      assert.ok(
        ps.some((s) => s.includes("ays-ssh-")),
        `ps saw the run's ssh (${ps.length} samples)`,
      );
      const keyLine = key.trim().split("\n")[2];
      assert.ok(keyLine.length > 40);
      assert.ok(ps.every((s) => !s.includes(keyLine)), "the private key appeared in ps");
      assert.ok(
        !(await readFile(join(repo.dir.path, ".ays", "known_hosts"), "utf8")).includes(keyLine),
      );
    } finally {
      await removeRunFiles(repo).finally(() => repo.dir.remove());
    }
  });

  it("refuses a host whose key changed", async () => {
    const [a] = set.hosts;
    const key = servers[0].privateKey;
    // The repository knows a's address with b's host key.
    const repo = await makeRepo(blueprint([{ name: "a", address: a.address, key }], [["x0"]]), {
      ".ays/known_hosts": `${a.address} ${servers[1].hostPublicKey}\n`,
    });
    try {
      const r = await repo.ays(["run", "--json"]);
      assert.equal(r.code, 1, r.stderr);
      const job = (JSON.parse(r.stdout).jobs as RunJob[]).find((j) => j.service === "app!x0")!;
      assert.equal(job.state, "error");
      assert.match(
        job.error!.message,
        /host key changed: root@[\d.]+ presents a different host key/,
      );
    } finally {
      await removeRunFiles(repo).finally(() => repo.dir.remove());
    }
  });
});
