/**
 * What the pool sends a worker in one turn of its event loop goes in one message (a `batch`,
 * docs/job_protocol.md, "Several messages in one"): short jobs given at once wake their worker
 * once, not once each — and the worker runs each of them, in order, as if each came alone.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { PACK_DEPTH, WorkerPool } from "../../src/run/pool.ts";
import { request, writeActions } from "./fixtures.ts";

// Each worker counts the messages it was sent; the action returns that count and who it is.
const ACTIONS = `
const worker = Math.random().toString(36).slice(2);
// The order this worker ran its jobs in (each job returns the order so far).
const ran = [];
export async function act(job) {
  ran.push(job.args.n ?? 0);
  return { worker, messages: globalThis.__hostMessages(), n: job.args.n ?? 0, ran: [...ran] };
}
`;

const NO_GUARD = 2 ** 40;

describe("WorkerPool: one message per worker and turn", () => {
  let dir: Awaited<ReturnType<typeof writeActions>>;
  let specifier: string;

  before(async () => {
    dir = await writeActions(ACTIONS);
    const real = new URL("../../workers/job_worker.ts", import.meta.url).href;
    const path = join(dir.path, "counting_worker.ts");
    // The real worker, imported first (its handler is set before any message comes), and a
    // listener beside it that counts the messages.
    await writeFile(
      path,
      `import ${JSON.stringify(real)};\nlet count = 0;\n` +
        `self.addEventListener("message", () => { count++; });\n` +
        `(globalThis as Record<string, unknown>).__hostMessages = () => count;\n`,
    );
    specifier = pathToFileURL(path).href;
  });
  after(() => dir.remove());

  type Result = { worker: string; messages: number; n: number; ran: number[] };
  const job = (n = 0) => request(dir.actions, "act", dir.path, { args: { n } });

  it("sends the short jobs given at once to one worker in one message, run in order", async () => {
    const pool = new WorkerPool({ size: PACK_DEPTH, specifier, guardMemory: NO_GUARD });
    try {
      await pool.warm();
      // Until `act` is known to be short (its first jobs load the module).
      for (let round = 0; round < 10; round++) {
        const outcomes = await Promise.all(
          Array.from({ length: PACK_DEPTH }, () => pool.run(job())),
        );
        for (const o of outcomes) assert.equal(o.ok, true, String(o.error?.message));
      }
      const outcomes = await Promise.all(
        Array.from({ length: PACK_DEPTH }, (_, i) => pool.run(job(i))),
      );
      const results = outcomes.map((o) => o.result as Result);
      assert.equal(new Set(results.map((r) => r.worker)).size, 1, "all on one worker");
      // One message brought them all: each job saw the same count.
      assert.equal(new Set(results.map((r) => r.messages)).size, 1, JSON.stringify(results));
      assert.deepEqual(results.map((r) => r.n), [...Array(PACK_DEPTH).keys()]);
      // The worker ran them in the order they were given: the last job saw them all before it.
      const last = results[PACK_DEPTH - 1].ran;
      assert.deepEqual(last.slice(-PACK_DEPTH), [...Array(PACK_DEPTH).keys()]);
    } finally {
      await pool.close();
    }
  });
});
