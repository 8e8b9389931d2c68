/**
 * Secret values never leave the pool: the job log (from job.log and job.exec output), the error
 * and the result are masked before anything stores or prints them (SPEC §3.1).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WorkerPool } from "../../src/run/pool.ts";
import { request, serviceData, writeActions } from "./fixtures.ts";

const ACTIONS = `
export async function leak(job) {
  const pw = job.service.data.password;
  job.log("the password is " + pw);
  await job.exec("echo from a command: " + pw);
  return { echoed: pw, other: "kept" };
}
export function leakError(job) {
  throw new Error("failed with " + job.service.data.password);
}
`;

describe("WorkerPool masks secret values", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let pool: WorkerPool;
  before(async () => {
    dir = await writeActions(ACTIONS);
    pool = new WorkerPool({ size: 1 });
  });
  after(async () => {
    await pool.close();
    await dir.remove();
  });

  const job = (action: string) => ({
    ...request(dir.actions, action, dir.path, {
      service: serviceData("db1", { password: "hunter2-secret" }),
    }),
    secrets: ["hunter2-secret"],
  });

  it("in the log, from job.log and from exec output, and in the result", async () => {
    const streamed: string[] = [];
    const outcome = await pool.run(job("leak"), { onLog: (text) => void streamed.push(text) });
    assert.equal(outcome.ok, true, String(outcome.error?.message));
    assert.match(outcome.log, /the password is \*\*\*/);
    assert.match(outcome.log, /from a command: \*\*\*/);
    assert.ok(!outcome.log.includes("hunter2"), outcome.log);
    assert.ok(!streamed.join("").includes("hunter2"));
    assert.deepEqual(outcome.result, { echoed: "***", other: "kept" });
    // The data itself is the service's own: it is saved (encrypted at rest is not ays' job).
    assert.equal(outcome.data.password, "hunter2-secret");
  });

  it("in the error message and stack", async () => {
    const outcome = await pool.run(job("leakError"));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "failed with ***");
    assert.ok(!(outcome.error?.stack ?? "").includes("hunter2"));
  });

  it("leaves a job without secrets alone", async () => {
    const outcome = await pool.run({ ...job("leak"), secrets: undefined });
    assert.match(outcome.log, /hunter2-secret/);
  });
});
