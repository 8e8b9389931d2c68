/**
 * The run records of a repository's store: runs, their jobs (each a record of its own, so a
 * state change is one small write) and the jobs' logs. `RepoStore` offers these through its
 * own methods; the keys come from `record_keys.ts` (docs/store.md).
 *
 * @module
 */
import type { JobRecord, RunRecord } from "../model/mod.ts";
import type { BatchOp, StoreDriver } from "./driver.ts";
import {
  JOB_PREFIX,
  jobKey,
  jobLogName,
  jobPrefix,
  OPEN_RUN_PREFIX,
  openRunKey,
  RUN_PREFIX,
  runKey,
} from "./record_keys.ts";
import type { RecordCodec } from "./record_codec.ts";
import type { WriteGroup } from "./write_group.ts";

/** Whether a run in `state` may still change: `new` or `running` (in the open-runs index). */
export function isOpenRun(state: RunRecord["state"]): boolean {
  return state === "new" || state === "running";
}

/** The write of a run record with its open-runs index entry (set while open, else deleted). */
function runOps(run: RunRecord, value: Uint8Array): BatchOp[] {
  return [
    { op: "set", key: runKey(run.id), value },
    isOpenRun(run.state)
      ? { op: "set", key: openRunKey(run.id), value: EMPTY }
      : { op: "delete", key: openRunKey(run.id) },
  ];
}

const EMPTY = new Uint8Array(0);

/**
 * Layout 2 → 3: the open-runs index (docs/store.md, "The open-runs index") from the run
 * records, stale entries removed, in one batch. A run record that cannot be decoded gets an
 * entry: it may be one a dead run left open, and the run that reads it reports it.
 */
export async function buildOpenRunIndex(
  driver: StoreDriver,
  context: { records: RecordCodec },
): Promise<void> {
  const wanted = new Set<string>();
  for (const row of await driver.getByPrefix(RUN_PREFIX)) {
    let run: RunRecord;
    try {
      run = context.records.decode("run", row.value) as RunRecord;
    } catch {
      wanted.add(openRunKey(row.key.slice(RUN_PREFIX.length)));
      continue;
    }
    if (isOpenRun(run.state)) wanted.add(openRunKey(run.id));
  }
  const ops: BatchOp[] = [];
  for (const key of await driver.listKeys(OPEN_RUN_PREFIX)) {
    if (!wanted.delete(key)) ops.push({ op: "delete", key });
  }
  for (const key of wanted) ops.push({ op: "set", key, value: EMPTY });
  if (ops.length > 0) await driver.batch(ops);
}

/** Options of {@link RunRecords}. */
export interface RunRecordsOptions {
  /** How records become bytes. */
  records: RecordCodec;
  /** Called before every write (records the layout version on the first one). */
  beforeWrite: () => Promise<void>;
  /** Where single job writes go to be committed with the others of the same moment. */
  group?: WriteGroup;
}

/** Runs, jobs and job logs over a driver. */
export class RunRecords {
  readonly #driver: StoreDriver;
  readonly #records: RecordCodec;
  readonly #beforeWrite: () => Promise<void>;
  readonly #group: WriteGroup | undefined;

  constructor(driver: StoreDriver, options: RunRecordsOptions) {
    this.#driver = driver;
    this.#records = options.records;
    this.#beforeWrite = options.beforeWrite;
    this.#group = options.group;
  }

  /**
   * Saves a run record (its jobs are records of their own) with its open-runs index entry, in
   * one atomic batch.
   */
  async saveRun(run: RunRecord): Promise<void> {
    await this.#beforeWrite();
    await this.#driver.batch(runOps(run, this.#records.encode("run", run)));
  }

  /** One run, or null. */
  async loadRun(id: string): Promise<RunRecord | null> {
    const bytes = await this.#driver.get(runKey(id));
    return bytes ? this.#records.decode("run", bytes) as RunRecord : null;
  }

  /**
   * The runs that are not final (`new`, `running`) from the open-runs index: one query for the
   * index and one for the records, however long the history. An entry whose record is gone
   * is skipped.
   */
  async openRuns(): Promise<RunRecord[]> {
    const ids = (await this.#driver.listKeys(OPEN_RUN_PREFIX)).map((key) =>
      key.slice(OPEN_RUN_PREFIX.length)
    );
    if (ids.length === 0) return [];
    const rows = await this.#driver.getMany(ids.map(runKey));
    return rows.flatMap((bytes) => bytes ? [this.#records.decode("run", bytes) as RunRecord] : [])
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  /** Every run, newest first (one bulk query). */
  async listRuns(): Promise<RunRecord[]> {
    const rows = await this.#driver.getByPrefix(RUN_PREFIX);
    return rows
      .map((row) => this.#records.decode("run", row.value) as RunRecord)
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  }

  /** The write that saves `job` (for a batch of several records). */
  jobOp(job: JobRecord): BatchOp {
    return { op: "set", key: jobKey(job.runId, job.id), value: this.#records.encode("job", job) };
  }

  /**
   * Saves one job record; with a write group, in the batch of the other writes of the same
   * moment (durable when this resolves either way).
   */
  async saveJob(job: JobRecord): Promise<void> {
    const key = jobKey(job.runId, job.id);
    const value = this.#records.encode("job", job);
    if (this.#group) {
      await this.#group.submit([{ op: "set", key, value }]);
      return;
    }
    await this.#beforeWrite();
    await this.#driver.set(key, value);
  }

  /** Saves several jobs atomically (e.g. a run's jobs when it is recorded). */
  async saveJobs(jobs: readonly JobRecord[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#beforeWrite();
    await this.#driver.batch(
      jobs.map((job) => ({
        op: "set" as const,
        key: jobKey(job.runId, job.id),
        value: this.#records.encode("job", job),
      })),
    );
  }

  /** The jobs of a run (one bulk query), in key order. */
  async loadJobs(runId: string): Promise<JobRecord[]> {
    const rows = await this.#driver.getByPrefix(jobPrefix(runId));
    return rows.map((row) => this.#records.decode("job", row.value) as JobRecord);
  }

  /** Every job of every run and recurring action (one bulk query), in key order. */
  async loadAllJobs(): Promise<JobRecord[]> {
    const rows = await this.#driver.getByPrefix(JOB_PREFIX);
    return rows.map((row) => this.#records.decode("job", row.value) as JobRecord);
  }

  /** One job, or null. */
  async loadJob(runId: string, jobId: string): Promise<JobRecord | null> {
    const bytes = await this.#driver.get(jobKey(runId, jobId));
    return bytes ? this.#records.decode("job", bytes) as JobRecord : null;
  }

  /** Appends a line, or several in one write, to a job's log (capped by the driver). */
  appendJobLog(jobId: string, lines: string | readonly string[]): Promise<void> {
    return this.#driver.appendLog(jobLogName(jobId), lines);
  }

  /** A job's log lines, oldest first. */
  readJobLog(jobId: string): Promise<string[]> {
    return this.#driver.readLog(jobLogName(jobId));
  }

  /** Replaces a job's log with `lines`: the old lines are deleted, then these appended. */
  async replaceJobLog(jobId: string, lines: readonly string[]): Promise<void> {
    await this.#driver.deleteLog(jobLogName(jobId));
    if (lines.length > 0) await this.#driver.appendLog(jobLogName(jobId), lines);
  }

  /** Deletes jobs (of any runs) with their logs: one batch for the records, then the logs. */
  async deleteJobs(jobs: readonly Pick<JobRecord, "id" | "runId">[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.#driver.batch(jobs.map((job) => ({ op: "delete", key: jobKey(job.runId, job.id) })));
    for (const job of jobs) await this.#driver.deleteLog(jobLogName(job.id));
  }

  /** Deletes runs with their jobs and job logs. */
  async deleteRuns(ids: readonly string[]): Promise<void> {
    const ops: BatchOp[] = [];
    const jobIds: string[] = [];
    for (const id of ids) {
      ops.push({ op: "delete", key: runKey(id) }, { op: "delete", key: openRunKey(id) });
      for (const key of await this.#driver.listKeys(jobPrefix(id))) {
        ops.push({ op: "delete", key });
        jobIds.push(key.slice(jobPrefix(id).length));
      }
    }
    if (ops.length === 0) return;
    await this.#driver.batch(ops);
    for (const jobId of jobIds) await this.#driver.deleteLog(jobLogName(jobId));
  }

  /** Keeps the `keep` newest runs and deletes the others; returns the deleted ids. */
  async pruneRuns(keep: number): Promise<string[]> {
    const runs = await this.listRuns();
    const old = runs.slice(Math.max(0, keep)).map((run) => run.id);
    await this.deleteRuns(old);
    return old;
  }
}
