/**
 * The repository lock (`docs/store.md`, "Locks"; `docs/runs.md`): one run (or other writing
 * command) at a time per repository, a holder `{pid, host, id}` with a heartbeat, TTL 15 s. A second writer fails
 * with LockedError (exit 3) naming the holder, or waits with `wait`.
 *
 * @module
 */
import { LockedError } from "../errors.ts";
import type { Holder, LockInfo, LockStore } from "./driver.ts";
import { REPO_LOCK } from "./record_keys.ts";
import { StoreLostError } from "./store_lost.ts";

/** TTL of the repository lock. */
export const REPO_LOCK_TTL_MS = 15_000;

/** Options of {@link holdRepoLock}. */
export interface HoldRepoLockOptions {
  /** Wait for the lock instead of failing (polls every `pollMs`). */
  wait?: boolean;
  /** Give up waiting when aborted. */
  signal?: AbortSignal;
  /** Default {@link REPO_LOCK_TTL_MS}. */
  ttlMs?: number;
  /** Default 250 ms. */
  pollMs?: number;
  /**
   * Called when a heartbeat finds the lock lost (taken over after a stall, or gone with the data
   * of a store that lost it).
   */
  onLost?: () => void;
}

/** A held repository lock. */
export interface HeldLock {
  lock: LockInfo;
  /** Set when the lock of a dead holder was taken over. */
  tookOverFrom?: Holder;
  /** Whether a heartbeat found the lock lost. */
  readonly lost: boolean;
  /** Stops the heartbeat and releases the lock. */
  release(): Promise<void>;
}

/** "pid 123 on host web1 (id …) since <ISO time>". */
export function describeHolder(lock: LockInfo): string {
  return `pid ${lock.holder.pid} on ${lock.holder.host} (${lock.holder.id}) since ` +
    new Date(lock.acquiredAt).toISOString();
}

/**
 * Takes the repository lock for `holder` and heart-beats it every third of its TTL until
 * released. Throws LockedError naming the holder when another one holds it (unless `wait`).
 */
export async function holdRepoLock(
  driver: LockStore,
  holder: Holder,
  options: HoldRepoLockOptions = {},
): Promise<HeldLock> {
  const ttl = options.ttlMs ?? REPO_LOCK_TTL_MS;
  while (true) {
    const attempt = await driver.acquireLock(REPO_LOCK, holder, ttl);
    if (attempt.acquired) {
      let lost = false;
      let released = false;
      const timer = setInterval(async () => {
        if (released || lost) return;
        try {
          if (!(await driver.heartbeatLock(REPO_LOCK, holder.id, ttl))) {
            lost = true;
            options.onLost?.();
          }
        } catch (error) {
          // A store that lost its data lost the lock with it; any other failure is a hiccup:
          // the next beat tries again, and the TTL covers two misses.
          if (error instanceof StoreLostError) {
            lost = true;
            options.onLost?.();
          }
        }
      }, Math.max(50, Math.floor(ttl / 3)));
      return {
        lock: attempt.lock,
        tookOverFrom: attempt.tookOverFrom,
        get lost() {
          return lost;
        },
        async release() {
          if (released) return;
          released = true;
          clearInterval(timer);
          await driver.releaseLock(REPO_LOCK, holder.id);
        },
      };
    }
    if (!options.wait || options.signal?.aborted) {
      throw new LockedError(
        `the repository is locked by ${describeHolder(attempt.lock)}; ` +
          `try again later or use --wait`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}
