/**
 * Starts one job worker, checks that it answers, and runs a real job in it (an actions file
 * written to a temporary folder), to prove in the packaging at hand (source, bundle, binary)
 * that worker entry points start and can import and run user actions (`ays doctor`).
 *
 * @module
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerSpecifier } from "../runtime.ts";
import { WorkerPool } from "./pool.ts";

/** What a worker probe found. */
export interface WorkerProbe {
  /** The specifier the worker was started from. */
  specifier: string;
  /** The runtime the worker reported. */
  runtime: string;
  /** Milliseconds from `new Worker()` to the answer. */
  millis: number;
  /**
   * Milliseconds to run a probe job (import an actions file, run an action) in a worker, from
   * handing it to the pool to its outcome.
   */
  jobMillis: number;
}

/** Options of {@link probeWorker}. */
export interface ProbeOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
  /** The clock the times are measured with, in milliseconds (default `performance.now`). */
  now?: () => number;
}

const PROBE_ACTIONS = `export function install(job) { return { ok: job.service.name }; }\n`;

/** Starts the job worker, pings it, runs a probe job, terminates. Rejects on any failure. */
export async function probeWorker(options: ProbeOptions = {}): Promise<WorkerProbe> {
  const { timeoutMs = 10_000, now = () => performance.now() } = options;
  if (!(timeoutMs > 0)) {
    throw new RangeError(`probeWorker: timeoutMs must be > 0, got ${timeoutMs}`);
  }
  const ping = await pingWorker(timeoutMs, now);
  const dir = await mkdtemp(join(tmpdir(), "ays-probe-"));
  const pool = new WorkerPool({ size: 1 });
  try {
    const actionsPath = join(dir, "actions.js");
    await writeFile(actionsPath, PROBE_ACTIONS);
    const jobStarted = now();
    const outcome = await pool.run({
      actionsPath,
      action: "install",
      args: {},
      runId: "probe",
      repo: { name: "probe", path: dir },
      service: {
        name: "probe",
        actor: "probe",
        role: "probe",
        key: "probe",
        data: {},
        parent: null,
        producers: {},
        consumers: [],
      },
    }, { timeoutMs });
    const jobMillis = now() - jobStarted;
    const result = outcome.result as { ok?: string } | null;
    if (!outcome.ok || result?.ok !== "probe") {
      throw new Error(`probe job failed: ${outcome.error?.message ?? JSON.stringify(result)}`);
    }
    return { ...ping, jobMillis };
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function pingWorker(
  timeoutMs: number,
  now: () => number,
): Promise<Omit<WorkerProbe, "jobMillis">> {
  const specifier = workerSpecifier("job_worker");
  const started = now();
  const worker = new Worker(specifier, { type: "module" });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`worker ${specifier} did not answer`)),
      timeoutMs,
    );
    const finish = (error: Error | null, probe?: Omit<WorkerProbe, "jobMillis">) => {
      clearTimeout(timer);
      worker.terminate();
      if (error) reject(error);
      else resolve(probe!);
    };
    worker.onmessage = (event: MessageEvent) => {
      finish(null, {
        specifier,
        runtime: String(event.data?.runtime),
        millis: now() - started,
      });
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      finish(new Error(`worker ${specifier} failed: ${event.message}`));
    };
    worker.postMessage({ type: "ping", id: 1 });
  });
}
