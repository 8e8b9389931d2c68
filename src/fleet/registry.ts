/**
 * The workers of the fleet (docs/fleet.md, "`ays workers`"): each registers itself in one
 * Redis hash and refreshes its entry with a heartbeat; an entry whose heartbeat is older than
 * {@link WORKER_TTL_MS} belongs to a worker that is gone (killed, cut off) and is shown so.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { DEFAULT_LABEL, WORKERS_KEY } from "./names.ts";

/** How often a worker refreshes its entry. */
export const HEARTBEAT_MS = 5_000;
/** A worker whose last heartbeat is older than this is not live. */
export const WORKER_TTL_MS = 15_000;
/** Entries of workers gone for longer than this are removed when the fleet is listed. */
export const FORGET_AFTER_MS = 24 * 3600 * 1000;

/** A worker as it registers itself. */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  /** Its labels, `default` included. */
  labels: string[];
  concurrency: number;
  /** Jobs it runs now. */
  running: number;
  /** Epoch milliseconds of its start and its last heartbeat. */
  startedAt: number;
  heartbeat: number;
  /** Unique per process: tells a worker from another one that took the same name. */
  instance: string;
  /** Whether it verifies signatures (it has a fleet key). */
  signed: boolean;
}

/** A listed worker: its entry and whether its heartbeat is fresh. */
export interface ListedWorker extends WorkerInfo {
  live: boolean;
}

/** Writes (or refreshes) a worker's entry. */
export async function putWorker(redis: Redis, info: WorkerInfo): Promise<void> {
  await redis.hset(WORKERS_KEY, info.name, JSON.stringify(info));
}

/** Removes a worker's entry, only if it is still this instance's. */
export async function removeWorker(redis: Redis, info: WorkerInfo): Promise<void> {
  const current = await readWorker(redis, info.name);
  if (current?.instance === info.instance) await redis.hdel(WORKERS_KEY, info.name);
}

/** One worker's entry, or null. */
export async function readWorker(redis: Redis, name: string): Promise<WorkerInfo | null> {
  const text = await redis.hget(WORKERS_KEY, name);
  return text === null ? null : parseInfo(text);
}

function parseInfo(text: string): WorkerInfo | null {
  try {
    const info = JSON.parse(text) as WorkerInfo;
    return typeof info?.name === "string" && Array.isArray(info.labels) ? info : null;
  } catch {
    return null;
  }
}

/** Options of {@link listWorkers}. */
export interface ListWorkersOptions {
  /** Clock (default `Date.now`); Redis' clock is not used so tests can inject one. */
  now?: number;
}

/**
 * Every registered worker by name, `live` when its heartbeat is fresh. Entries of workers gone
 * for a day are removed.
 */
export async function listWorkers(
  redis: Redis,
  options: ListWorkersOptions = {},
): Promise<ListedWorker[]> {
  const { now = Date.now() } = options;
  const all = await redis.hgetall(WORKERS_KEY);
  const out: ListedWorker[] = [];
  const forget: string[] = [];
  for (const [name, text] of Object.entries(all)) {
    const info = parseInfo(text);
    if (!info || now - info.heartbeat > FORGET_AFTER_MS) {
      forget.push(name);
      continue;
    }
    out.push({ ...info, live: now - info.heartbeat <= WORKER_TTL_MS });
  }
  if (forget.length > 0) await redis.hdel(WORKERS_KEY, ...forget);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether a live worker serves `label` (every worker serves `default`). */
export function servesLabel(workers: readonly ListedWorker[], label: string): boolean {
  return workers.some((w) => w.live && (label === DEFAULT_LABEL || w.labels.includes(label)));
}
