/**
 * A fleet worker as `ays workers --json` and the dashboard's
 * `GET /ui/api/repos/{name}/workers` show it (docs/fleet.md, "`ays workers`").
 *
 * @module
 */
import type { ListedWorker } from "./registry.ts";

/** One worker of the list: its registration, times as ISO 8601, and whether it is live. */
export interface WorkerView {
  name: string;
  host: string;
  pid: number;
  labels: string[];
  concurrency: number;
  running: number;
  live: boolean;
  signed: boolean;
  startedAt: string;
  heartbeat: string;
}

/** The JSON of one listed worker. */
export function workerView(worker: ListedWorker): WorkerView {
  return {
    name: worker.name,
    host: worker.host,
    pid: worker.pid,
    labels: [...worker.labels],
    concurrency: worker.concurrency,
    running: worker.running,
    live: worker.live,
    signed: worker.signed,
    startedAt: new Date(worker.startedAt).toISOString(),
    heartbeat: new Date(worker.heartbeat).toISOString(),
  };
}
