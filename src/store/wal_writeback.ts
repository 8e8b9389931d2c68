/**
 * Early writeback of an SQLite store's write-ahead log (`docs/store.md`, "SQLite details").
 *
 * With `synchronous = NORMAL` a commit only writes its pages into the WAL (the page cache);
 * they reach the disk at the checkpoint, which first `fsync`s the WAL. A run checkpoints once,
 * when it closes the store, and by then a 2,000-job run has written ~14,000 frames (~115 MB of
 * 8 KiB pages): that one `fsync` took 140–150 ms after the run had ended, on the user's time.
 * Asking the kernel to write the WAL back while the run goes on — an `fdatasync` of the file
 * from the file pool, at most one at a time and one per interval — leaves that final `fsync`
 * 1–3 ms. It promises nothing: SQLite still syncs as before, so what is durable when is
 * unchanged; a failed or useless early sync (the WAL gone, made anew) costs nothing but itself.
 *
 * @module
 */
import { open } from "node:fs/promises";

/** Options of {@link WalWriteback}. */
export interface WalWritebackOptions {
  /** Least time between the end of one early sync and the start of the next, ms; default 100. */
  intervalMs?: number;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** Syncs the file at `path` (default: open it, `fdatasync`, close; a missing file is fine). */
  sync?: (path: string) => Promise<void>;
}

/** Writes an SQLite WAL back to the disk in the background while commits come in. */
export class WalWriteback {
  readonly #path: string;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #sync: (path: string) => Promise<void>;
  #inFlight: Promise<void> | null = null;
  #last: number;

  /**
   * `walPath` is the WAL's file (the store file's path and `-wal`). The first early sync comes
   * one interval after this is made.
   */
  constructor(walPath: string, options: WalWritebackOptions = {}) {
    const { intervalMs = 100, now = Date.now, sync = datasyncFile } = options;
    if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be ≥ 0, not ${intervalMs}`);
    this.#path = walPath;
    this.#intervalMs = intervalMs;
    this.#now = now;
    this.#sync = sync;
    this.#last = now();
  }

  /** Called after each commit: starts an early sync when none runs and the interval is over. */
  committed(): void {
    if (this.#inFlight || this.#now() - this.#last < this.#intervalMs) return;
    this.#inFlight = this.#sync(this.#path).catch(() => {
      // Only a hint to the kernel: SQLite's own fsync at the checkpoint reports real failures.
    }).finally(() => {
      this.#inFlight = null;
      this.#last = this.#now();
    });
  }

  /** Resolves when the early sync under way, if any, has ended. */
  async settled(): Promise<void> {
    await this.#inFlight;
  }
}

/** `fdatasync` of the file at `path`; nothing when it does not exist. */
async function datasyncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch {
    return;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
