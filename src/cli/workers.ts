/**
 * `ays workers` (docs/fleet.md): the workers of the fleet on the Redis store — name, host,
 * labels, concurrency, running jobs, last heartbeat — as a table or `--json`. A worker whose
 * heartbeat is older than 15 s is shown `gone`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { fleetConnection, listWorkers, workerView } from "../fleet/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import { openSession, printJson } from "./session.ts";

/** The Redis URL: `--store`/`AYS_STORE`, else the current repository's store. */
async function fleetUrl(ctx: CliContext, command: CommandUnknownOpts): Promise<string> {
  const globals = globalsOf(command, ctx.io.env);
  const given = globals.store ?? ctx.io.env.AYS_STORE;
  if (given) return given;
  const opened = await openSession(ctx, globals).catch(() => null);
  if (!opened) {
    throw new InputError("ays workers needs the fleet's Redis: --store redis://… (or AYS_STORE)");
  }
  await opened.driver.close();
  return opened.url;
}

/** Adds `ays workers` to the program. */
export function registerWorkers(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("workers")
    .description("list the workers of the fleet on the Redis store (docs/fleet.md)")
    .action(async (_options, command) => {
      const globals = globalsOf(command, ctx.io.env);
      const url = await fleetUrl(ctx, command);
      const redis = await fleetConnection(url);
      try {
        const now = Date.now();
        const workers = await listWorkers(redis, { now });
        if (globals.json) {
          printJson(ctx, workers.map(workerView));
          return;
        }
        if (workers.length === 0) {
          if (!globals.quiet) {
            ctx.io.stderr("no workers in the fleet (start one with ays worker)\n");
          }
          return;
        }
        const rows = [
          ["NAME", "HOST", "LABELS", "CONCURRENCY", "RUNNING", "HEARTBEAT", "STATE"],
          ...workers.map((w) => [
            w.name,
            w.host,
            w.labels.join(","),
            String(w.concurrency),
            String(w.running),
            `${Math.max(0, Math.round((now - w.heartbeat) / 1000))} s ago`,
            w.live ? "live" : "gone",
          ]),
        ];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        for (const row of rows) {
          ctx.io.stdout(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd() + "\n");
        }
      } finally {
        redis.disconnect();
      }
    });
}
