/**
 * The run queue over a repository's store driver (docs/daemon.md, "Run queue"): `ays run --queue` and
 * `POST /repos/{name}/runs` push with {@link queueRunRequest}; the daemon consumes with
 * {@link storeRunQueue}. Requests are JSON in the driver's reliable queue `runs`, so the CLI
 * and the daemon — possibly different versions — agree on one small, readable format.
 *
 * @module
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import { currentHolder, type QueueStore, RUN_QUEUE } from "../store/mod.ts";
import type { QueuedRequest, QueueItem, RunQueue, RunRequest } from "./backend.ts";
import { runRequestSchema } from "./http.ts";

/** A queued request as stored: the run request plus where it came from. */
const queuedRequestSchema = z.object({
  repo: z.string().min(1),
  queuedAt: z.number(),
  source: z.enum(["cli", "http"]),
  request: runRequestSchema,
});

/** The bytes of a queued request. */
export function encodeQueuedRequest(request: QueuedRequest): Uint8Array {
  const { repo, queuedAt, source, ...filters } = request;
  return new TextEncoder().encode(JSON.stringify({ repo, queuedAt, source, request: filters }));
}

/** Reads a queued request; bytes that are not one are an {@link InputError}. */
export function decodeQueuedRequest(bytes: Uint8Array): QueuedRequest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InputError(`queued run request is not JSON: ${(error as Error).message}`);
  }
  const parsed = queuedRequestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "request"}: ${issue.message}`
    );
    throw new InputError(`queued run request is malformed: ${problems.join("; ")}`);
  }
  const { repo, queuedAt, source, request } = parsed.data;
  return { ...request, repo, queuedAt, source };
}

/** Options of {@link queueRunRequest}. */
export interface QueueRunOptions {
  /** The repository's name, recorded with the request. */
  repo: string;
  /** Default `cli`. */
  source?: "cli" | "http";
  /** Epoch milliseconds; default now. */
  now?: number;
}

/** Puts a run request into the repository's queue and returns its id (also the run's id). */
export function queueRunRequest(
  driver: QueueStore,
  request: RunRequest,
  options: QueueRunOptions,
): Promise<string> {
  const queued: QueuedRequest = {
    ...request,
    repo: options.repo,
    queuedAt: options.now ?? Date.now(),
    source: options.source ?? "cli",
  };
  return driver.push(RUN_QUEUE, encodeQueuedRequest(queued));
}

/** Options of {@link storeRunQueue}. */
export interface StoreRunQueueOptions {
  /** How long a popped item stays leased without a renewal; default 30 000 ms. */
  leaseMs?: number;
  /**
   * Called for an item whose bytes are not a request; the item is acknowledged (it could never
   * run) and the next one is taken.
   */
  onInvalid?: (id: string, error: InputError) => void;
}

/**
 * The daemon's view of a repository's queue in its store. Leases are held by
 * `{pid, host, id: consumerId}`, so the driver gives the item of a consumer killed with
 * `kill -9` on this host back at once, and one elsewhere when its lease lapses. `pop` answers
 * at once; the consumer loop polls.
 */
export function storeRunQueue(driver: QueueStore, options: StoreRunQueueOptions = {}): RunQueue {
  const leaseMs = options.leaseMs ?? 30_000;
  return {
    async pop(consumerId: string): Promise<QueueItem | null> {
      const holder = currentHolder(consumerId);
      for (;;) {
        const item = await driver.pop(RUN_QUEUE, holder, leaseMs);
        if (item === null) return null;
        let request: QueuedRequest;
        try {
          request = decodeQueuedRequest(item.value);
        } catch (error) {
          await driver.ack(RUN_QUEUE, item.id, consumerId);
          options.onInvalid?.(item.id, error as InputError);
          continue;
        }
        return {
          id: item.id,
          request,
          async ack() {
            if (!(await driver.ack(RUN_QUEUE, item.id, consumerId))) {
              throw new Error(`lost the lease of queued run ${item.id}: another daemon has it`);
            }
          },
          async renew() {
            await driver.heartbeatQueue(RUN_QUEUE, consumerId, leaseMs);
          },
          async release() {
            await driver.release(RUN_QUEUE, item.id, consumerId);
          },
        };
      }
    },
  };
}
