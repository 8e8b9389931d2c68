/**
 * The store driver contract (`docs/store.md`, "The driver interface"): the one contract between
 * the core and a backend, in the spirit of unjs/unstorage — the core never knows which backend it
 * talks to.
 *
 * A driver is bound to ONE repository namespace when it is opened; keys are plain strings
 * (`service:<key>`, `run:<id>` …, chosen by the records layer) and values are bytes. Besides
 * the key space a driver offers a lock, a reliable queue, capped append-only logs, the
 * repository's event log and the recorded layout version, because each backend has a much better way of doing those than a
 * generic key value emulation would.
 *
 * The contract is split into capability interfaces — {@link KeyValueStore},
 * {@link LockStore}, {@link QueueStore}, {@link LogStore}, {@link EventStore},
 * {@link LayoutStore} (each with
 * {@link StoreInfo}) — so that a consumer names the part it uses: the repository lock needs a
 * {@link LockStore}, the run queue a {@link QueueStore}. {@link StoreDriver} is all of them;
 * every backend implements it whole.
 *
 * @module
 */

/** Which backend implements a driver. */
export type StoreKind = "sqlite" | "redis";

/** One key with its value, as returned by bulk reads. */
export interface KeyValue {
  key: string;
  value: Uint8Array;
}

/** One write of an atomic {@link KeyValueStore.batch}. */
export type BatchOp =
  | { op: "set"; key: string; value: Uint8Array }
  | { op: "delete"; key: string };

/**
 * A precondition of a batch: the batch applies only when `key` currently holds exactly
 * `value` (`null`: the key must not exist). Used for compare-and-set updates.
 */
export interface BatchGuard {
  key: string;
  value: Uint8Array | null;
}

/** Options of {@link KeyValueStore.batch}. */
export interface BatchOptions {
  /** Preconditions checked inside the same atomic step; any mismatch applies nothing. */
  guards?: BatchGuard[];
  /**
   * An id that makes the batch idempotent: a second batch with the same id (for instance a
   * re-send after a reconnect) is not applied again and returns the first result. Drivers
   * generate one when it is left out; recorded ids are kept for at least an hour.
   */
  id?: string;
}

/** Who holds a lock or works on a queue item: a process on a host, plus a unique id. */
export interface Holder {
  pid: number;
  host: string;
  /** Unique per holder (e.g. a run id or a random UUID); compared to tell holders apart. */
  id: string;
}

/** A lock as it is recorded. Times are epoch milliseconds of the store's clock. */
export interface LockInfo {
  name: string;
  holder: Holder;
  acquiredAt: number;
  /** When the lock lapses unless it is heart-beaten before. */
  expiresAt: number;
}

/** Result of {@link LockStore.acquireLock}. */
export type LockAttempt =
  | {
    acquired: true;
    lock: LockInfo;
    /** Set when a lock of a dead holder (or an expired one) was taken over. */
    tookOverFrom?: Holder;
  }
  | {
    acquired: false;
    /** The current holder, so the caller can name it. */
    lock: LockInfo;
  };

/** An item handed out by {@link QueueStore.pop}. */
export interface QueueItem {
  /** Acknowledge with this id. */
  id: string;
  value: Uint8Array;
  /** How many times the item was handed out, this time included (> 1: a redelivery). */
  deliveries: number;
  /** When the lease lapses unless {@link QueueStore.heartbeatQueue} renews it. */
  leaseUntil: number;
}

/** Counts of a queue. */
export interface QueueStats {
  /** Waiting to be popped. */
  pending: number;
  /** Popped and not yet acknowledged. */
  inFlight: number;
}

/** Options of {@link LogStore.appendLog}. */
export interface AppendLogOptions {
  /** Keep at most this many lines (the oldest go first). Default {@link DEFAULT_LOG_CAP}. */
  maxLines?: number;
}

/** Lines kept per log when {@link AppendLogOptions.maxLines} is not given. */
export const DEFAULT_LOG_CAP = 10_000;

/**
 * What every capability tells about the store it talks to. Every method of a capability is
 * asynchronous; a backend that cannot be reached rejects with `UnavailableError` (exit 4) and
 * never prints a password.
 */
export interface StoreInfo {
  /** The backend. */
  readonly kind: StoreKind;
  /** Where the store is, with any password masked — safe to print. */
  readonly location: string;
  /** The repository namespace this driver is bound to. */
  readonly namespace: string;
}

/**
 * The key space: bytes by string key, bulk reads, and atomic batches (all or nothing, also
 * when the process or the connection dies in the middle).
 */
export interface KeyValueStore extends StoreInfo {
  /** The value of `key`, or null. One round trip. */
  get(key: string): Promise<Uint8Array | null>;
  /** Sets `key` to `value`. */
  set(key: string, value: Uint8Array): Promise<void>;
  /** Deletes `key`; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** The values of `keys`, in the same order, null for missing ones. One round trip. */
  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]>;
  /** The keys starting with `prefix`, sorted by their UTF-8 bytes. */
  listKeys(prefix: string): Promise<string[]>;
  /** Every key starting with `prefix` with its value, sorted by key. One query. */
  getByPrefix(prefix: string): Promise<KeyValue[]>;
  /**
   * Applies `ops` in order as one atomic step: all of them or none, even when the process
   * or connection dies in the middle. Returns false (and applies nothing) when a guard does
   * not hold.
   */
  batch(ops: Iterable<BatchOp>, options?: BatchOptions): Promise<boolean>;
}

/**
 * Named locks: held by one holder at a time; a lock lapses `ttlMs` after the last acquire or
 * heartbeat; a holder on this host whose process is gone is taken over at once.
 */
export interface LockStore extends StoreInfo {
  /**
   * Takes the lock `name` for `holder` for `ttlMs`. Succeeds when it is free, lapsed, held by
   * the same holder id (re-entrant, which also makes a re-sent acquire harmless), or held by
   * a process on this host that is no longer alive. Otherwise reports the current holder.
   */
  acquireLock(name: string, holder: Holder, ttlMs: number): Promise<LockAttempt>;
  /** Extends the lock by `ttlMs` from now; false when `holderId` no longer holds it. */
  heartbeatLock(name: string, holderId: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock; false when `holderId` did not hold it. */
  releaseLock(name: string, holderId: string): Promise<boolean>;
  /** The current holder of `name`, or null when it is free or lapsed. */
  readLock(name: string): Promise<LockInfo | null>;
}

/**
 * Reliable queues: an item is delivered at least once — an item popped by a consumer that
 * never acknowledges (its lease lapsed, or it is on this host and its process is gone) is
 * delivered again, before newer items.
 */
export interface QueueStore extends StoreInfo {
  /** Appends `value` to `queue`; returns the new item's id. */
  push(queue: string, value: Uint8Array): Promise<string>;
  /**
   * Hands the oldest waiting item to `consumer` under a lease of `leaseMs`, or null when the
   * queue is empty. Items whose consumer died (lease lapsed, or a dead process on this host)
   * go back to the head of the queue first.
   */
  pop(queue: string, consumer: Holder, leaseMs: number): Promise<QueueItem | null>;
  /** Removes a delivered item for good; false when `consumerId` no longer holds its lease. */
  ack(queue: string, itemId: string, consumerId: string): Promise<boolean>;
  /**
   * Gives a delivered item back at once (head of the queue, delivery count kept), e.g. when
   * a consumer stops before starting it; false when `consumerId` no longer holds it.
   */
  release(queue: string, itemId: string, consumerId: string): Promise<boolean>;
  /** Renews the leases of every item `consumerId` holds; returns how many. */
  heartbeatQueue(queue: string, consumerId: string, leaseMs: number): Promise<number>;
  /** How many items wait and how many are in flight. */
  queueStats(queue: string): Promise<QueueStats>;
}

/** Capped append-only logs of text lines (job logs). */
export interface LogStore extends StoreInfo {
  /**
   * Appends one line, or several in one step, to the log `key`, dropping the oldest beyond
   * the cap.
   */
  appendLog(
    key: string,
    lines: string | readonly string[],
    options?: AppendLogOptions,
  ): Promise<void>;
  /** The lines of log `key`, oldest first (empty when there is none). */
  readLog(key: string): Promise<string[]>;
  /** Removes log `key`. */
  deleteLog(key: string): Promise<void>;
}

/** One event of the repository's event log, as stored: its id and its text (JSON). */
export interface StoredEvent {
  /** Assigned by the store: 1 for the first event, then one more per event, never reused. */
  id: number;
  data: string;
}

/** Options of {@link EventStore.appendEvents}. */
export interface AppendEventsOptions {
  /** Keep at most this many events (the oldest go first). Default {@link DEFAULT_EVENT_CAP}. */
  maxEvents?: number;
}

/** Options of {@link EventStore.readEvents}. */
export interface ReadEventsOptions {
  /** At most this many events; default 1000. */
  limit?: number;
}

/** Events kept per repository when {@link AppendEventsOptions.maxEvents} is not given. */
export const DEFAULT_EVENT_CAP = 100_000;

/**
 * The repository's event log (docs/events.md): a bounded, append-only sequence whose ids the
 * store assigns — consecutive, increasing by one per event, and never reused, also after the
 * oldest events were pruned or capped away.
 */
export interface EventStore extends StoreInfo {
  /**
   * Appends events in one atomic step (a re-send after a reconnect is not applied twice) and
   * returns the id of the first; the others follow it one by one. Drops the oldest beyond the
   * cap. Appending nothing returns the next id without storing anything.
   */
  appendEvents(data: readonly string[], options?: AppendEventsOptions): Promise<number>;
  /** The events whose id is greater than `after`, oldest first. */
  readEvents(after: number, options?: ReadEventsOptions): Promise<StoredEvent[]>;
  /** The id of the last event ever appended (0 for none), also when it was pruned since. */
  lastEventId(): Promise<number>;
  /** Deletes the events whose id is less than `before`; returns how many went. */
  pruneEvents(before: number): Promise<number>;
}

/** The recorded layout version of the records (what migrations key on). */
export interface LayoutStore extends StoreInfo {
  /** The recorded layout version of the records, or null for a store never written. */
  getLayoutVersion(): Promise<number | null>;
  /** Records the layout version. */
  setLayoutVersion(version: number): Promise<void>;
}

/**
 * A whole driver: every capability plus closing. Both backends implement it, checked by
 * `test/store/conformance.ts`; a consumer that needs only a part takes that part's type.
 */
export interface StoreDriver
  extends KeyValueStore, LockStore, QueueStore, LogStore, EventStore, LayoutStore {
  /** Releases the connection or file; the driver must not be used afterwards. */
  close(): Promise<void>;
}
