/**
 * What an actions file's `executor(job)` returns (docs/executors.md): where a job's commands
 * run. Validated eagerly, so a typo in a template fails its job with a clear message instead
 * of an ssh error later.
 *
 * @module
 */

/** Run on the machine ays runs on. */
export interface LocalExecutor {
  kind: "local";
}

/** How the host key of an SSH target is checked against the repository's `.ays/known_hosts`. */
export type HostKeyChecking = "accept-new" | "strict";

/** Run over SSH (the system OpenSSH client). */
export interface SshExecutor {
  kind: "ssh";
  /** Address or name of the target. */
  host: string;
  /** Default: ssh's (22, or the user's `~/.ssh/config`). */
  port?: number;
  /** Default: ssh's (the user's config, else the local user name). */
  user?: string;
  /** A private key file on the machine ays runs on. */
  keyPath?: string;
  /** A private key given as data (OpenSSH or PEM text); written to a 0600 file for the run. */
  key?: string;
  /** A password for password authentication (given to ssh through SSH_ASKPASS, never argv). */
  password?: string;
  /** `ssh -J`: jump host(s), `[user@]host[:port][,…]`. */
  proxyJump?: string;
  /** `accept-new` (default): new hosts are added, changed keys refused; `strict`: known only. */
  hostKeys?: HostKeyChecking;
  /** Parallel sessions on this host's one connection (default 8, below sshd's MaxSessions 10). */
  maxSessions?: number;
  /** Connection attempts before the host counts as unreachable (default 4). */
  connectAttempts?: number;
  /** Seconds for one TCP connect (ssh's ConnectTimeout, default 10). */
  connectTimeout?: number;
}

/** Where a job's commands run. */
export type ExecutorSpec = LocalExecutor | SshExecutor;

/** The executor of jobs that have none: the machine ays runs on. */
export const LOCAL: LocalExecutor = Object.freeze({ kind: "local" });

/** Default parallel sessions per SSH host: below sshd's default `MaxSessions` (10). */
export const DEFAULT_MAX_SESSIONS = 8;

const SSH_KEYS = new Set([
  "kind",
  "host",
  "port",
  "user",
  "keyPath",
  "key",
  "password",
  "proxyJump",
  "hostKeys",
  "maxSessions",
  "connectAttempts",
  "connectTimeout",
]);

/** A value that is not an executor: the message names what is wrong. */
export class ExecutorSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExecutorSpecError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own property `key` of `o` (user data: never an inherited one). */
function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A text without control characters or a leading `-` (it becomes an ssh argument). */
function checkText(value: unknown, what: string, options: { dash?: boolean } = {}): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value === "") {
    throw new ExecutorSpecError(`${what} must be a non-empty text`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) {
    throw new ExecutorSpecError(`${what} must not contain control characters`);
  }
  if (!options.dash && value.startsWith("-")) {
    throw new ExecutorSpecError(`${what} must not start with "-": ${JSON.stringify(value)}`);
  }
}

function checkInteger(value: unknown, what: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new ExecutorSpecError(`${what} must be a whole number from ${min} to ${max}`);
  }
}

/**
 * `value` as an {@link ExecutorSpec}, copied (own properties only); throws
 * {@link ExecutorSpecError} naming the first problem.
 */
export function parseExecutorSpec(value: unknown): ExecutorSpec {
  if (!isRecord(value)) {
    throw new ExecutorSpecError(
      `an executor must be an object like {kind: "ssh", host}, got ${describe(value)}`,
    );
  }
  const kind = own(value, "kind");
  if (kind === "local") {
    const extra = Object.keys(value).filter((k) => k !== "kind");
    if (extra.length > 0) throw new ExecutorSpecError(`a local executor has no ${extra[0]}`);
    return LOCAL;
  }
  if (kind !== "ssh") {
    throw new ExecutorSpecError(`executor kind must be "local" or "ssh", got ${describe(kind)}`);
  }
  for (const key of Object.keys(value)) {
    if (!SSH_KEYS.has(key)) throw new ExecutorSpecError(`an ssh executor has no ${key}`);
  }
  const spec = { kind: "ssh" } as SshExecutor;
  const host = own(value, "host");
  if (host === undefined) throw new ExecutorSpecError("an ssh executor needs a host");
  checkText(host, "host");
  if (/\s|@/.test(host as string)) {
    throw new ExecutorSpecError(`host must be an address or name (no spaces, no @): ${host}`);
  }
  spec.host = host as string;
  checkInteger(own(value, "port"), "port", 1, 65535);
  checkText(own(value, "user"), "user");
  checkText(own(value, "keyPath"), "keyPath");
  const key = own(value, "key");
  if (key !== undefined && (typeof key !== "string" || !key.includes("PRIVATE KEY"))) {
    throw new ExecutorSpecError("key must be the text of a private key (…PRIVATE KEY…)");
  }
  if (key !== undefined && own(value, "keyPath") !== undefined) {
    throw new ExecutorSpecError("give keyPath or key, not both");
  }
  const password = own(value, "password");
  if (password !== undefined && (typeof password !== "string" || password === "")) {
    throw new ExecutorSpecError("password must be a non-empty text");
  }
  checkText(own(value, "proxyJump"), "proxyJump");
  const hostKeys = own(value, "hostKeys");
  if (hostKeys !== undefined && hostKeys !== "accept-new" && hostKeys !== "strict") {
    throw new ExecutorSpecError(`hostKeys must be "accept-new" or "strict"`);
  }
  checkInteger(own(value, "maxSessions"), "maxSessions", 1, 1000);
  checkInteger(own(value, "connectAttempts"), "connectAttempts", 1, 100);
  checkInteger(own(value, "connectTimeout"), "connectTimeout", 1, 3600);
  for (const name of SSH_KEYS) {
    const v = own(value, name);
    if (v !== undefined && name !== "kind" && name !== "host") {
      (spec as unknown as Record<string, unknown>)[name] = v;
    }
  }
  return spec;
}

/** `user@host:port` (what is shown and named in errors; never a key or password). */
export function describeExecutor(spec: ExecutorSpec): string {
  if (spec.kind === "local") return "local";
  const user = spec.user ? `${spec.user}@` : "";
  const port = spec.port ? `:${spec.port}` : "";
  const jump = spec.proxyJump ? ` via ${spec.proxyJump}` : "";
  return `ssh ${user}${spec.host}${port}${jump}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  return typeof value;
}
