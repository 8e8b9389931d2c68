/**
 * A fleet job on its SSH executor, through `dist/ays` (docs/fleet.md, "A job's executor on the
 * fleet"): a real redis-server bound to the test network's root-side address, Debian's sshd on
 * a test host (a network namespace, test/helpers/netns.ts), an `ays worker` in that host's
 * namespace, and the coordinator (`ays install` with `fleet: true`) in the root namespace.
 *
 * Test hosts reach the root namespace but not each other (no forwarding, see netns.ts), so the
 * worker shares its namespace with the sshd it connects to. Which process made the SSH
 * connection still shows: a connection from the root namespace comes from the host's root-side
 * peer address, one from the worker from the host's own address. The worker runs in a mount
 * namespace of its own where the repository's folder is an empty tmpfs: like a worker on
 * another machine it cannot read the checkout, so the `executor` of the job's parent can only
 * have been called by the coordinator.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, it } from "node:test";
import {
  aysBinary,
  createTestHosts,
  makeTempDir,
  makeTempRepo,
  netnsSkipReason,
  type RedisServer,
  runAys,
  type SshServer,
  startRedis,
  startSshd,
  type TempDir,
  type TestHosts,
  until,
  writeFiles,
} from "../helpers/mod.ts";

const NODE_ACTIONS = `
export function executor(job) {
  const d = job.service.data;
  return { kind: "ssh", host: d.ipaddr, user: "root", key: d.sshkey, connectAttempts: 2 };
}
`;

const APP_ACTIONS = `
export async function install(job) {
  const r = await job.exec('echo "$SSH_CONNECTION|$AYS_WORKER|$AYS_SERVICE"');
  const path = "/tmp/ays-fleet-ssh-" + job.runId + "-" + job.service.name;
  await job.writeFile(path, "by " + job.service.name);
  const back = await job.readFile(path);
  const local = await job.local.exec('echo "\${SSH_CONNECTION:-none}|$AYS_WORKER|$AYS_REPO"');
  const checkout = await job.local.exec('test -e "$CHECKOUT/blueprints" && echo seen || echo hidden', {
    env: { CHECKOUT: job.service.data.checkout },
  });
  return {
    remote: r.stdout.trim(),
    back,
    local: local.stdout.trim(),
    checkout: checkout.stdout.trim(),
    where: job.executor,
  };
}
`;

const PINNED_ACTIONS = `
export async function install(job) {
  const r = await job.exec('echo "\${SSH_CONNECTION:-none}|$AYS_WORKER"');
  return { out: r.stdout.trim(), where: job.executor };
}
`;

/**
 * Removes the files the runs of the repository at `path` wrote in /tmp on the test host (it shares
 * this machine's file system): `ays-fleet-ssh-<run>-<app>`.
 */
async function removeRunFiles(path: string, apps: string[]): Promise<void> {
  // Best effort: a failure here must not stop the teardown (sshd, Redis, the namespaces).
  try {
    const runs = await runAys(["runs", "--json"], {
      cwd: path,
      extraEnv: { XDG_CONFIG_HOME: join(path, ".cfg") },
    });
    const ids = runs.code === 0
      ? (JSON.parse(runs.stdout) as { id: string }[]).map((r) => r.id)
      : [];
    for (const id of ids) {
      for (const app of apps) await rm(`/tmp/ays-fleet-ssh-${id}-${app}`, { force: true });
    }
  } catch { /* left in /tmp */ }
}

interface RunJob {
  service: string;
  state: string;
  worker?: string;
  result?: Record<string, unknown> | null;
  error?: { message: string } | null;
}

describe("a fleet job on its SSH executor (ays worker and sshd on a test host)", {
  skip: await netnsSkipReason(),
}, () => {
  let net: TestHosts;
  let redis: RedisServer;
  let sshd: SshServer;
  let dir: TempDir;
  let workerDir: TempDir;
  let worker: ChildProcess | undefined;

  before(async () => {
    net = await createTestHosts(1, { label: "fleetssh" });
    redis = await startRedis({ bind: net.rootAddress, password: "fleet-ssh-pass" });
    sshd = await startSshd(net.hosts[0]);
  });
  after(async () => {
    worker?.kill("SIGKILL");
    // Before Redis stops: the runs to clean up after are listed from the store.
    if (dir) await removeRunFiles(dir.path, ["a1", "a2", "a3"]);
    await sshd?.close();
    await redis?.close();
    await net?.close();
    await dir?.remove();
    await workerDir?.remove();
  });

  it("the worker runs job.exec on the job's SSH target, holds the master and its known_hosts", async () => {
    const [host] = net.hosts;
    const key = sshd.privateKey.trim().split("\n").map((l) => `    ${l}`).join("\n");
    dir = await makeTempRepo();
    workerDir = await makeTempDir("ays-fleet-ssh-worker-");
    const bp = [
      "node__n1:",
      `  ipaddr: ${host.address}`,
      "  sshkey: |",
      key,
      "",
      ...["a1", "a2", "a3"].flatMap((a) => [
        `app__${a}:`,
        "  node: n1",
        `  checkout: ${dir.path}`,
        "",
      ]),
      "pinned__p1:",
      "  node: n1",
      "",
    ].join("\n");
    await writeFiles(dir.path, {
      "actorTemplates/node/schema.hrd": "ipaddr = type:str\nsshkey = type:password\n",
      "actorTemplates/node/actions.js": NODE_ACTIONS,
      "actorTemplates/app/schema.hrd": "node = parent:node\ncheckout = type:str\n",
      "actorTemplates/app/actions.js": APP_ACTIONS,
      "actorTemplates/pinned/schema.hrd": "node = parent:node\n",
      "actorTemplates/pinned/actions.js": PINNED_ACTIONS,
      "actorTemplates/pinned/actor.yaml": "executor: local\n",
      "blueprints/1_nodes.yaml": bp,
    });
    const repoName = `fleetssh${process.pid}`;
    await writeFile(
      join(dir.path, ".ays", "config.yaml"),
      `name: ${repoName}\nstore: ${redis.url}\nfleet: true\n`,
    );
    const cache = join(workerDir.path, "cache");
    const workerTmp = join(workerDir.path, "tmp");
    await mkdir(workerTmp);
    const env: Record<string, string> = {
      ...process.env as Record<string, string>,
      XDG_CACHE_HOME: cache,
      TMPDIR: workerTmp,
    };
    delete env.AYS_FLEET_KEY;
    delete env.AYS_STORE;
    // unshare execs sh, which execs ays: SIGTERM reaches the worker itself.
    worker = host.spawn("unshare", [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t tmpfs ays-hidden "$1" && exec "$2" worker --store "$3" --name sshw',
      "sh",
      dir.path,
      aysBinary,
      redis.url,
    ], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    worker.stdout!.on("data", (c) => (out += String(c)));
    worker.stderr!.on("data", (c) => (out += String(c)));
    const exited = new Promise<number | null>((resolve) => worker!.once("close", resolve));
    const ays = (args: string[]) =>
      runAys(args, {
        cwd: dir.path,
        extraEnv: { XDG_CONFIG_HOME: join(dir.path, ".cfg") },
        timeoutMs: 240_000,
      });
    await until(() => out.includes("joined the fleet"), { what: "the worker", timeoutMs: 60_000 });
    const applied = await ays(["blueprint"]);
    assert.equal(applied.code, 0, applied.stderr);

    const r = await ays(["install", "--json"]);
    assert.equal(r.code, 0, `${r.stderr}\n${out}`);
    const run = JSON.parse(r.stdout) as { id: string; jobs: RunJob[] };
    const byService = new Map(run.jobs.map((j) => [j.service, j]));
    for (const name of ["a1", "a2", "a3"]) {
      const job = byService.get(`app!${name}`)!;
      assert.equal(job.state, "ok", String(job.error?.message));
      assert.equal(job.worker, "sshw", "the run record names the worker");
      const result = job.result as Record<string, string>;
      const [conn, aysWorker, service] = result.remote.split("|");
      const [client, , server, port] = conn.split(" ");
      // The command ran in an SSH session on the host, opened by the worker (from the host's
      // own address), not by the coordinator (it would come from the root-side peer).
      assert.deepEqual([client, server, port], [host.address, host.address, "22"]);
      assert.equal(aysWorker, "sshw");
      assert.equal(service, `app!${name}`);
      assert.equal(result.back, `by ${name}`);
      assert.deepEqual(result.where, { kind: "ssh", host: host.address, user: "root" });
      // job.local.exec ran on the worker, in its work folder for the repository, which cannot
      // read the checkout.
      assert.equal(result.local, `none|sshw|${join(cache, "ays", "fleet", "work", repoName)}`);
      assert.equal(result.checkout, "hidden");
    }
    // executor: local pins the job to the worker's machine.
    const pinned = byService.get("pinned!p1")!;
    assert.equal(pinned.state, "ok", String(pinned.error?.message));
    assert.deepEqual(pinned.result, { out: "none|sshw", where: { kind: "local" } });
    // One master connection from the worker for all the jobs of the host.
    assert.equal(await sshd.connections(), 1);
    // The host key is in the worker's cache for the repository, not in the repository.
    const knownHosts = join(cache, "ays", "fleet", "work", repoName, ".ays", "known_hosts");
    assert.match(await readFile(knownHosts, "utf8"), new RegExp(`^${host.address} ssh-ed25519 `));
    assert.equal(
      await readFile(join(dir.path, ".ays", "known_hosts"), "utf8").catch(() => ""),
      "",
    );
    // The key file lived in the worker's private folder, which goes when the worker stops.
    assert.equal((await readdir(workerTmp)).filter((n) => n.startsWith("ays-ssh-")).length, 1);
    worker.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    worker = undefined;
    assert.deepEqual((await readdir(workerTmp)).filter((n) => n.startsWith("ays-ssh-")), []);
  });
});
