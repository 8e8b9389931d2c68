/**
 * The one abortable sleep and the capped retry delay: a delay of 2^31 ms or more must not
 * fire at once (setTimeout's behaviour in both runtimes), and an abort ends a sleep at once.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JobOutcome } from "../../src/run/job_protocol.ts";
import { runWithRetries } from "../../src/run/retry.ts";
import { MAX_TIMER_MS, sleep, timerDelay } from "../../src/run/sleep.ts";

/** Lets timers that are (wrongly) due at once fire: a few real turns of the event loop. */
function turns(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

const failed = (attempt: number): JobOutcome => ({
  ok: false,
  result: null,
  data: {},
  log: "",
  error: { message: `attempt ${attempt} failed` },
  attempt,
  millis: 0,
});

describe("sleep", () => {
  it("clamps timer delays to what setTimeout keeps", () => {
    assert.equal(timerDelay(-5), 0);
    assert.equal(timerDelay(Number.NaN), 0);
    assert.equal(timerDelay(10), 10);
    assert.equal(timerDelay(2 ** 31), MAX_TIMER_MS);
    assert.equal(timerDelay(Infinity), MAX_TIMER_MS);
  });

  it("resolves true when the time is up", async () => {
    assert.equal(await sleep(1), true);
    assert.equal(await sleep(0), true);
  });

  it("resolves false at once for an aborted signal, and when the signal fires", async () => {
    assert.equal(await sleep(10, { signal: AbortSignal.abort() }), false);
    const controller = new AbortController();
    const slept = sleep(MAX_TIMER_MS, { signal: controller.signal });
    controller.abort();
    assert.equal(await slept, false);
  });

  it("does not end early for a delay of 2^31 ms or more", async () => {
    for (const ms of [2 ** 31, 2 ** 40, Infinity]) {
      const controller = new AbortController();
      let ended: boolean | undefined;
      const slept = sleep(ms, { signal: controller.signal }).then((v) => ended = v);
      await turns();
      assert.equal(ended, undefined, `${ms} ms ended early`);
      controller.abort();
      await slept;
      assert.equal(ended, false);
    }
  });

  it("refuses a delay that is not a number", () => {
    assert.throws(() => sleep(Number.NaN), RangeError);
  });
});

describe("retry delay", () => {
  it("doubles, is capped at MAX_TIMER_MS, and a huge delay does not retry at once", async () => {
    const controller = new AbortController();
    const attempts: number[] = [];
    const delays: number[] = [];
    const done = runWithRetries(
      (n) => {
        attempts.push(n);
        return Promise.resolve(failed(n));
      },
      {
        retries: 3,
        retryDelayMs: 2 ** 31,
        signal: controller.signal,
        onRetry: (_o, d) => void delays.push(d),
      },
    );
    await turns();
    assert.deepEqual(attempts, [1], "the retry waited instead of starting at once");
    assert.deepEqual(delays, [MAX_TIMER_MS]);
    controller.abort();
    assert.equal((await done).attempt, 1);
  });

  it("reports the doubled delays below the cap", async () => {
    const delays: number[] = [];
    const outcome = await runWithRetries((n) => Promise.resolve(failed(n)), {
      retries: 3,
      retryDelayMs: 1,
      onRetry: (_o, d) => void delays.push(d),
    });
    assert.deepEqual(delays, [1, 2, 4]);
    assert.equal(outcome.attempt, 4);
  });
});
