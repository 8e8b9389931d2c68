/**
 * A job sent to a busy worker behind its running job (docs/job_protocol.md, "A job sent behind
 * another"): the worker starts it only when the job ahead ended and only if it takes the claim
 * before the host takes the job back — one side wins, never both.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isClaim, newClaim, takeClaim, withdrawClaim } from "../../src/run/job_claim.ts";
import { parseHostMessage, type WorkerMessage } from "../../src/run/job_protocol.ts";
import { workerSpecifier } from "../../src/runtime.ts";
import { request, writeActions } from "./fixtures.ts";

describe("job claims", () => {
  it("lets the worker take a claim once, and the host not after it", () => {
    const claim = newClaim();
    assert.equal(isClaim(claim), true);
    assert.equal(takeClaim(claim), "start");
    assert.equal(takeClaim(claim), "skip", "a job starts once");
    assert.equal(withdrawClaim(claim), false, "the host learns the worker started it");
  });

  it("lets the host take a job back (again and again), and the worker not start it then", () => {
    const claim = newClaim();
    assert.equal(withdrawClaim(claim), true);
    assert.equal(withdrawClaim(claim), true, "taking back is idempotent");
    assert.equal(takeClaim(claim), "skip");
  });

  it("tells the worker to stop when the host takes a job back to end the worker", () => {
    const claim = newClaim();
    assert.equal(withdrawClaim(claim, { stop: true }), true);
    assert.equal(takeClaim(claim), "stop");
    const started = newClaim();
    assert.equal(takeClaim(started), "start");
    assert.equal(withdrawClaim(started, { stop: true }), false, "too late: it started");
  });

  it("is checked in a run message", () => {
    const req = request(null, "act", "/tmp");
    const ok = parseHostMessage({ type: "run", id: 1, request: req, claim: newClaim() });
    assert.equal(ok.type === "run" && isClaim(ok.claim), true);
    assert.throws(
      () => parseHostMessage({ type: "run", id: 1, request: req, claim: new Int32Array(1) }),
      /run message: bad claim/,
    );
  });
});

// `hold` waits for a file to appear; `mark` adds a line to a file.
const ACTIONS = `
import { appendFileSync, existsSync } from "node:fs";
export async function act(job) {
  if (job.args.exitLater) {
    // Ends, and leaves a timer that calls process.exit, its throw swallowed.
    setTimeout(() => {
      try { process.exit(0); } catch {}
      appendFileSync(job.args.exitLater, "exited\\n");
    }, 1);
    return "done";
  }
  if (job.args.hold) {
    while (!existsSync(job.args.hold)) await new Promise((r) => setTimeout(r, 5));
  }
  if (job.args.mark) appendFileSync(job.args.mark, "ran\\n");
  return "done";
}
`;

describe("a job worker and the jobs sent behind its running job", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  before(async () => {
    dir = await writeActions(ACTIONS);
  });
  after(() => dir.remove());

  /** A real job worker and the messages it sent, in order; `next(n)` waits for n of them. */
  function jobWorker() {
    const worker = new Worker(workerSpecifier("job_worker"), { type: "module" });
    const messages: WorkerMessage[] = [];
    const waiting: { count: number; resolve: () => void }[] = [];
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      if (event.data.type !== "result" && event.data.type !== "error") return;
      messages.push(event.data);
      for (const w of waiting.filter((w) => messages.length >= w.count)) w.resolve();
    };
    const ends = (count: number) =>
      new Promise<void>((resolve) => {
        if (messages.length >= count) resolve();
        else waiting.push({ count, resolve });
      });
    return { worker, messages, ends };
  }

  const job = (args: Record<string, unknown>) => request(dir.actions, "act", dir.path, { args });

  it("runs a job sent behind once the one ahead ended, its end after the one ahead's", async () => {
    const { worker, messages, ends } = jobWorker();
    try {
      const release = join(dir.path, "release-1");
      const mark = join(dir.path, "behind-1");
      const claim = newClaim();
      worker.postMessage({ type: "run", id: 1, request: job({ hold: release }) });
      worker.postMessage({ type: "run", id: 2, request: job({ mark }), claim });
      await writeFile(release, "");
      await ends(2);
      assert.deepEqual(messages.map((m) => [m.type, m.id]), [["result", 1], ["result", 2]]);
      assert.equal(withdrawClaim(claim), false, "the worker took it");
      assert.equal(existsSync(mark), true);
    } finally {
      worker.terminate();
    }
  });

  it("never starts a job the host took back before the one ahead ended", async () => {
    const { worker, messages, ends } = jobWorker();
    try {
      const release = join(dir.path, "release-2");
      const mark = join(dir.path, "behind-2");
      const claim = newClaim();
      worker.postMessage({ type: "run", id: 1, request: job({ hold: release }) });
      worker.postMessage({ type: "run", id: 2, request: job({ mark }), claim });
      assert.equal(withdrawClaim(claim), true);
      await writeFile(release, "");
      await ends(1);
      // A job sent after it (plain, as to an idle worker) runs: the worker went on.
      worker.postMessage({ type: "run", id: 3, request: job({}) });
      await ends(2);
      assert.deepEqual(messages.map((m) => [m.type, m.id]), [["result", 1], ["result", 3]]);
      assert.equal(existsSync(mark), false, "the job taken back never ran");
    } finally {
      worker.terminate();
    }
  });

  it("starts no job sent after one the host took back to end the worker", async () => {
    const { worker, messages, ends } = jobWorker();
    try {
      const release = join(dir.path, "release-3");
      const marks = [join(dir.path, "behind-3a"), join(dir.path, "behind-3b")];
      const claims = [newClaim(), newClaim()];
      worker.postMessage({ type: "run", id: 1, request: job({ hold: release }) });
      worker.postMessage({
        type: "run",
        id: 2,
        request: job({ mark: marks[0] }),
        claim: claims[0],
      });
      worker.postMessage({
        type: "run",
        id: 3,
        request: job({ mark: marks[1] }),
        claim: claims[1],
      });
      // The host ends the worker: it takes job 2 back, and job 3 only after the job ahead
      // ended — the worker must not have started 3 in between.
      assert.equal(withdrawClaim(claims[0], { stop: true }), true);
      await writeFile(release, "");
      await ends(1);
      worker.postMessage({ type: "ping", id: 9 });
      await new Promise<void>((resolve) => {
        worker.addEventListener("message", (e: MessageEvent<WorkerMessage>) => {
          if (e.data.type === "pong") resolve();
        });
      });
      assert.equal(withdrawClaim(claims[1], { stop: true }), true, "job 3 was not started");
      assert.deepEqual(messages.map((m) => [m.type, m.id]), [["result", 1]]);
      assert.equal(marks.some((m) => existsSync(m)), false);
    } finally {
      worker.terminate();
    }
  });

  it("goes on taking jobs sent behind after an ended job's timer called process.exit", async () => {
    const { worker, messages, ends } = jobWorker();
    try {
      const exited = join(dir.path, "exited-4");
      worker.postMessage({ type: "run", id: 1, request: job({ exitLater: exited }) });
      await ends(1);
      // The timer fires while nothing runs; the host ignores that exit, as the worker goes on.
      for (let i = 0; i < 2000 && !existsSync(exited); i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(existsSync(exited), true, "the timer called process.exit");
      const release = join(dir.path, "release-4");
      const mark = join(dir.path, "behind-4");
      const claim = newClaim();
      worker.postMessage({ type: "run", id: 2, request: job({ hold: release }) });
      worker.postMessage({ type: "run", id: 3, request: job({ mark }), claim });
      await writeFile(release, "");
      await ends(3);
      assert.deepEqual(messages.map((m) => [m.type, m.id]), [
        ["result", 1],
        ["result", 2],
        ["result", 3],
      ]);
      assert.equal(existsSync(mark), true);
    } finally {
      worker.terminate();
    }
  });
});
