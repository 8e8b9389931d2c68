/**
 * Run and job ids (docs/runs.md): a run id is sortable and short enough to type; the jobs of a
 * run are numbered in plan order, and a job id names its run.
 *
 * @module
 */

/**
 * A new run id: UTC time to the second plus a random suffix, e.g. `20261125-190512-a3f9`;
 * sortable, short enough to type, free of `:` and `.` (job ids are `<run id>.<n>`).
 */
export function newRunId(now: number = Date.now()): string {
  const iso = new Date(now).toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The id of the `n`th job (1-based) of a run: `<run id>.<n, six digits>`, in plan order. */
export function runJobId(runId: string, n: number): string {
  return `${runId}.${String(n).padStart(6, "0")}`;
}

/** The run id of a job id made by {@link runJobId}, or null for anything else. */
export function runIdOfJob(jobId: string | null): string | null {
  if (!jobId) return null;
  const i = jobId.lastIndexOf(".");
  return i > 0 && /^\d+$/.test(jobId.slice(i + 1)) ? jobId.slice(0, i) : null;
}
