/**
 * `ays watch [RUN_ID|last]` (docs/events.md, "ays watch"): follows a run of another process —
 * an `ays run` in another terminal, or a run queued to the daemon — with the terminal view of
 * `ays run`, drawn from the stored events, and exits with the run's exit code. A run that
 * already ended is shown from its stored events at once.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { ExitCode, InputError } from "../errors.ts";
import {
  type AysEvent,
  EventLog,
  findRunStart,
  followEvents,
  isRunEvent,
  runExitCode,
} from "../events/mod.ts";
import type { RunRecord } from "../model/mod.ts";
import { FINAL_RUN_STATES, findRun } from "../run/mod.ts";
import { isProcessAlive, RUN_QUEUE, thisHost } from "../store/mod.ts";
import type { CliContext } from "./context.ts";
import { RunView, terminalColumns } from "./progress.ts";
import { withSession } from "./session.ts";

/** How often the run's record is looked at, for a run whose events stopped coming. */
const CHECK_MS = 1000;

/** Adds `ays watch` to the program. */
export function registerWatch(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("watch")
    .description("follow a run (of another terminal, or queued to the daemon) until it ends")
    .argument("[run]", "run id, an unambiguous prefix, or last (the default)")
    .option("--events", "print the run's events as JSON lines on standard output instead")
    .action(async (run, options, command) => {
      await withSession(ctx, command, {}, async (session) => {
        const { store, driver, globals } = session;
        const id = run ?? "last";
        const log = new EventLog(driver, { repo: session.repo.name });
        // Read the end first: an event stored while looking for the run's start is not missed.
        const end = await log.lastId();
        let record: RunRecord | null = null;
        try {
          record = await findRun(store, id);
        } catch (error) {
          // A queued run has no record until the daemon starts it: wait while one is queued.
          if (!(error instanceof InputError) || id === "last" || !(await queued(session.driver))) {
            throw error;
          }
        }
        const runId = record?.id ?? id;
        const view = new RunView(ctx.io, {
          quiet: globals.quiet || Boolean(options.events),
          color: globals.color,
          columns: terminalColumns(ctx.io.env),
        });
        const show = (event: AysEvent) => {
          if (options.events) ctx.io.stdout(JSON.stringify(event) + "\n");
          view.onEvent(event);
        };
        const start = await findRunStart(log, runId, { upTo: end });
        if (record && FINAL_RUN_STATES.has(record.state) && start === null) {
          // Ended before events were kept (or they were pruned): the records say how.
          ctx.io.stderr(
            `run ${runId} ${record.state} (no events stored: see ays run show ${runId})\n`,
          );
          ctx.exitCode = runExitCode(record.state);
          return;
        }
        if (!record && !globals.quiet) {
          ctx.io.stderr(`waiting for queued run ${runId} to start…\n`);
        }
        const stop = new AbortController();
        let outcome: { code: number; why?: string } | null = null;
        let sawRecord = record !== null;
        let strikes = 0;
        const check = setInterval(async () => {
          try {
            const now = await store.loadRun(runId);
            sawRecord ||= now !== null;
            const gone = now === null
              ? sawRecord || !(await queued(session.driver))
              : FINAL_RUN_STATES.has(now.state) || deadHolder(now);
            // Twice in a row: events stored just before the record changed still come first.
            strikes = gone ? strikes + 1 : 0;
            if (strikes < 2) return;
            if (now === null) {
              outcome = { code: ExitCode.badInput, why: `no run ${runId} (see ays runs)` };
            } else if (FINAL_RUN_STATES.has(now.state)) {
              outcome = { code: runExitCode(now.state), why: `run ${runId} ${now.state}` };
            } else {
              outcome = {
                code: ExitCode.failed,
                why: `the process of run ${runId} (pid ${now.holder?.pid}) is gone; ` +
                  `the next ays run resumes it`,
              };
            }
            stop.abort();
          } catch {
            // The store is away for a moment: the follower reports what lasts.
          }
        }, CHECK_MS);
        try {
          for await (
            const event of followEvents(log, { after: start ?? end, signal: stop.signal })
          ) {
            // The fleet's workers joining and leaving meanwhile are shown too (docs/events.md).
            const fleet = event.type === "worker.joined" || event.type === "worker.left";
            if (!fleet && !isRunEvent(event, runId)) continue;
            show(event);
            if (event.type === "run.ended") {
              outcome = { code: event.exitCode };
              break;
            }
          }
        } finally {
          clearInterval(check);
          view.end();
        }
        const result = outcome as { code: number; why?: string } | null;
        if (result?.why) ctx.io.stderr(`${result.why}\n`);
        ctx.exitCode = result?.code ?? ExitCode.failed;
      });
    });
}

async function queued(
  driver: { queueStats(queue: string): Promise<{ pending: number; inFlight: number }> },
) {
  const stats = await driver.queueStats(RUN_QUEUE);
  return stats.pending + stats.inFlight > 0;
}

function deadHolder(run: RunRecord): boolean {
  return run.holder !== null && run.holder.host === thisHost() && !isProcessAlive(run.holder.pid);
}
