/**
 * The daemon's command-line settings resolved in one place, so `ays daemon` and its tests agree:
 * `--listen`, `--token` over `AYS_TOKEN`, `--log-format`, colour. Also the text of
 * `ays daemon status`.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import type { DaemonStatus } from "./backend.ts";
import { DEFAULT_LISTEN, type ListenAddress, parseListen } from "./listen.ts";
import type { LogFormat } from "./logger.ts";

/** The daemon's flags as commander gives them. */
export interface DaemonFlags {
  listen?: string;
  token?: string;
  logFormat?: string;
  /** `--no-color` makes this false. */
  color?: boolean;
}

/** What {@link resolveDaemonSettings} decides. */
export interface DaemonSettings {
  listen: ListenAddress;
  /** From `--token`, else `AYS_TOKEN`; undefined when neither is set or both are empty. */
  token?: string;
  logFormat: LogFormat;
  /** Colour the text log: a terminal, no `--no-color`, no `NO_COLOR`. */
  color: boolean;
}

/** Options of {@link resolveDaemonSettings}. */
export interface ResolveOptions {
  /** Whether standard output is a terminal. */
  isTerminal?: boolean;
}

/**
 * Resolves the flags with the environment; a bad `--listen` or `--log-format` is an
 * {@link InputError}. The token rule itself is checked when the API starts.
 */
export function resolveDaemonSettings(
  flags: DaemonFlags,
  env: Record<string, string | undefined>,
  options: ResolveOptions = {},
): DaemonSettings {
  const listen = flags.listen === undefined ? DEFAULT_LISTEN : parseListen(flags.listen);
  const format = flags.logFormat ?? "text";
  if (format !== "text" && format !== "json") {
    throw new InputError(`--log-format '${format}': expected text or json`);
  }
  const token = flags.token || env.AYS_TOKEN || undefined;
  return {
    listen,
    token,
    logFormat: format,
    color: format === "text" && Boolean(options.isTerminal) && flags.color !== false &&
      !env.NO_COLOR,
  };
}

/** Options of {@link formatDaemonStatus}. */
export interface FormatStatusOptions {
  /** Epoch milliseconds, for the job ages; default now. */
  now?: number;
  /** False when `isDaemonAlive` says the saved status is a dead daemon's. */
  alive?: boolean;
}

/**
 * The text of `ays daemon status` for one repository: `status` null (or not alive) says that
 * no daemon serves it.
 */
export function formatDaemonStatus(
  repo: string,
  status: DaemonStatus | null,
  options: FormatStatusOptions = {},
): string {
  if (status === null || options.alive === false) {
    const stale = status === null
      ? ""
      : ` (a daemon with pid ${status.pid} on ${status.host} stopped answering at ${status.updatedAt})`;
    return `no daemon serves ${repo}${stale}\n`;
  }
  const now = options.now ?? Date.now();
  const lines = [
    `daemon pid ${status.pid} on ${status.host} serves ${repo} since ${status.since}`,
    `api: http://${status.address}`,
  ];
  if (status.jobs.length === 0) lines.push("jobs: none");
  else lines.push(`jobs: ${status.jobs.length}`);
  for (const job of status.jobs) {
    const age = ((now - Date.parse(job.startedAt)) / 1000).toFixed(1);
    const what = job.kind === "recurring"
      ? `recurring ${job.service} ${job.action}`
      : `run ${job.runId}${job.action ? ` (${job.action})` : ""}`;
    lines.push(`  ${job.repo}: ${what}, running ${age} s`);
  }
  return lines.join("\n") + "\n";
}
