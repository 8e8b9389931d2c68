/**
 * Executors over SSH (docs/executors.md, docs/benchmarks.md): `dist/ays run` on 4 test hosts
 * (network namespaces running Debian's sshd, test/helpers/netns.ts and sshd.ts), against the
 * same jobs run locally and the same commands through Debian's Ansible (ControlPersist and
 * pipelining on, forks 20, strategy free) on the same hosts:
 *
 * (a) 200 × `true`, 50 per host, `--parallel 20`;
 * (b) 40 × `sleep 0.5`, 10 per host, `--parallel 20`.
 *
 * Reports wall times (median of the rounds), the overhead per command against the local run,
 * and ays ÷ Ansible (goal ≤ 0.5). Needs root (network namespaces) and `bun build.ts` first.
 *
 * Usage: `bun bench/ssh.ts [--rounds N]`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  aysBinary,
  createTestHosts,
  makeTempDir,
  netnsSkipReason,
  type SshServer,
  startSshd,
  type TempDir,
  type TestHosts,
} from "../test/helpers/mod.ts";
import { printTable, type Row, stats, writeResults } from "./stats.ts";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg("--rounds", 3);
const HOSTS = 4;
const PARALLEL = 20;

interface Workload {
  name: string;
  command: string;
  perHost: number;
}

const WORKLOADS: Workload[] = [
  { name: "200 × true", command: "true", perHost: 50 },
  { name: "40 × sleep 0.5", command: "sleep 0.5", perHost: 10 },
];

/** Runs a command to its end; resolves with its wall time in ms and exit code. */
function timed(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ ms: number; code: number | null; out: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += String(c)));
    child.stderr.on("data", (c) => (out += String(c)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - started, code, out }));
  });
}

/** A repository of `count` apps per node, each running `command` in install. */
async function aysRepo(
  servers: SshServer[],
  workload: Workload,
  remote: boolean,
): Promise<{ dir: TempDir; env: Record<string, string> }> {
  const dir = await makeTempDir("ays-bench-ssh-");
  const files: Record<string, string> = {
    "actorTemplates/node/schema.hrd": "ipaddr = type:str\nkeypath = type:str\n",
    "actorTemplates/node/actions.js": remote
      ? `export function executor(job) {
  return { kind: "ssh", host: job.service.data.ipaddr, user: "root", keyPath: job.service.data.keypath, maxSessions: 8 };
}\n`
      : "export {};\n",
    "actorTemplates/app/schema.hrd": "node = parent:node\n",
    "actorTemplates/app/actions.js": `export async function install(job) {
  await job.exec(${JSON.stringify(workload.command)});
}\n`,
  };
  const lines: string[] = [];
  servers.forEach((s, h) => {
    lines.push(`node__n${h}:`, `  ipaddr: ${s.address}`, `  keypath: ${s.keyPath}`, "");
    for (let i = 0; i < workload.perHost; i++) lines.push(`app__n${h}a${i}:`, `  node: n${h}`, "");
  });
  files["blueprints/1.yaml"] = lines.join("\n");
  for (const sub of [".ays", "actorTemplates", "blueprints"]) await mkdir(join(dir.path, sub));
  await writeFile(join(dir.path, ".ays", "config.yaml"), "name: benchssh\n");
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir.path, path, ".."), { recursive: true });
    await writeFile(join(dir.path, path), text);
  }
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    XDG_CONFIG_HOME: join(dir.path, ".cfg"),
  };
  delete env.AYS_STORE;
  for (const args of [["blueprint"], ["install", "--schedule-only"]]) {
    const r = await timed(aysBinary, args, { cwd: dir.path, env });
    if (r.code !== 0) throw new Error(`ays ${args.join(" ")}: ${r.out}`);
  }
  return { dir, env };
}

/** One `ays run` of the repository (install rescheduled first, outside the timing). */
async function aysRound(repo: { dir: TempDir; env: Record<string, string> }): Promise<number> {
  const opts = { cwd: repo.dir.path, env: repo.env };
  const again = await timed(aysBinary, ["install", "--schedule-only", "--force"], opts);
  if (again.code !== 0) throw new Error(`ays install: ${again.out}`);
  const r = await timed(aysBinary, ["run", "--parallel", String(PARALLEL)], opts);
  if (r.code !== 0) throw new Error(`ays run failed: ${r.out.slice(-2000)}`);
  return r.ms;
}

/** An Ansible project for the same hosts and workload. */
async function ansibleProject(servers: SshServer[], workload: Workload): Promise<TempDir> {
  const dir = await makeTempDir("ays-bench-ansible-");
  const inventory = ["[nodes]"];
  servers.forEach((s, h) =>
    inventory.push(
      `n${h} ansible_host=${s.address} ansible_user=root ansible_ssh_private_key_file=${s.keyPath}`,
    )
  );
  await writeFile(join(dir.path, "inventory.ini"), inventory.join("\n") + "\n");
  await writeFile(
    join(dir.path, "ansible.cfg"),
    [
      "[defaults]",
      `forks = ${PARALLEL}`,
      "host_key_checking = False",
      "gathering = explicit",
      "interpreter_python = /usr/bin/python3",
      "strategy = free",
      "[ssh_connection]",
      "pipelining = True",
      "ssh_args = -o ControlMaster=auto -o ControlPersist=60s",
      `control_path_dir = ${join(dir.path, "cp")}`,
      "",
    ].join("\n"),
  );
  const tasks = Array.from(
    { length: workload.perHost },
    (_, i) =>
      `    - name: c${i}\n      ansible.builtin.command: ${JSON.stringify(workload.command)}\n`,
  );
  await writeFile(
    join(dir.path, "play.yml"),
    `- hosts: nodes\n  gather_facts: false\n  tasks:\n${tasks.join("")}`,
  );
  return dir;
}

async function ansibleRound(dir: TempDir): Promise<number> {
  const env = {
    ...process.env as Record<string, string>,
    ANSIBLE_CONFIG: join(dir.path, "ansible.cfg"),
    ANSIBLE_LOCAL_TEMP: join(dir.path, "tmp"),
  };
  const r = await timed("ansible-playbook", ["-i", "inventory.ini", "play.yml"], {
    cwd: dir.path,
    env,
  });
  if (r.code !== 0) throw new Error(`ansible-playbook failed: ${r.out.slice(-2000)}`);
  return r.ms;
}

async function main(): Promise<void> {
  const skip = await netnsSkipReason();
  if (skip) {
    console.log(`skipped: ${skip}`);
    return;
  }
  let set: TestHosts | undefined;
  const servers: SshServer[] = [];
  const rows: Row[] = [];
  const results: Record<string, unknown> = { rounds, hosts: HOSTS, parallel: PARALLEL };
  try {
    set = await createTestHosts(HOSTS, { label: "bench" });
    for (const host of set.hosts) {
      servers.push(
        await startSshd(host, servers[0] ? { clientKeyPath: servers[0].keyPath } : {}),
      );
    }
    for (const workload of WORKLOADS) {
      const total = workload.perHost * HOSTS;
      const local = await aysRepo(servers, workload, false);
      const remote = await aysRepo(servers, workload, true);
      const ansible = await ansibleProject(servers, workload);
      const times = { local: [] as number[], ssh: [] as number[], ansible: [] as number[] };
      try {
        for (let r = 0; r < rounds; r++) {
          times.local.push(await aysRound(local));
          times.ssh.push(await aysRound(remote));
          times.ansible.push(await ansibleRound(ansible));
        }
      } finally {
        await local.dir.remove();
        await remote.dir.remove();
        await ansible.remove();
      }
      const [l, s, a] = [stats(times.local), stats(times.ssh), stats(times.ansible)];
      const overhead = (s.median - l.median) * PARALLEL / total;
      rows.push(
        { name: `${workload.name}: ays, local`, stats: l, unit: "ms" },
        { name: `${workload.name}: ays, ssh`, stats: s, unit: "ms" },
        { name: `${workload.name}: ansible`, stats: a, unit: "ms" },
      );
      results[workload.name] = {
        local: l,
        ssh: s,
        ansible: a,
        overheadPerCommandMs: overhead,
        ratioToAnsible: s.median / a.median,
      };
      console.log(
        `${workload.name}: overhead per command over ssh ${overhead.toFixed(1)} ms ` +
          `(× ${PARALLEL} in parallel), ays ÷ ansible = ${(s.median / a.median).toFixed(3)}`,
      );
    }
  } finally {
    for (const s of servers) await s.close();
    await set?.close();
  }
  printTable(`ssh executors, ${HOSTS} hosts, --parallel ${PARALLEL}`, rows);
  console.log(`results: ${await writeResults("ssh", results)}`);
}

await main();
