/**
 * SSH connections of one run (docs/executors.md): one multiplexed master connection per
 * target (the system `ssh` with ControlMaster, its socket in a private 0700 folder), at most
 * `maxSessions` sessions on it at once, connection failures retried with backoff and then
 * reported as "host unreachable". Keys given as data are written to 0600 files, passwords are
 * read by an SSH_ASKPASS script from a 0600 file: no secret is ever a process argument.
 * `close()` ends the masters and removes the folder with every key file in it.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { classifyFailure, connectError, SshConnectError } from "./errors.ts";
import { DEFAULT_MAX_SESSIONS, describeExecutor, type SshExecutor } from "./spec.ts";

/** An SSH executor with the repository's known_hosts file it checks host keys against. */
export interface SshTarget extends SshExecutor {
  /** Absolute path of the known_hosts file (the repository's `.ays/known_hosts`). */
  knownHosts: string;
}

/** Options of {@link SshConnections}. */
export interface SshConnectionsOptions {
  /** Where the private folder is made (default: the system's temporary folder). */
  tmpRoot?: string;
  /** Milliseconds to wait before each further connect attempt (default 250, 500, 1000, 2000). */
  backoffMs?: readonly number[];
  /** The ssh client (default `ssh` on the PATH). */
  ssh?: string;
  /** Seconds an idle master lives on if ays dies without closing it (default 60). */
  persistSeconds?: number;
  /** Milliseconds a failed connection is remembered before the host is tried again (30 000). */
  forgetFailureMs?: number;
}

/** A session slot on a target's master: the arguments to run `ssh` through it. */
export interface SshLease {
  /** `ssh` arguments up to (not including) the remote command. */
  args: string[];
  /** Frees the slot. */
  release(): void;
  /** The master is gone (a session could not reach it): the next lease makes a new one. */
  invalidate(): void;
}

interface Master {
  target: SshTarget;
  name: string;
  controlPath: string;
  /** Connected (resolved) or failed (rejected); null: not tried yet or invalidated. */
  ready: Promise<void> | null;
  active: number;
  limit: number;
  waiting: (() => void)[];
  /** Environment of the master's ssh (SSH_ASKPASS for passwords). */
  env: Record<string, string>;
  /** Arguments naming the identity (`-i file`). */
  identity: string[];
  /** The last failure to connect, and when (performance.now()). */
  failure: { error: SshConnectError; at: number } | null;
}

const DEFAULT_BACKOFF = [250, 500, 1000, 2000];

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** The master connections and session slots of one run. */
export class SshConnections {
  readonly #tmpRoot: string;
  readonly #backoff: readonly number[];
  readonly #ssh: string;
  readonly #persist: number;
  readonly #forgetMs: number;
  readonly #masters = new Map<string, Master>();
  /** Work that must end before `close` removes the folder (remote kills). */
  readonly #pending = new Set<Promise<unknown>>();
  #dir: Promise<string> | null = null;
  #closed = false;

  constructor(options: SshConnectionsOptions = {}) {
    const {
      tmpRoot = tmpdir(),
      backoffMs = DEFAULT_BACKOFF,
      ssh = "ssh",
      persistSeconds = 60,
      forgetFailureMs = 30_000,
    } = options;
    if (!backoffMs.every((ms) => Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError("SshConnections: backoffMs must be non-negative numbers");
    }
    if (!(persistSeconds >= 1)) throw new RangeError("SshConnections: persistSeconds must be ≥ 1");
    this.#tmpRoot = tmpRoot;
    this.#backoff = backoffMs;
    this.#ssh = ssh;
    this.#persist = Math.round(persistSeconds);
    this.#forgetMs = forgetFailureMs;
  }

  /** The ssh client command. */
  get ssh(): string {
    return this.#ssh;
  }

  /**
   * The private folder (0700), made on first use with the pid of its owner in it; folders of
   * owners that are gone (an ays killed with `kill -9`) are removed then, key files with them.
   */
  #folder(): Promise<string> {
    this.#dir ??= (async () => {
      await sweepDeadFolders(this.#tmpRoot);
      const dir = await mkdtemp(join(this.#tmpRoot, "ays-ssh-"));
      await writeFile(join(dir, "owner"), String(process.pid), { mode: 0o600 });
      return dir;
    })();
    return this.#dir;
  }

  /**
   * A session slot on `target`'s master, connecting it first (with retries) when needed.
   * Rejects with {@link SshConnectError} when the target cannot be connected to.
   */
  async acquire(target: SshTarget, signal?: AbortSignal): Promise<SshLease> {
    if (this.#closed) throw new Error("the run's SSH connections are closed");
    const master = await this.#master(target);
    // A failure is remembered for a while, so the other jobs of a host that is down fail at
    // once instead of each waiting through the backoff; after that the host is tried again.
    if (master.failure && performance.now() - master.failure.at > this.#forgetMs) {
      master.failure = null;
      master.ready = null;
    }
    if (master.failure) throw master.failure.error;
    await this.#slot(master, signal);
    try {
      master.ready ??= this.#connect(master, signal);
      await master.ready;
    } catch (error) {
      this.#free(master);
      if (error instanceof SshConnectError) {
        master.failure ??= { error, at: performance.now() };
      } else {
        master.ready = null;
      }
      throw error;
    }
    let released = false;
    return {
      args: this.#sessionArgs(master),
      release: () => {
        if (released) return;
        released = true;
        this.#free(master);
      },
      invalidate: () => {
        master.ready = null;
      },
    };
  }

  /** Runs `work` to its end before `close` removes the folder (e.g. killing a remote group). */
  track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    tracked.catch(() => {});
    return tracked;
  }

  /** Ends every master and removes the private folder (key files included). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await Promise.allSettled([...this.#masters.values()].map((m) => this.#exitMaster(m)));
    this.#masters.clear();
    if (this.#dir) {
      const dir = await this.#dir.catch(() => null);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** The master of `target`, made (not connected) on first use. */
  async #master(target: SshTarget): Promise<Master> {
    const identity = JSON.stringify([
      target.host,
      target.port ?? null,
      target.user ?? null,
      target.keyPath ?? null,
      target.key ? sha(target.key) : null,
      target.password ? sha(target.password) : null,
      target.proxyJump ?? null,
      target.knownHosts,
      target.hostKeys ?? "accept-new",
      target.connectTimeout ?? null,
    ]);
    const name = sha(identity).slice(0, 16);
    const known = this.#masters.get(name);
    if (known) return known;
    const dir = await this.#folder();
    const master: Master = {
      target,
      name,
      controlPath: join(dir, `m-${name}`),
      ready: null,
      active: 0,
      limit: target.maxSessions ?? DEFAULT_MAX_SESSIONS,
      waiting: [],
      env: {},
      identity: [],
      failure: null,
    };
    // Another caller may have made it while this one awaited the folder.
    const raced = this.#masters.get(name);
    if (raced) return raced;
    this.#masters.set(name, master);
    if (target.key) {
      const file = join(dir, `k-${name}`);
      const text = target.key.endsWith("\n") ? target.key : `${target.key}\n`;
      await writeFile(file, text, { mode: 0o600 });
      master.identity = ["-i", file, "-o", "IdentitiesOnly=yes"];
    } else if (target.keyPath) {
      master.identity = ["-i", target.keyPath, "-o", "IdentitiesOnly=yes"];
    }
    if (target.password) {
      const secret = join(dir, `p-${name}`);
      const askpass = join(dir, `askpass-${name}`);
      await writeFile(secret, target.password, { mode: 0o600 });
      await writeFile(askpass, `#!/bin/sh\nexec cat '${secret}'\n`, { mode: 0o700 });
      master.env = { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" };
    }
    return master;
  }

  /** Waits for a free session slot on `master`. */
  async #slot(master: Master, signal?: AbortSignal): Promise<void> {
    while (master.active >= master.limit) {
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      await new Promise<void>((resolve) => master.waiting.push(resolve));
    }
    master.active++;
  }

  #free(master: Master): void {
    master.active--;
    master.waiting.shift()?.();
  }

  /** `ssh` options every connection of `target` uses. */
  #commonArgs(master: Master): string[] {
    const t = master.target;
    const args = [
      "-o",
      `BatchMode=${t.password ? "no" : "yes"}`,
      "-o",
      `ConnectTimeout=${t.connectTimeout ?? 10}`,
      "-o",
      `UserKnownHostsFile=${t.knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      // Readable lines, so that the one of a host whose key changed can be found and removed.
      "-o",
      "HashKnownHosts=no",
      "-o",
      `StrictHostKeyChecking=${t.hostKeys === "strict" ? "yes" : "accept-new"}`,
      "-o",
      "ServerAliveInterval=15",
      "-o",
      "ServerAliveCountMax=3",
    ];
    if (t.port !== undefined) args.push("-p", String(t.port));
    if (t.user !== undefined) args.push("-l", t.user);
    if (t.password) {
      args.push("-o", "NumberOfPasswordPrompts=1");
      args.push("-o", "PreferredAuthentications=publickey,password,keyboard-interactive");
    }
    return args;
  }

  /**
   * Arguments of a session through the master. `ProxyCommand=false`: should the master be
   * gone, ssh fails at once instead of quietly opening a connection of its own.
   */
  #sessionArgs(master: Master): string[] {
    return [
      "-S",
      master.controlPath,
      "-o",
      "ControlMaster=no",
      "-o",
      "ProxyCommand=false",
      "-o",
      "BatchMode=yes",
      "-T",
      ...(master.target.port !== undefined ? ["-p", String(master.target.port)] : []),
      ...(master.target.user !== undefined ? ["-l", master.target.user] : []),
      "--",
      master.target.host,
    ];
  }

  /** Connects `master`, retrying unreachable hosts with backoff. */
  async #connect(master: Master, signal?: AbortSignal): Promise<void> {
    await mkdir(dirname(master.target.knownHosts), { recursive: true });
    const attempts = master.target.connectAttempts ?? this.#backoff.length + 1;
    const what = describeExecutor(master.target).replace(/^ssh /, "");
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        const delay = this.#backoff[Math.min(attempt - 2, this.#backoff.length - 1)] ?? 0;
        await pause(delay, signal);
      }
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      const { code, log } = await this.#startMaster(master, attempt);
      if (code === 0) return;
      last = log;
      const reason = classifyFailure(log);
      if (reason !== "unreachable") {
        throw connectError(reason, {
          target: what,
          stderr: log,
          knownHosts: master.target.knownHosts,
        });
      }
    }
    throw connectError("unreachable", { target: what, stderr: last, attempts });
  }

  /** One attempt: `ssh -f -N -M` returns once the master is connected (0) or failed (255). */
  async #startMaster(master: Master, attempt: number): Promise<{ code: number; log: string }> {
    // A master left from before (invalidated) must not hold the socket: ssh would then run
    // this connection without a socket, and it would never end.
    await this.#exitMaster(master);
    const dir = await this.#folder();
    const logPath = join(dir, `log-${master.name}-${attempt}`);
    const t = master.target;
    const args = [
      "-f",
      "-N",
      "-M",
      "-S",
      master.controlPath,
      "-o",
      `ControlPersist=${this.#persist}`,
      "-E",
      logPath,
      ...this.#commonArgs(master),
      ...master.identity,
      ...(t.proxyJump ? ["-J", t.proxyJump] : []),
      "--",
      t.host,
    ];
    const bound = ((t.connectTimeout ?? 10) * 3 + 30) * 1000;
    const code = await runToExit(this.#ssh, args, { env: master.env, timeoutMs: bound });
    const log = await readFile(logPath, "utf8").catch(() => "");
    await rm(logPath, { force: true });
    return { code, log };
  }

  /** `ssh -O exit` on the master's socket (nothing when there is none). */
  async #exitMaster(master: Master): Promise<void> {
    await runToExit(this.#ssh, ["-S", master.controlPath, "-O", "exit", "--", master.target.host], {
      timeoutMs: 10_000,
    });
    await rm(master.controlPath, { force: true });
  }
}

/** Removes the `ays-ssh-*` folders in `root` whose owner process no longer exists. */
async function sweepDeadFolders(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith("ays-ssh-"))) {
    const owner = Number(await readFile(join(root, name, "owner"), "utf8").catch(() => ""));
    if (!(owner > 0) || alive(owner)) continue;
    await rm(join(root, name), { recursive: true, force: true });
  }
}

/** Whether process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Runs a command with no standard streams to its exit (not its `close`: a master that
 * backgrounds itself keeps inherited pipes open) and resolves with its exit code.
 */
export function runToExit(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs: number },
): Promise<number> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: "ignore",
        env: { ...process.env, ...options.env },
      });
    } catch {
      resolve(127);
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.once("error", () => {
      clearTimeout(timer);
      resolve(127);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? 255);
    });
  });
}

export { SshConnectError };
