/**
 * Test hosts as Linux network namespaces: each host is a namespace joined to the root namespace
 * by its own veth pair (no bridge), with one /30 per pair taken from an address range that no
 * interface or route of this machine uses (checked at run time). Inside a namespace `lo` is up
 * and the default route goes via the root-side peer, so a server bound to any root-side address
 * (see {@link TestHosts.rootAddress}) is reachable from every namespace without forwarding.
 *
 * Test files run in parallel (bun and deno `--parallel`): each pair's index is claimed with an
 * `O_EXCL` lock file, and a lock whose process is gone is reclaimed together with whatever that
 * process left behind. Namespace names carry the pid.
 *
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2. Under `CI=true` a failure to create
 * hosts fails the test; elsewhere {@link netnsSkipReason} tells a test to skip, and why.
 *
 * @module
 */
import { type ChildProcess, spawn as spawnChild, type SpawnOptions } from "node:child_process";
import { mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A CIDR range test hosts may take their /30s from. */
interface Range {
  /** e.g. "198.18.0.0/15" */
  cidr: string;
  base: number;
  size: number;
}

/** Candidate ranges, tried in order; the first that nothing on this machine uses is taken. */
const CANDIDATES = ["198.18.0.0/15", "100.64.0.0/10", "10.254.0.0/16", "172.30.0.0/16"];

/** At most this many pairs at once on the machine (also bounds a range's /30s). */
const MAX_PAIRS = 1024;

/** Interface names of our pairs: root side `aysr<index>`, namespace side `aysn<index>`. */
const OWN_DEVICE = /^ays[rn]\d+$/;

/**
 * Where index locks live: one folder for the whole machine, like the interface names the
 * indexes stand for (not `$TMPDIR`, which a test may change for the processes it starts).
 */
const LOCK_DIR = "/tmp/ays-netns-locks";

/** Per-namespace files `ip netns exec` mounts over `/etc`. */
const ETC_NETNS = "/etc/netns";

/** Bound for one `ip` command: a safety net against a hung helper, not a speed claim. */
const IP_TIMEOUT_MS = 15_000;

/** Output of a command run to its end. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link TestHost.run}. */
export interface RunOptions {
  /** Written to the command's standard input, which is then closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Environment (default: this process's). */
  env?: Record<string, string | undefined>;
}

/** One test host: a network namespace with one address. */
export interface TestHost {
  /** The namespace's name (`ip netns exec NAME ...`). */
  name: string;
  /** The host's address, inside the namespace (reach the host here). */
  address: string;
  /** The root-side peer's address: the host's default gateway, where root servers are reached. */
  peerAddress: string;
  /** Root-side interface name. */
  rootDevice: string;
  /** Runs `cmd` inside the namespace to its end; never throws for a non-zero exit. */
  run(cmd: string[], options?: RunOptions): Promise<RunResult>;
  /** Spawns `command args` inside the namespace; the child is killed on {@link TestHosts.close}. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** SIGKILLs every process in the namespace (the host "goes down"); resolves with their count. */
  killAll(): Promise<number>;
  /**
   * Gives the host its own `/etc/FILE` (e.g. `passwd`): `ip netns exec` bind-mounts
   * `/etc/netns/NAME/FILE` over it for what is started afterwards. Removed with the host.
   */
  setEtc(file: string, content: string, mode?: number): Promise<void>;
}

/** A set of test hosts made by {@link createTestHosts}. */
export interface TestHosts {
  hosts: TestHost[];
  /**
   * A root-namespace address every host reaches (the first host's peer address): bind a
   * server here (e.g. redis `--bind`) to serve all hosts.
   */
  rootAddress: string;
  /** The range the /30s came from. */
  range: string;
  /** Kills what runs in the namespaces and removes namespaces, veths and locks. Idempotent. */
  close(): Promise<void>;
}

/** Runs a command in the root namespace to its end (bounded). */
function exec(cmd: string[], options: RunOptions = {}): Promise<RunResult> {
  const { input, timeoutMs = 30_000, env } = options;
  return new Promise((resolve) => {
    const child = spawnChild(cmd[0], cmd.slice(1), {
      stdio: ["pipe", "pipe", "pipe"],
      env: env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout?.on("data", (chunk) => (stdout += String(chunk)));
    child.stderr?.on("data", (chunk) => (stderr += String(chunk)));
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(error) });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

/** Runs `ip ARGS`; throws with its output when it fails. */
async function ip(args: string[]): Promise<string> {
  const result = await exec(["ip", ...args], { timeoutMs: IP_TIMEOUT_MS });
  if (result.code !== 0) {
    throw new Error(`ip ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Parses dotted IPv4 to an unsigned number. */
function toNumber(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** Formats an unsigned number as dotted IPv4. */
function toAddress(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Parses "a.b.c.d/n" (or a bare address, /32) to a range. */
function parseCidr(cidr: string): Range {
  const [address, bits = "32"] = cidr.split("/");
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const base = toNumber(address) - (toNumber(address) % size);
  return { cidr, base, size };
}

/** Whether two ranges share an address. */
function overlaps(a: Range, b: Range): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/**
 * Every IPv4 address and route of the root namespace (all tables) that is not one of our own
 * test pairs (other test processes' pairs live in the chosen range on purpose) and not a
 * default route.
 */
async function usedRanges(): Promise<Range[]> {
  const used: Range[] = [];
  const addresses = JSON.parse(await ip(["-j", "-4", "addr"])) as {
    ifname: string;
    addr_info?: { local: string; prefixlen: number }[];
  }[];
  for (const link of addresses) {
    if (OWN_DEVICE.test(link.ifname)) continue;
    for (const info of link.addr_info ?? []) {
      used.push(parseCidr(`${info.local}/${info.prefixlen}`));
    }
  }
  const routes = JSON.parse(await ip(["-j", "-4", "route", "show", "table", "all"])) as {
    dst: string;
    dev?: string;
  }[];
  for (const route of routes) {
    if (route.dst === "default" || (route.dev && OWN_DEVICE.test(route.dev))) continue;
    used.push(parseCidr(route.dst));
  }
  return used;
}

/** The first candidate range nothing on this machine uses. */
async function chooseRange(): Promise<Range> {
  const used = await usedRanges();
  for (const cidr of CANDIDATES) {
    const range = parseCidr(cidr);
    const clash = used.find((u) => overlaps(u, range));
    if (!clash) return range;
  }
  throw new Error(`every candidate range (${CANDIDATES.join(", ")}) is in use on this machine`);
}

/** Whether process `pid` still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The namespaces `ip netns list` shows. */
async function namespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]);
  return out.split("\n").map((line) => line.split(" ")[0]).filter(Boolean);
}

/**
 * SIGKILLs every process in namespace `name` (`ip netns pids`: the namespaces share the
 * machine's pid space, so a name pattern would also hit other tests' processes).
 */
async function killNamespace(name: string): Promise<number> {
  const pids = await exec(["ip", "netns", "pids", name], { timeoutMs: IP_TIMEOUT_MS });
  let killed = 0;
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch { /* already gone */ }
  }
  return killed;
}

/** Kills every process in namespace `name` and removes it; ignores a namespace already gone. */
async function removeNamespace(name: string): Promise<void> {
  await killNamespace(name);
  await exec(["ip", "netns", "del", name], { timeoutMs: IP_TIMEOUT_MS });
  await rm(join(ETC_NETNS, name), { recursive: true, force: true });
}

/** Removes what a pair with `index` may have left: its root veth and its namespaces. */
async function removePair(index: number, known: string[]): Promise<void> {
  for (const name of known.filter((n) => n.startsWith("ays-") && n.endsWith(`-i${index}`))) {
    await removeNamespace(name);
  }
  await exec(["ip", "link", "del", `aysr${index}`], { timeoutMs: IP_TIMEOUT_MS });
}

/** Bound for waiting on another process's claim of an index. */
const CLAIM_WAIT_MS = 30_000;

/** Writes `path` only if it does not exist yet; false when it does. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx");
    await handle.writeFile(content);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** The pid written in a lock file (0 when missing or still empty). */
async function lockOwner(path: string): Promise<number> {
  const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
  return owner > 0 ? owner : 0;
}

/**
 * Runs `body` holding the machine-wide claim mutex (an `O_EXCL` file): index locks are only
 * ever taken or reclaimed under it, so two processes never reclaim the same stale index.
 */
async function withClaimMutex<T>(body: () => Promise<T>): Promise<T> {
  await mkdir(LOCK_DIR, { recursive: true });
  const mutex = join(LOCK_DIR, "claim.mutex");
  const deadline = performance.now() + CLAIM_WAIT_MS;
  while (!(await createExclusive(mutex, String(process.pid)))) {
    const owner = await lockOwner(mutex);
    // A mutex whose writer died is removed; an empty one is being written right now.
    if (owner && !alive(owner)) await rm(mutex, { force: true });
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${mutex}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  try {
    return await body();
  } finally {
    await rm(mutex, { force: true });
  }
}

/**
 * Removes every pair whose lock's process is gone (a test process killed before its `close`),
 * with its lock. Called under the claim mutex.
 */
async function sweepStale(): Promise<void> {
  const names = await readdir(LOCK_DIR).catch(() => [] as string[]);
  let known: string[] | undefined;
  for (const file of names.filter((n) => /^\d+\.lock$/.test(n))) {
    const path = join(LOCK_DIR, file);
    const owner = await lockOwner(path);
    if (owner && alive(owner)) continue;
    known ??= await namespaces();
    await removePair(Number(file.slice(0, -5)), known);
    await rm(path, { force: true });
  }
}

/**
 * Claims a free pair index machine-wide (interface names derive from it), after sweeping what
 * dead test processes left.
 */
function claimIndex(): Promise<number> {
  return withClaimMutex(async () => {
    await sweepStale();
    for (let index = 0; index < MAX_PAIRS; index++) {
      if (await createExclusive(join(LOCK_DIR, `${index}.lock`), String(process.pid))) {
        return index;
      }
    }
    throw new Error(`no free test-host index below ${MAX_PAIRS} in ${LOCK_DIR}`);
  });
}

/** Options of {@link createTestHosts}. */
export interface CreateTestHostsOptions {
  /** Label in namespace names (`ays-<label>-<pid>-i<index>`, default "h"). */
  label?: string;
}

/**
 * Creates `count` test hosts. Call `close()` in an `after` hook (it is safe to call after a
 * partial failure too); if creation fails, what was made is removed before the error is thrown.
 */
export async function createTestHosts(
  count: number,
  options: CreateTestHostsOptions = {},
): Promise<TestHosts> {
  const { label = "h" } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`createTestHosts: count must be a positive integer, got ${count}`);
  }
  if (!/^[a-z0-9]{1,8}$/.test(label)) {
    throw new RangeError(`createTestHosts: label must be 1-8 of [a-z0-9], got ${label}`);
  }
  const range = await chooseRange();
  const hosts: TestHost[] = [];
  const indexes: number[] = [];
  const children = new Set<ChildProcess>();
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    const known = await namespaces().catch(() => [] as string[]);
    for (const index of indexes) {
      await removePair(index, known.filter((n) => n.includes(`-${process.pid}-`)));
      await rm(join(LOCK_DIR, `${index}.lock`), { force: true });
    }
  };

  try {
    for (let k = 0; k < count; k++) {
      const index = await claimIndex();
      if (4 * index + 4 > range.size) throw new Error(`index ${index} outside ${range.cidr}`);
      indexes.push(index);
      const network = range.base + 4 * index;
      const peerAddress = toAddress(network + 1);
      const address = toAddress(network + 2);
      const name = `ays-${label}-${process.pid}-i${index}`;
      const rootDevice = `aysr${index}`;
      const nsDevice = `aysn${index}`;
      await ip(["netns", "add", name]);
      await ip(["link", "add", rootDevice, "type", "veth", "peer", "name", nsDevice]);
      await ip(["link", "set", nsDevice, "netns", name]);
      await ip(["addr", "add", `${peerAddress}/30`, "dev", rootDevice]);
      await ip(["link", "set", rootDevice, "up"]);
      const inside = (args: string[]) => ip(["-n", name, ...args]);
      await inside(["link", "set", "lo", "up"]);
      await inside(["addr", "add", `${address}/30`, "dev", nsDevice]);
      await inside(["link", "set", nsDevice, "up"]);
      await inside(["route", "add", "default", "via", peerAddress]);
      hosts.push({
        name,
        address,
        peerAddress,
        rootDevice,
        run: (cmd, runOptions) => exec(["ip", "netns", "exec", name, ...cmd], runOptions),
        spawn: (command, args, spawnOptions = {}) => {
          const child = spawnChild("ip", ["netns", "exec", name, command, ...args], spawnOptions);
          children.add(child);
          child.once("exit", () => children.delete(child));
          return child;
        },
        killAll: () => killNamespace(name),
        setEtc: async (file, content, mode = 0o644) => {
          if (!/^[a-z0-9_.-]+$/i.test(file)) throw new Error(`setEtc: bad file name ${file}`);
          await mkdir(join(ETC_NETNS, name), { recursive: true });
          await writeFile(join(ETC_NETNS, name, file), content, { mode });
        },
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { hosts, rootAddress: hosts[0].peerAddress, range: range.cidr, close };
}

/**
 * Why test hosts cannot be made here (tried once by making and removing a namespace), or
 * `undefined` when they can. Under `CI=true` always `undefined`: there the test must run and
 * fail if hosts cannot be made. Use as `describe(name, { skip: await netnsSkipReason() }, ...)`.
 */
export async function netnsSkipReason(): Promise<string | undefined> {
  if (process.env.CI === "true") return undefined;
  if (process.platform !== "linux") return `network namespaces need Linux (${process.platform})`;
  const name = `ays-probe-${process.pid}`;
  const made = await exec(["ip", "netns", "add", name], { timeoutMs: IP_TIMEOUT_MS });
  if (made.code !== 0) {
    return `cannot create a network namespace (needs root and iproute2): ${made.stderr.trim()}`;
  }
  await exec(["ip", "netns", "del", name], { timeoutMs: IP_TIMEOUT_MS });
  try {
    await chooseRange();
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** The pair indexes whose lock files exist on this machine (for tests of this helper). */
export async function heldIndexes(): Promise<number[]> {
  const names = await readdir(LOCK_DIR).catch(() => [] as string[]);
  return names.filter((n) => /^\d+\.lock$/.test(n)).map((n) => Number(n.slice(0, -5)));
}
