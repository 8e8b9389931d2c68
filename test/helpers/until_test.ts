import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { until } from "./until.ts";

describe("until", () => {
  it("resolves with the first truthy value, checking again in between", async () => {
    let calls = 0;
    const value = await until(() => ++calls === 3 && "ready", { intervalMs: 1 });
    assert.equal(value, "ready");
    assert.equal(calls, 3);
  });

  it("takes async checks", async () => {
    let calls = 0;
    assert.equal(await until(() => Promise.resolve(++calls >= 2 ? 42 : 0), { intervalMs: 1 }), 42);
  });

  it("rejects naming what it waited for once the bound has passed", async () => {
    // The clock moves 2 ms a check, whatever the machine's load: the bound passes at the third.
    let calls = 0;
    let clock = 0;
    const check = () => {
      calls++;
      clock += 2;
      return false;
    };
    await assert.rejects(
      until(check, { what: "the moon", timeoutMs: 5, intervalMs: 1, now: () => clock }),
      /^Error: timed out waiting for the moon$/,
    );
    assert.ok(calls >= 2, "it checked more than once");
  });

  it("passes on the error of a check", async () => {
    await assert.rejects(
      until(() => {
        throw new Error("broken");
      }),
      /broken/,
    );
  });

  it("refuses bad bounds eagerly", async () => {
    await assert.rejects(until(() => true, { timeoutMs: 0 }), RangeError);
    await assert.rejects(until(() => true, { intervalMs: -1 }), RangeError);
  });
});
