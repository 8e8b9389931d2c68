/**
 * `ays do ACTION` and `ays install` (docs/blueprints.md): schedule the action on the matching services,
 * save that under the repository lock, then run scoped to those services with the same lock
 * held throughout. `--schedule-only` stops after scheduling; `--args` become `job.args`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { InputError } from "../errors.ts";
import { type JobArgs, scheduleForRun } from "../run/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { executeFromCli, parseIsolation, parseParallel } from "./run.ts";
import { parseWorkerTimeout } from "./fleet_option.ts";

/**
 * `--args` (docs/runs.md, "Job arguments"): one FILE (a YAML or JSON mapping: typed values),
 * or `key=value` items (values are strings, as written), or v8.1's `"key:value key:value"`.
 */
export async function parseJobArgs(items: readonly string[], cwd: string): Promise<JobArgs> {
  if (items.length === 1 && !items[0].includes("=")) {
    const path = resolve(cwd, items[0]);
    const text = await readFile(path, "utf8").catch(() => null);
    if (text !== null) return parseArgsFile(items[0], text);
    if (!items[0].includes(":")) {
      throw new InputError(`--args ${items[0]}: no such file (or give key=value pairs)`);
    }
  }
  const args: JobArgs = {};
  const put = (key: string, value: string, item: string) => {
    if (key === "") throw new InputError(`--args: '${item}' is not key=value`);
    args[key] = value;
  };
  for (const item of items) {
    const eq = item.indexOf("=");
    const colon = item.indexOf(":");
    if (eq >= 0 && (colon < 0 || eq < colon)) {
      put(item.slice(0, eq), item.slice(eq + 1), item);
      continue;
    }
    if (colon < 0) throw new InputError(`--args: '${item}' is not key=value`);
    // v8.1: "key:value key:value" in one argument.
    for (const pair of item.trim().split(/\s+/)) {
      const i = pair.indexOf(":");
      if (i < 0) throw new InputError(`--args: '${pair}' is not key:value (in '${item}')`);
      put(pair.slice(0, i), pair.slice(i + 1), pair);
    }
  }
  return args;
}

/** A `--args FILE`: a YAML (or JSON, which is YAML) mapping of names to typed values. */
function parseArgsFile(name: string, text: string): JobArgs {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new InputError(`${name}: not JSON or YAML: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError(`${name}: the arguments must be a mapping of names to values`);
  }
  return value as JobArgs;
}

interface DoOptions {
  role?: string;
  instance?: string;
  force?: boolean;
  args?: string[];
  scheduleOnly?: boolean;
  parallel?: string;
  isolation?: string;
  failFast?: boolean;
  wait?: boolean;
  fleet?: boolean;
  workerTimeout?: string;
}

async function doAction(
  ctx: CliContext,
  command: CommandUnknownOpts,
  action: string,
  options: DoOptions,
): Promise<void> {
  const args = options.args ? await parseJobArgs(options.args, ctx.io.cwd) : undefined;
  const role = options.role || undefined;
  const instance = options.instance || undefined;
  await executeFromCli(ctx, globalsOf(command, ctx.io.env), {
    parallel: options.parallel === undefined ? undefined : parseParallel(options.parallel),
    isolation: options.isolation === undefined ? undefined : parseIsolation(options.isolation),
    failFast: Boolean(options.failFast),
    wait: Boolean(options.wait),
    fleet: Boolean(options.fleet),
    workerTimeoutMs: options.workerTimeout === undefined
      ? undefined
      : parseWorkerTimeout(options.workerTimeout),
    scope: { role, instance, action },
    args,
    before: async ({ session, globals, warn }) => {
      const services = await session.store.loadServices();
      const result = scheduleForRun(services, action, { role, instance, force: options.force });
      if (result.empty) {
        warn("the repository has no services (apply a blueprint first)");
        return false;
      }
      if (result.updated.length > 0) await session.store.save({ services: result.updated });
      if (!globals.quiet) {
        const ok = result.skipped.filter((s) => s.reason === "ok").length;
        const having = result.matched -
          result.skipped.filter((s) => s.reason === "unknown-action").length;
        ctx.io.stderr(
          `scheduled ${action} on ${result.scheduled.length} of ${having} services that have it` +
            (ok > 0 ? ` (${ok} already ok: --force runs them again)` : "") + "\n",
        );
      }
      return !options.scheduleOnly;
    },
  });
}

function addDoOptions(command: CommandUnknownOpts): CommandUnknownOpts {
  return command
    .option("-r, --role <role>", "only services of this role or actor")
    .option("-i, --instance <regex>", "only instances matching this regex (whole name)")
    .option("--force", "schedule also where the action is already ok")
    .option("--args <items...>", "job.args: a YAML/JSON file (typed), or key=value pairs (strings)")
    .option("--schedule-only", "only schedule; run later with ays run")
    .option("--parallel <n>", "jobs at once (default: parallel of .ays/config.yaml, else 10)")
    .option("--fail-fast", "start no new job after the first failure")
    .option("--wait", "wait for the repository lock instead of exiting 3")
    .option(
      "--isolation <how>",
      "pool, job or process, for actions whose actor.yaml names none (default: isolation of " +
        ".ays/config.yaml, else pool)",
    ).option("--fleet", "send the jobs to the fleet of ays workers (Redis store; docs/fleet.md)")
    .option(
      "--worker-timeout <dur>",
      "with the fleet: fail a job no worker takes within dur (default 10m)",
    );
}

/** Adds `ays do ACTION` and `ays install` to the program. */
export function registerDo(program: CommandUnknownOpts, ctx: CliContext): void {
  addDoOptions(
    program
      .command("do")
      .description("schedule ACTION on the matching services, then run it")
      .argument("<action>", "the action, e.g. install, start, backup"),
  ).action(
    (async (action: string, options: DoOptions, command: CommandUnknownOpts) => {
      await doAction(ctx, command, action, options);
    }) as never,
  );
  addDoOptions(
    program
      .command("install")
      .description(
        "ays do install: schedule install on the matching services, then run",
      ),
  ).action(
    (async (options: DoOptions, command: CommandUnknownOpts) => {
      await doAction(ctx, command, "install", options);
    }) as never,
  );
}
