/**
 * The documented event shapes of docs/events.md as zod schemas: what the schema tests hold
 * `ays run --events`, stored events and `GET /events` to. Strict, so a field the docs do not
 * name fails the test until it is documented here and there.
 *
 * @module
 */
import { z } from "zod";

const base = {
  id: z.number().int().positive(),
  time: z.iso.datetime(),
  repo: z.string().min(1),
};
const service = z.string().regex(/^[^!]+![^!]+$/, "actor!instance");
const jobRef = { runId: z.string().min(1), jobId: z.string().min(1) };

/** One event of a repository's stream. */
export const eventSchema = z.discriminatedUnion("type", [
  z.strictObject({
    ...base,
    type: z.literal("run.started"),
    runId: z.string().min(1),
    action: z.string().optional(),
    jobs: z.number().int().nonnegative(),
  }),
  z.strictObject({
    ...base,
    type: z.literal("run.ended"),
    runId: z.string().min(1),
    state: z.enum(["ok", "error", "cancelled"]),
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(130)]),
    counts: z.record(z.string(), z.number().int().positive()),
  }),
  z.strictObject({
    ...base,
    ...jobRef,
    type: z.literal("job.started"),
    service,
    action: z.string().min(1),
    attempt: z.number().int().positive(),
    worker: z.string().optional(),
  }),
  z.strictObject({ ...base, ...jobRef, type: z.literal("job.log"), lines: z.array(z.string()) }),
  z.strictObject({
    ...base,
    ...jobRef,
    type: z.literal("job.retry"),
    attempt: z.number().int().min(2),
    error: z.string(),
  }),
  z.strictObject({
    ...base,
    ...jobRef,
    type: z.literal("job.ended"),
    service,
    action: z.string().min(1),
    state: z.enum(["ok", "error", "skipped", "cancelled"]),
    error: z.string().optional(),
    durationMs: z.number().nonnegative(),
  }),
  z.strictObject({
    ...base,
    type: z.literal("service.state"),
    service,
    action: z.string().min(1),
    state: z.string().min(1),
  }),
  z.strictObject({
    ...base,
    type: z.literal("recurring.ended"),
    service,
    action: z.string().min(1),
    state: z.string().min(1),
    error: z.string().optional(),
    jobId: z.string().min(1),
  }),
  z.strictObject({
    ...base,
    type: z.literal("daemon.started"),
    daemon: z.string().optional(),
    address: z.string().optional(),
  }),
  z.strictObject({ ...base, type: z.literal("daemon.stopped"), daemon: z.string().optional() }),
  z.strictObject({ ...base, type: z.literal("worker.joined"), worker: z.string().min(1) }),
  z.strictObject({ ...base, type: z.literal("worker.left"), worker: z.string().min(1) }),
]);

/** A parsed event. */
export type SchemaEvent = z.infer<typeof eventSchema>;

/** Parses JSON lines into events, failing with the line and the problem. */
export function parseEventLines(text: string): SchemaEvent[] {
  return text.split("\n").filter((line) => line !== "").map((line, i) => {
    const parsed = eventSchema.safeParse(JSON.parse(line));
    if (!parsed.success) {
      throw new Error(`line ${i + 1} is not a documented event: ${parsed.error.message}\n${line}`);
    }
    return parsed.data;
  });
}
