/**
 * The text `ays types` prints: the declarations of the `job` API for editors. It is the
 * `#region job-types` of `job_api.ts` wrapped in `declare module "ays"`; a test keeps the two
 * identical (edit `job_api.ts`, then this copy).
 *
 * @module
 */

/** The TypeScript declarations of `Job` and friends, as a `declare module "ays"`. */
export const JOB_TYPES_DTS =
  `// TypeScript declarations of the ays job API (docs/runs.md), printed by \`ays types\`.
// Save them as ays.d.ts beside your templates, then: import type { Job } from "ays";
declare module "ays" {
  /** Levels of {@link Job.log}. */
  export type LogLevel = "debug" | "info" | "warn" | "error";

  /** A read-only view of a related service: parent, producer or consumer. */
  export interface ServiceView {
    /** The instance, e.g. \`web1\`. */
    readonly name: string;
    readonly actor: string;
    readonly role: string;
    readonly data: Readonly<Record<string, unknown>>;
  }

  /** The service a job acts on. */
  export interface JobService<Data = Record<string, unknown>> {
    /** The instance, e.g. \`web1\`. */
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
    /** Arguments of the run (\`ays do --args\`), e.g. \`changes\` for \`processChange\`. */
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
     * Runs \`sh -c command\` in the repository root in its own process group, with the
     * environment of ays plus \`AYS_REPO\`, \`AYS_SERVICE\`, \`AYS_ACTION\`, \`AYS_RUN\`; streams its
     * output into the job log; rejects on a non-zero exit.
     */
    exec(command: string, options: ExecOptions & { detach: true }): Promise<number>;
    exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  }

  /** An exported action: its return value (JSON) is the job's result. */
  export type Action<Data = Record<string, unknown>> = (job: Job<Data>) => unknown;
}
`;
