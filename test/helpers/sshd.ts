/**
 * Debian's `/usr/sbin/sshd` inside a test host (a network namespace of `netns.ts`), with a host
 * key and a client key generated for the test (`ssh-keygen`), its own config — no PAM, no
 * passwords, only the test's key, sshd's default `MaxSessions` — a home of its own for the
 * host's root (its own `/etc/passwd` through `/etc/netns`), and a log file at `DEBUG1` in
 * which connections and sessions are counted.
 *
 * @module
 */
import { type ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestHost } from "./netns.ts";
import { until } from "./until.ts";

/** A running sshd on a test host. */
export interface SshServer {
  host: TestHost;
  /** The host's address and port (22). */
  address: string;
  port: number;
  /** The user to log in as (root). */
  user: string;
  /** Path of the client's private key (0600), authorized on this server. */
  keyPath: string;
  /** The client's private key (OpenSSH format). */
  privateKey: string;
  /** The server's host public key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
  /** The sshd log (`-E`, LogLevel DEBUG1). */
  logPath: string;
  /** Client connections accepted so far (one per authenticated TCP connection). */
  connections(): Promise<number>;
  /** The home folder of the host's root (empty at the start). */
  home: string;
  /** Sessions (channels of type `session`) opened so far, over every connection. */
  sessions(): Promise<number>;
  /**
   * Stops sshd and every process of the test host (its sessions and what they started: the
   * host goes down); keeps the keys, so it can start again.
   */
  stop(): Promise<void>;
  /** Starts sshd again with the same keys and log. */
  start(): Promise<void>;
  /** Stops sshd and removes its folder. */
  close(): Promise<void>;
}

/** Options of {@link startSshd}. */
export interface StartSshdOptions {
  /** Use this client key pair (its private key path) instead of generating one. */
  clientKeyPath?: string;
  /** Extra `sshd_config` lines. */
  config?: string[];
  /**
   * Let the host's root log in with this password too (its own `/etc/shadow` through
   * `/etc/netns`; `PasswordAuthentication yes`).
   */
  rootPassword?: string;
}

/** Runs a command in the root namespace; rejects with its output when it fails. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += String(c)));
    child.stderr.on("data", (c) => (out += String(c)));
    child.once("error", reject);
    child.once(
      "close",
      (code) => code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: ${out}`)),
    );
  });
}

/** Runs a command with `input` on its standard input; rejects when it fails. */
function runInput(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += String(c)));
    child.once("error", reject);
    child.once("close", (code) => code === 0 ? resolve(out) : reject(new Error(`${cmd} failed`)));
    child.stdin.end(input);
  });
}

/** Counts lines of `path` matching `pattern`. */
async function countLines(path: string, pattern: RegExp): Promise<number> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text.split("\n").filter((line) => pattern.test(line)).length;
}

/**
 * Starts sshd on `host` (port 22 of its address) and waits until it listens. Call `close()`
 * when done (the test host's own `close()` kills it too).
 */
export async function startSshd(
  host: TestHost,
  options: StartSshdOptions = {},
): Promise<SshServer> {
  const { config = [], rootPassword } = options;
  const dir = await mkdtemp(join(tmpdir(), "ays-sshd-"));
  await chmod(dir, 0o700);
  const hostKey = join(dir, "host_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", hostKey]);
  let keyPath = options.clientKeyPath;
  if (!keyPath) {
    keyPath = join(dir, "client_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ays-test", "-f", keyPath]);
  }
  const authorized = join(dir, "authorized_keys");
  await writeFile(authorized, await readFile(`${keyPath}.pub`, "utf8"), { mode: 0o600 });
  const logPath = join(dir, "sshd.log");
  const configPath = join(dir, "sshd_config");
  await writeFile(
    configPath,
    [
      `ListenAddress ${host.address}`,
      "Port 22",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "UsePAM no",
      `PasswordAuthentication ${rootPassword ? "yes" : "no"}`,
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      `PermitRootLogin ${rootPassword ? "yes" : "prohibit-password"}`,
      // The key files live in a temporary folder, not in root's home.
      "StrictModes no",
      "LogLevel DEBUG1",
      "Subsystem sftp internal-sftp",
      ...config,
      "",
    ].join("\n"),
  );
  // The host's root has a home of its own (an empty folder): the machine's root profile
  // (whatever its shell start-up files do) is not the test host's.
  const home = join(dir, "home");
  await mkdir(home, { mode: 0o700 });
  const passwd = (await readFile("/etc/passwd", "utf8")).split("\n").map((line) => {
    const fields = line.split(":");
    if (fields[0] !== "root") return line;
    fields[5] = home;
    return fields.join(":");
  });
  await host.setEtc("passwd", passwd.join("\n"));
  if (rootPassword) {
    const hash = (await runInput("openssl", ["passwd", "-6", "-stdin"], rootPassword)).trim();
    const shadow = (await readFile("/etc/shadow", "utf8")).split("\n").map((line) => {
      const fields = line.split(":");
      if (fields[0] !== "root") return line;
      fields[1] = hash;
      return fields.join(":");
    });
    await host.setEtc("shadow", shadow.join("\n"), 0o600);
  }
  // sshd's privilege separation folder (made by the service on a normal start).
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  let child: ChildProcess | undefined;

  const start = async () => {
    const before = await countLines(logPath, /Server listening on/);
    const spawned = host.spawn("/usr/sbin/sshd", ["-D", "-f", configPath, "-E", logPath], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child = spawned;
    let stderr = "";
    spawned.stderr?.on("data", (c) => (stderr += String(c)));
    const exited = new Promise<never>((_, reject) =>
      spawned.once("exit", (code) => reject(new Error(`sshd exited (${code}): ${stderr}`)))
    );
    exited.catch(() => {});
    await Promise.race([
      until(async () => (await countLines(logPath, /Server listening on/)) > before, {
        what: `sshd listening on ${host.address}`,
      }),
      exited,
    ]);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (running && running.exitCode === null && running.signalCode === null) {
      const gone = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await gone;
    }
    // Session processes (sshd's per-connection children and what they run) outlive the
    // listener: end them too, as a host going down would.
    await host.killAll();
  };

  await start();
  const hostPublicKey = (await readFile(`${hostKey}.pub`, "utf8")).trim();
  return {
    host,
    address: host.address,
    port: 22,
    user: "root",
    keyPath,
    privateKey: await readFile(keyPath, "utf8"),
    hostPublicKey,
    logPath,
    home,
    connections: () => countLines(logPath, /Accepted publickey for /),
    sessions: () => countLines(logPath, /server_input_channel_open: ctype session/),
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
