/**
 * The consumer of one repository's run queue (docs/daemon.md, "Run queue"): it takes one request at a time, has it
 * planned and executed, and acknowledges it only once the run record is final. One loop per
 * repository gives "one run at a time per repository" while repositories proceed side by side.
 *
 * The queue's `pop` may block up to its timeout or answer at once; the loop then polls every
 * `pollMs`.
 *
 * Nothing is lost when the daemon dies: an item is leased, not removed, when popped, and the
 * queue delivers it again after the lease runs out (the loop renews the lease while the run
 * executes). Delivery is therefore at least once; the executor recognises a request it already
 * finished by its id.
 *
 * @module
 */
import { AysError, ExitCode } from "../errors.ts";
import type { ExecuteQueuedRun, QueueItem, RunQueue } from "./backend.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { sleep } from "../run/mod.ts";

/** Options of {@link startRunQueue}. */
export interface RunQueueOptions {
  /** Names this consumer to the queue (leases are held by it); unique per daemon. */
  consumerId: string;
  /** Plans and executes one queued run; resolves when its record is final. */
  execute: ExecuteQueuedRun;
  /** For log lines; default the repository of the items. */
  repo?: string;
  logger?: Logger;
  /** How long one `pop` blocks; bounds how long `stop()` waits when idle. Default 1000 ms. */
  popTimeoutMs?: number;
  /**
   * A queue whose `pop` answers at once (the store drivers' does) is asked again after this
   * long, not in a tight loop; default 200 ms, so a queued run starts within about that.
   */
  pollMs?: number;
  /** How often the lease of the running item is renewed; default 5000 ms. */
  leaseRenewMs?: number;
  /** First delay after a failure (doubles up to 60 s while failures go on); default 1000 ms. */
  retryDelayMs?: number;
  /** Called when a run starts or ends (the daemon saves its status then). */
  onChange?: () => void;
}

/** A running consumer loop. */
export interface RunQueueLoop {
  /** The item being executed and when it started (epoch ms), or null. */
  current(): { item: QueueItem; startedAt: number } | null;
  /** Takes nothing more; the running run gets the abort signal; resolves when it ended. */
  stop(): Promise<void>;
}

/** Starts consuming `queue`; returns at once. */
export function startRunQueue(queue: RunQueue, options: RunQueueOptions): RunQueueLoop {
  const logger = options.logger ?? silentLogger;
  const popTimeoutMs = options.popTimeoutMs ?? 1000;
  const leaseRenewMs = options.leaseRenewMs ?? 5000;
  const baseDelay = options.retryDelayMs ?? 1000;
  const pollMs = options.pollMs ?? 200;
  const abort = new AbortController();
  let current: { item: QueueItem; startedAt: number } | null = null;
  let failures = 0;

  const backoff = () => {
    failures += 1;
    return sleep(Math.min(baseDelay * 2 ** (failures - 1), 60_000), { signal: abort.signal });
  };

  const runItem = async (item: QueueItem) => {
    const fields = { repo: options.repo ?? item.request.repo, id: item.id };
    current = { item, startedAt: Date.now() };
    options.onChange?.();
    const renewer = item.renew
      ? setInterval(() => {
        item.renew!().catch((error) => logger.warn("could not renew lease", { ...fields, error }));
      }, leaseRenewMs)
      : undefined;
    logger.info("queued run started", { ...fields, queuedAt: item.request.queuedAt });
    try {
      try {
        await options.execute(item, { signal: abort.signal });
      } catch (error) {
        // A request that can never succeed must not come back forever.
        if (!(error instanceof AysError && error.exitCode === ExitCode.badInput)) throw error;
        logger.error("queued run refused", { ...fields, error });
      }
      await item.ack();
      failures = 0;
      logger.info("queued run finished", fields);
    } catch (error) {
      logger.error("queued run failed; it will be delivered again", { ...fields, error });
      await backoff();
      await item.release?.().catch(() => {});
    } finally {
      if (renewer !== undefined) clearInterval(renewer);
      current = null;
      options.onChange?.();
    }
  };

  const loop = (async () => {
    while (!abort.signal.aborted) {
      let item: QueueItem | null;
      const asked = Date.now();
      try {
        item = await queue.pop(options.consumerId, { timeoutMs: popTimeoutMs });
      } catch (error) {
        logger.warn("could not read the run queue", { repo: options.repo, error });
        await backoff();
        continue;
      }
      if (item === null) {
        const waited = Date.now() - asked;
        if (waited < pollMs) await sleep(pollMs - waited, { signal: abort.signal });
        continue;
      }
      if (abort.signal.aborted) {
        // Popped while stopping: give it back rather than start new work.
        await item.release?.().catch(() => {});
        break;
      }
      await runItem(item);
    }
  })();

  return {
    current: () => current,
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
