/**
 * The events of one run in a repository's stream (docs/events.md, "ays watch"): where the run
 * begins in the stored log, and which events are the run's.
 *
 * @module
 */
import type { EventLog } from "./event_log.ts";
import type { AysEvent } from "./types.ts";

/** Whether `event` belongs to the run `runId` (run and job events carry it). */
export function isRunEvent(event: AysEvent, runId: string): boolean {
  return "runId" in event && event.runId === runId;
}

/** Options of {@link findRunStart}. */
export interface FindRunStartOptions {
  /** Look at the events up to this id only (default: all stored). */
  upTo?: number;
}

/**
 * The id just before the first stored event of run `runId` — the cursor to read the run from
 * — or null when the log holds none of its events (not started yet, or pruned).
 */
export async function findRunStart(
  log: EventLog,
  runId: string,
  options: FindRunStartOptions = {},
): Promise<number | null> {
  const { upTo = Number.MAX_SAFE_INTEGER } = options;
  let after = 0;
  for (;;) {
    const batch = await log.since(after, { limit: 1000 });
    if (batch.length === 0) return null;
    for (const event of batch) {
      if (event.id > upTo) return null;
      if (isRunEvent(event, runId)) return event.id - 1;
      after = event.id;
    }
  }
}
