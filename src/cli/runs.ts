/**
 * `ays runs` (the run history, newest first) and `ays runs prune --keep N`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { EventLog } from "../events/mod.ts";
import { runListEntry } from "../run/mod.ts";
import type { CliContext } from "./context.ts";
import { scopeText } from "./run.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays runs` and `ays runs prune` to the program. */
export function registerRuns(program: CommandUnknownOpts, ctx: CliContext): void {
  const runs = program
    .command("runs")
    .description("list the runs of the repository, newest first")
    .action(async (_options, command) => {
      await withSession(ctx, command, {}, async (session) => {
        const entries = (await session.store.listRuns()).map(runListEntry);
        if (session.globals.json) return printJson(ctx, entries);
        if (entries.length === 0) {
          if (!session.globals.quiet) ctx.io.stderr("no runs yet\n");
          return;
        }
        const rows = entries.map((run) => [
          run.id,
          run.state,
          run.startedAt ?? run.createdAt,
          run.duration === null ? "-" : `${run.duration.toFixed(2)} s`,
          `${run.jobs} jobs`,
          scopeText(run.scope),
        ]);
        const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
        ctx.io.stdout(
          rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
            .join("\n") + "\n",
        );
      });
    });
  runs
    .command("prune")
    .description("keep the N newest runs, delete the others with their jobs, logs and events")
    .requiredOption("--keep <n>", "how many runs to keep")
    .option("--wait", "wait for a run holding the repository lock instead of exiting 3")
    .action(async (options, command) => {
      const keep = Number(options.keep);
      if (!Number.isInteger(keep) || keep < 0) {
        throw new InputError(`--keep must be a whole number, not '${options.keep}'`);
      }
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait) },
        async (session) => {
          const deleted = await session.store.pruneRuns(keep);
          // The events go with the runs: those older than the oldest run kept (docs/events.md).
          let events = 0;
          if (deleted.length > 0) {
            const oldest = (await session.store.listRuns()).at(-1);
            const log = new EventLog(session.driver, { repo: session.repo.name });
            events = await log.pruneBefore(oldest ? oldest.createdAt : Date.now());
          }
          if (session.globals.json) return printJson(ctx, { deleted, events });
          if (!session.globals.quiet) {
            ctx.io.stderr(
              `deleted ${deleted.length} run${deleted.length === 1 ? "" : "s"} and ${events} ` +
                `event${events === 1 ? "" : "s"}\n`,
            );
          }
        },
      );
    });
}
