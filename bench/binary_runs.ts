/**
 * Helpers of the benchmarks that drive the compiled binary (`bench/services.ts`,
 * `bench/scale.ts`): one measured command (wall time from spawn to exit, peak memory, the load
 * of the machine when it started), the generated repository of N services, and fresh folders.
 *
 * Fresh paths: on these machines deleting a tree of many thousand folders makes later folder
 * creation slower for any program for a while (kernel time grew 2.7 → 9.9 s over rounds of
 * 10,000 folders), so a benchmark that deletes its repository after every round measures its
 * own deletions. {@link FreshFolders} hands out new folders under one parent and removes them
 * all only at the end.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";

/** One measured command. */
export interface Measured {
  ms: number;
  /**
   * User + system CPU time (from `/usr/bin/time -v`, 10 ms steps; NaN without it): less
   * sensitive than wall time to a machine loaded by others.
   */
  cpuMs: number;
  /** Peak resident memory (maximum RSS from `/usr/bin/time -v`, else VmHWM from /proc). */
  peakRssMiB: number;
  stdoutBytes: number;
  /** The 1-minute load average when the command started (/proc/loadavg). */
  load: number;
}

const hasTime = existsSync("/usr/bin/time");

/** How peak memory is measured on this machine, for the results file. */
export const memoryMethod: string = hasTime
  ? "maximum RSS from /usr/bin/time -v"
  : "VmHWM from /proc/<pid>/status";

/** The 1-minute load average, or NaN where /proc/loadavg is missing. */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** The folder it runs in. */
  cwd: string;
  /** Added to the environment. */
  env?: Record<string, string>;
}

/**
 * Runs `binary args…`; wall time from spawn to exit, peak RSS from `/usr/bin/time -v` or
 * /proc. Rejects (with the command's stderr printed) when it exits non-zero.
 */
export function measure(
  binary: string,
  args: readonly string[],
  options: MeasureOptions,
): Promise<Measured> {
  const { cwd, env = {} } = options;
  return new Promise((resolve, reject) => {
    const command = hasTime ? "/usr/bin/time" : binary;
    // The report goes to a file: mixed into stderr it arrived cut short under Bun.
    const report = join(cwd, `.time-${Date.now()}-${Math.random()}.txt`);
    const argv = hasTime ? ["-v", "-o", report, binary, ...args] : [...args];
    const load = loadAverage();
    const start = performance.now();
    const child = spawn(command, argv, { cwd, env: { ...process.env, ...env } });
    let stdoutBytes = 0;
    let stderr = "";
    let hwmKiB = 0;
    child.stdout.on("data", (chunk: Uint8Array) => (stdoutBytes += chunk.length));
    child.stderr.on("data", (chunk) => (stderr += String(chunk)));
    const poll = hasTime ? undefined : setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const match = /VmHWM:\s+(\d+) kB/.exec(status);
        if (match) hwmKiB = Math.max(hwmKiB, Number(match[1]));
      } catch {
        // The process is gone.
      }
    }, 5);
    child.once("error", reject);
    child.once("close", (code) => {
      const ms = performance.now() - start;
      if (poll) clearInterval(poll);
      const timeReport = hasTime && existsSync(report) ? readFileSync(report, "utf8") : "";
      if (timeReport) rmSync(report);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(timeReport);
      if (rss) hwmKiB = Number(rss[1]);
      const user = /User time \(seconds\): ([\d.]+)/.exec(timeReport);
      const system = /System time \(seconds\): ([\d.]+)/.exec(timeReport);
      const cpuMs = user && system ? (Number(user[1]) + Number(system[1])) * 1000 : NaN;
      if (code !== 0) {
        for (const line of stderr.split("\n")) console.error(`  ${line}`);
        reject(new Error(`ays ${args.join(" ")} exited ${code}`));
      } else resolve({ ms, cpuMs, peakRssMiB: hwmKiB / 1024, stdoutBytes, load });
    });
  });
}

/** The templates of the generated repository: `node.ssh` consuming one of the `sshkey`s. */
export const SERVICE_TEMPLATES: Record<string, string> = {
  "actorTemplates/node.ssh/schema.hrd": [
    "ssh.addr = type:ipaddr",
    "ssh.port = type:int default:22 minval:1 maxval:65535",
    "tags = type:str list",
    "password = type:password",
    "sshkey = consume:sshkey:1:1",
    "",
  ].join("\n"),
  "actorTemplates/sshkey/schema.hrd": "key.pub = type:str\n",
};

/** How many `sshkey` producers the generated blueprint has. */
export const KEYS = 10;

/**
 * One blueprint with `count` `node.ssh` services (an address, a port, a list, a secret) that
 * each name one of {@link KEYS} `sshkey` producers, and those producers.
 */
export function servicesBlueprint(count: number): string {
  const lines: string[] = [];
  for (let k = 0; k < KEYS; k++) lines.push(`sshkey__k${k}:`, `  key.pub: 'ssh-ed25519 K${k}'`);
  for (let i = 0; i < count; i++) {
    lines.push(
      `node.ssh__n${i}:`,
      `  ssh.addr: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      `  ssh.port: ${1000 + (i % 60000)}`,
      `  tags: [bench, g${i % 50}]`,
      `  password: pw${i}`,
      `  sshkey: k${i % KEYS}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** New folders under one parent, all removed by {@link FreshFolders.removeAll} at the end. */
export class FreshFolders {
  readonly #root: string;
  #next = 0;

  private constructor(root: string) {
    this.#root = root;
  }

  /** The parent of every folder handed out. */
  get root(): string {
    return this.#root;
  }

  /** Makes the parent folder (under the system's temporary folder). */
  static async create(prefix: string): Promise<FreshFolders> {
    return new FreshFolders(await mkdtemp(join(tmpdir(), prefix)));
  }

  /** A new, empty folder. */
  async folder(name: string): Promise<string> {
    const path = join(this.#root, `${name}-${this.#next++}`);
    await mkdir(path, { recursive: true });
    return path;
  }

  /**
   * A new repository named `name` (`.ays/config.yaml`) with `files` (relative paths) and an
   * own config folder for `XDG_CONFIG_HOME`.
   */
  async repo(
    name: string,
    files: Record<string, string>,
  ): Promise<{ path: string; env: Record<string, string> }> {
    const path = await this.folder(name);
    const all = { ".ays/config.yaml": `name: ${name}\n`, ...files };
    for (const [relative, text] of Object.entries(all)) {
      await mkdir(dirname(join(path, relative)), { recursive: true });
      await writeFile(join(path, relative), text);
    }
    const cfg = await this.folder(`${name}-cfg`);
    return { path, env: { XDG_CONFIG_HOME: cfg } };
  }

  /** Removes every folder handed out (once, at the end of the benchmark). */
  async removeAll(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
  }
}
