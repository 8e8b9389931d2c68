/**
 * Starts one job worker and checks that it answers, to prove worker entry points are
 * reachable in the packaging at hand (`ays doctor`).
 *
 * @module
 */
import { workerSpecifier } from "../runtime.ts";

/** What a worker probe found. */
export interface WorkerProbe {
  /** The specifier the worker was started from. */
  specifier: string;
  /** The runtime the worker reported. */
  runtime: string;
  /** Milliseconds from `new Worker()` to the answer. */
  millis: number;
}

/** Options of {@link probeWorker}. */
export interface ProbeOptions {
  /** Give up after this many milliseconds (default 10 000). */
  timeoutMs?: number;
}

/** Starts the job worker, pings it and terminates it. Rejects when it does not answer. */
export function probeWorker(options: ProbeOptions = {}): Promise<WorkerProbe> {
  const specifier = workerSpecifier("job_worker");
  const started = performance.now();
  const worker = new Worker(specifier, { type: "module" });
  return new Promise<WorkerProbe>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`worker ${specifier} did not answer`)),
      options.timeoutMs ?? 10_000,
    );
    const finish = (error: Error | null, probe?: WorkerProbe) => {
      clearTimeout(timer);
      worker.terminate();
      if (error) reject(error);
      else resolve(probe!);
    };
    worker.onmessage = (event: MessageEvent) => {
      finish(null, {
        specifier,
        runtime: String(event.data?.runtime),
        millis: performance.now() - started,
      });
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      finish(new Error(`worker ${specifier} failed: ${event.message}`));
    };
    worker.postMessage({ type: "ping", id: 1 });
  });
}
