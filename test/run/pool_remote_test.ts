/**
 * The pool carries out its workers' `remote` requests (docs/job_protocol.md): a job whose
 * actions file exports `executor` acts on a real sshd test host, and a timed-out job's remote
 * command is killed there before `close()` resolves. Under Bun and Deno alike.
 */
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRequest } from "../../src/run/job_protocol.ts";
import { WorkerPool } from "../../src/run/pool.ts";
import {
  createTestHosts,
  makeTempDir,
  netnsSkipReason,
  type SshServer,
  startSshd,
  type TempDir,
  type TestHosts,
  writeFiles,
} from "../helpers/mod.ts";

const ACTIONS = `
export function executor(job) {
  return { kind: "ssh", host: job.service.data.host, user: "root", keyPath: job.service.data.keyPath };
}
export async function install(job) {
  await job.writeFile("/tmp/ays-pool-" + job.runId, new Uint8Array([104, 105]), { mode: 0o600 });
  const text = await job.readFile("/tmp/ays-pool-" + job.runId);
  const r = await job.exec("echo $AYS_SERVICE; echo err >&2");
  const code = await job.exec("exit 4", { check: false });
  let failure = "";
  try { await job.exec("echo bad >&2; exit 2"); } catch (e) { failure = e.message; }
  return { text, out: r.stdout, code, failure, where: job.executor };
}
export async function start(job) {
  await job.exec("echo started; sleep 301");
}
`;

async function pids(name: string): Promise<number[]> {
  const { spawnSync } = await import("node:child_process");
  const out = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" }).stdout;
  return out.split(/\s+/).filter(Boolean).map(Number);
}

describe("WorkerPool with an SSH executor", { skip: await netnsSkipReason() }, () => {
  let set: TestHosts;
  let server: SshServer;
  let repo: TempDir;
  let request: (action: string) => JobRequest;
  // What install writes on the test host, which shares this machine's file system.
  const runId = `r${process.pid}`;
  const written = `/tmp/ays-pool-${runId}`;
  before(async () => {
    set = await createTestHosts(1, { label: "pool" });
    server = await startSshd(set.hosts[0]);
    repo = await makeTempDir("ays-pool-remote-");
    await writeFiles(repo.path, { "actions.js": ACTIONS, ".ays/config.yaml": "name: p\n" });
    request = (action) => ({
      actionsPath: join(repo.path, "actions.js"),
      action,
      args: {},
      runId,
      repo: { name: "p", path: repo.path },
      service: {
        name: "n1",
        actor: "node",
        role: "node",
        key: "k",
        data: { host: server.address, keyPath: server.keyPath },
        parent: null,
        producers: {},
        consumers: [],
      },
    });
  });
  after(async () => {
    await rm(written, { force: true });
    await server?.close();
    await set?.close();
    await repo?.remove();
  });

  it("runs the job API on the target and streams remote output into the job log", async () => {
    const pool = new WorkerPool({ size: 2 });
    try {
      const logged: string[] = [];
      const outcome = await pool.run(request("install"), { onLog: (t) => logged.push(t) });
      assert.equal(outcome.ok, true, String(outcome.error?.message));
      assert.deepEqual(outcome.result, {
        text: "hi",
        out: "node!n1\n",
        code: 4,
        failure: `command failed with exit code 2 on ${server.address}: echo bad >&2; exit 2\nbad`,
        where: { kind: "ssh", host: server.address, user: "root" },
      });
      // stdout and stderr come over two SSH channels: each line is whole, their order is not fixed.
      assert.match(outcome.log, /^node!n1$/m);
      assert.match(outcome.log, /^err$/m);
      assert.match(logged.join(""), /err/);
      const known = await readFile(join(repo.path, ".ays", "known_hosts"), "utf8");
      assert.ok(known.includes(server.address));
    } finally {
      await pool.close();
    }
  });

  it("kills the remote command of a killed job (as on a timeout) before close() resolves", async () => {
    const pool = new WorkerPool({ size: 1 });
    const host = set.hosts[0];
    const sleeping = async () => {
      const found: number[] = [];
      for (const pid of await pids(host.name)) {
        const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
        if (cmd === "sleep\u0000301\u0000") found.push(pid);
      }
      return found;
    };
    let outcome;
    try {
      // Killed once it runs there (its output came back): the path of a timeout, without
      // depending on how fast the connection is made.
      const kill = new AbortController();
      outcome = await pool.run(request("start"), {
        kill: kill.signal,
        onLog: (text) => {
          if (text.includes("started")) kill.abort();
        },
      });
    } finally {
      await pool.close();
    }
    assert.equal(outcome.cancelled, true);
    assert.equal(outcome.error?.message, "cancelled: the job was killed");
    assert.deepEqual(await sleeping(), []);
  });
});
