/**
 * Early writeback of an SQLite store's write-ahead log (`docs/store.md`, "SQLite details").
 *
 * With `synchronous = NORMAL` a commit only writes its pages into the WAL (the page cache);
 * they reach the disk at the checkpoint, which first `fsync`s the WAL. A run checkpoints once,
 * when it closes the store, and by then a 2,000-job run has written ~14,000 frames (~115 MB of
 * 8 KiB pages): that one `fsync` took 140–150 ms after the run had ended, on the user's time.
 * Asking the kernel to write the WAL back while the run goes on — an `fdatasync` of the file
 * from the file pool, at most one at a time and one per interval — leaves that final `fsync`
 * 1–3 ms. Only a WAL that grew by a good amount or took many commits since the last early sync
 * is synced, so the sparse commits of a daemon (a heartbeat every few seconds) cost no disk flush
 * each. The commits count too because SQLite reuses the WAL from its start after a checkpoint:
 * then the file no longer grows, though its frames are new.
 *
 * It promises nothing: SQLite still syncs as before, so what is durable when is unchanged; a
 * failed or useless early sync (the WAL gone, made anew) costs nothing but itself. An I/O error
 * it meets still reaches SQLite's own `fsync` on Linux 4.13 and later, which reports a writeback
 * error to every descriptor open on the file when it happened; older kernels told only the first
 * caller.
 *
 * @module
 */
import { statSync } from "node:fs";
import { open } from "node:fs/promises";

/** Options of {@link WalWriteback}. */
export interface WalWritebackOptions {
  /** Least time between the end of one early sync and the start of the next, ms; default 100. */
  intervalMs?: number;
  /**
   * The next early sync waits for the WAL file to grow by this many bytes since the last one
   * (default 1 MiB) — or for {@link WalWritebackOptions.minCommits} commits, whichever is first.
   */
  minGrowthBytes?: number;
  /** Commits since the last early sync that call for the next one, grown or not; default 32. */
  minCommits?: number;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** Syncs the file at `path` (default: open it, `fdatasync`, close; a missing file is fine). */
  sync?: (path: string) => Promise<void>;
  /** The size of the file at `path`, 0 when missing (default: `stat`). */
  size?: (path: string) => number;
}

/** Writes an SQLite WAL back to the disk in the background while commits come in. */
export class WalWriteback {
  readonly #path: string;
  readonly #intervalMs: number;
  readonly #minGrowthBytes: number;
  readonly #minCommits: number;
  readonly #now: () => number;
  readonly #sync: (path: string) => Promise<void>;
  readonly #size: (path: string) => number;
  #inFlight: Promise<void> | null = null;
  #last: number;
  /** The WAL's size when the last early sync started. */
  #syncedSize = 0;
  /** Commits since the last early sync started. */
  #commits = 0;

  /**
   * `walPath` is the WAL's file (the store file's path and `-wal`). The first early sync comes
   * one interval after this is made, once the WAL has grown or taken commits enough.
   */
  constructor(walPath: string, options: WalWritebackOptions = {}) {
    const {
      intervalMs = 100,
      minGrowthBytes = 1024 * 1024,
      minCommits = 32,
      now = Date.now,
      sync = datasyncFile,
      size = fileSize,
    } = options;
    if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be ≥ 0, not ${intervalMs}`);
    if (!(minGrowthBytes >= 0)) {
      throw new RangeError(`minGrowthBytes must be ≥ 0, not ${minGrowthBytes}`);
    }
    if (!(minCommits >= 1)) throw new RangeError(`minCommits must be ≥ 1, not ${minCommits}`);
    this.#path = walPath;
    this.#intervalMs = intervalMs;
    this.#minGrowthBytes = minGrowthBytes;
    this.#minCommits = minCommits;
    this.#now = now;
    this.#sync = sync;
    this.#size = size;
    this.#last = now();
  }

  /**
   * Called after each commit: starts an early sync when none runs, the interval is over and the
   * WAL grew or took commits enough. Never throws: the commit it follows has happened.
   */
  committed(): void {
    this.#commits++;
    if (this.#inFlight || this.#now() - this.#last < this.#intervalMs) return;
    let size;
    try {
      size = this.#size(this.#path);
    } catch {
      return;
    }
    // Smaller than at the last sync: the WAL was removed and made anew (a close elsewhere).
    if (size < this.#syncedSize) this.#syncedSize = 0;
    const grown = size - this.#syncedSize >= this.#minGrowthBytes;
    if (!grown && this.#commits < this.#minCommits) return;
    this.#syncedSize = size;
    this.#commits = 0;
    this.#inFlight = this.#sync(this.#path).catch(() => {
      // Only a hint to the kernel; see the module's comment for where real failures surface.
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

/** The size of the file at `path` in bytes; 0 when it cannot be read (missing). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * `fdatasync` of the file at `path`; nothing when it does not exist. It opens a descriptor of
 * its own, which is safe for the `-wal` file only because SQLite holds no POSIX lock on it:
 * closing any descriptor of a file drops the process's POSIX locks on that file, so this must
 * never be pointed at the database or its `-shm` file.
 */
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
