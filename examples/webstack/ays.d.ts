// TypeScript declarations of the ays job API (docs/runs.md, "The job API"), printed by `ays types`.
// Save them as ays.d.ts beside your templates, then: import type { Job } from "ays";
declare module "ays" {
  /** Levels of {@link Job.log}. */
  export type LogLevel = "debug" | "info" | "warn" | "error";

  /** A read-only view of a related service: parent, producer or consumer. */
  export interface ServiceView {
    /** The instance, e.g. `web1`. */
    readonly name: string;
    readonly actor: string;
    readonly role: string;
    readonly data: Readonly<Record<string, unknown>>;
  }

  /** The service a job acts on. */
  export interface JobService<Data = Record<string, unknown>> {
    /** The instance, e.g. `web1`. */
    readonly name: string;
    readonly actor: string;
    readonly role: string;
    readonly key: string;
    /** A mutable copy: changes are validated and saved only if the job succeeds. */
    data: Data;
    readonly parent: ServiceView | null;
    /** Producers by role (the parent is one of them). */
    readonly producers: Readonly<Record<string, readonly ServiceView[]>>;
    readonly consumers: readonly ServiceView[];
  }

  /** Options of {@link Job.exec}. */
  export interface ExecOptions {
    /** Extra environment variables. */
    env?: Record<string, string>;
    /** Working directory, relative to the repository root (default: the root). */
    cwd?: string;
    /** Text written to the command's standard input. */
    input?: string;
    /** Start a long-running process that outlives the job; resolves to its pid. */
    detach?: boolean;
    /** Do not copy the command's output into the job log. */
    quiet?: boolean;
    /**
     * `false`: resolve with the exit code instead of rejecting when it is not 0 (health
     * checks). Default true.
     */
    check?: boolean;
  }

  /** Options of {@link Job.upload} and {@link Job.writeFile}. */
  export interface FileOptions {
    /** Permission bits of the file written, e.g. `0o755`. */
    mode?: number;
  }

  /**
   * Where a job's commands run (docs/executors.md): what an actions file's `executor(job)`
   * returns. The nearest service among the job's own and its ancestors whose actions file
   * exports `executor` decides; none: local.
   */
  export type Executor =
    | { kind: "local" }
    | {
      kind: "ssh";
      host: string;
      port?: number;
      user?: string;
      /** A private key file on the machine ays runs on… */
      keyPath?: string;
      /** …or the key itself (e.g. a secret field): written to a 0600 file for the run only. */
      key?: string;
      /** Given to ssh through SSH_ASKPASS, never on a command line. */
      password?: string;
      /** Jump host(s), as `ssh -J`. */
      proxyJump?: string;
      /** `accept-new` (default) or `strict`, against the repository's `.ays/known_hosts`. */
      hostKeys?: "accept-new" | "strict";
      /** Parallel sessions on the host's one connection (default 8). */
      maxSessions?: number;
      /** Connection attempts before "host unreachable" (default 4). */
      connectAttempts?: number;
      /** Seconds for one connect (default 10). */
      connectTimeout?: number;
    };

  /** What `executor(job)` receives: the view of the service whose actions file exports it. */
  export interface ExecutorContext {
    readonly repo: { readonly name: string; readonly path: string };
    readonly service: {
      readonly name: string;
      readonly actor: string;
      readonly role: string;
      readonly key: string;
      readonly data: Readonly<Record<string, unknown>>;
      readonly parent: ServiceView | null;
      readonly producers: Readonly<Record<string, readonly ServiceView[]>>;
      readonly consumers: readonly ServiceView[];
    };
  }

  /** Runs commands on the machine ays runs on, whatever the job's executor. */
  export interface LocalCommands {
    /** As {@link Job.exec} on a local executor. */
    exec(command: string, options: ExecOptions & { detach: true }): Promise<number>;
    exec(command: string, options: ExecOptions & { check: false }): Promise<number>;
    exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  }

  /** What a finished {@link Job.exec} command printed. */
  export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
  }

  /** What an action receives. */
  export interface Job<Data = Record<string, unknown>> {
    readonly repo: { readonly name: string; readonly path: string };
    readonly service: JobService<Data>;
    readonly action: string;
    /** Arguments of the run (`ays do --args`), e.g. `changes` for `processChange`. */
    readonly args: Record<string, unknown>;
    readonly runId: string;
    /** 1 for the first attempt, 2 for the first retry, … */
    readonly attempt: number;
    /**
     * Fires when the run is cancelled (a grace period follows). A timeout does not wait: the
     * job's worker and its exec process groups are killed at once.
     */
    readonly signal: AbortSignal;
    /** Appends a line to the job log. */
    log(message: string, level?: LogLevel): void;
    /**
     * Where this job's commands run (keys and passwords left out): `{kind: "local"}` or
     * `{kind: "ssh", host, port?, user?}`.
     */
    readonly executor: Readonly<
      { kind: "local" | "ssh"; host?: string; port?: number; user?: string }
    >;
    /**
     * Runs `sh -c command` on the job's executor in its own process group, with `AYS_REPO`,
     * `AYS_SERVICE`, `AYS_ACTION`, `AYS_RUN` (locally: in the repository root with the
     * environment of ays; over SSH: in the login folder); streams its output into the job log;
     * rejects on a non-zero exit unless `check: false`. Over SSH a failure to connect rejects
     * with "host unreachable: …", distinct from the command's own failure.
     */
    exec(command: string, options: ExecOptions & { detach: true }): Promise<number>;
    exec(command: string, options: ExecOptions & { check: false }): Promise<number>;
    exec(command: string, options?: ExecOptions): Promise<ExecResult>;
    /**
     * Copies a local file (a path relative to the repository root) or bytes to `path` on the
     * executor (relative to the login folder over SSH, to the repository root locally).
     */
    upload(source: string | Uint8Array, path: string, options?: FileOptions): Promise<void>;
    /** Copies `path` on the executor to a local file (relative to the repository root). */
    download(path: string, localPath: string): Promise<void>;
    /** The text (UTF-8) of `path` on the executor. */
    readFile(path: string): Promise<string>;
    /** Writes `data` to `path` on the executor (through a temporary file, then renamed). */
    writeFile(path: string, data: string | Uint8Array, options?: FileOptions): Promise<void>;
    /** Commands on the machine ays runs on. */
    readonly local: LocalCommands;
  }

  /** An exported action: its return value (JSON) is the job's result. */
  export type Action<Data = Record<string, unknown>> = (job: Job<Data>) => unknown;
}
