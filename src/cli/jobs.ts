/**
 * `ays jobs` (docs/events.md, "ays jobs"): the job records of the repository's runs and of the
 * daemon's recurring actions, newest first, with `-r`, `-i`, `--action`, `--recurring`,
 * `--state` and `--limit`; `--json` prints them as data (the body of `GET /repos/{name}/jobs`).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { type JobFilter, type JobListEntry, listJobs } from "../run/mod.ts";
import type { CliContext } from "./context.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays jobs` to the program. */
export function registerJobs(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("jobs")
    .description("list job records of runs and of recurring actions, newest first")
    .option("-r, --role <role>", "only services of this role or actor")
    .option("-i, --instance <regex>", "only instances matching this regex (whole name)")
    .option("--action <name>", "only jobs of this action")
    .option("--recurring", "only jobs of the daemon's recurring actions")
    .option("--runs", "only jobs of runs")
    .option(
      "--state <state>",
      "only jobs in this state (new, running, ok, error, skipped, cancelled)",
    )
    .option("--limit <n>", "at most this many, the newest (default 100; 0 for all)")
    .action(async (options, command) => {
      if (options.recurring && options.runs) {
        throw new InputError("--recurring and --runs cannot be combined");
      }
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      const filter: JobFilter = {
        role: options.role,
        instance: options.instance,
        action: options.action,
        recurring: options.recurring ? true : options.runs ? false : undefined,
        state: options.state,
        limit,
      };
      await withSession(ctx, command, {}, async (session) => {
        const jobs = await listJobs(session.store, filter);
        if (session.globals.json) return printJson(ctx, jobs);
        if (jobs.length === 0) {
          if (!session.globals.quiet) ctx.io.stderr("no jobs match\n");
          return;
        }
        ctx.io.stdout(formatJobs(jobs));
      });
    });
}

/** The text table of `ays jobs`: one line per job, its error's first line under it. */
export function formatJobs(jobs: readonly JobListEntry[]): string {
  const rows = jobs.map((job) => [
    job.state,
    job.service,
    job.action,
    job.startedAt === null ? "-" : job.startedAt.slice(0, 19).replace("T", " "),
    job.duration === null ? "-" : `${job.duration.toFixed(2)} s`,
    job.recurring ? "recurring" : job.runId,
  ]);
  const header = ["STATE", "SERVICE", "ACTION", "STARTED", "TOOK", "RUN"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i])).join("  ");
  const out = [line(header)];
  jobs.forEach((job, i) => {
    out.push(line(rows[i]));
    const error = job.error?.message.split("\n").find((l) => l.trim() !== "");
    if (job.state !== "ok" && error) out.push(`    ${error.trim()}`);
  });
  return out.join("\n") + "\n";
}
