import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TickBatch } from "../../src/fleet/tick_batch.ts";

describe("a batch of one turn of the event loop", () => {
  it("sends what was added in one turn with one call, what comes later with the next", async () => {
    const sent: number[][] = [];
    const batch = new TickBatch<number>((items) => {
      sent.push(items);
      return Promise.resolve();
    });
    await Promise.all([batch.add(1), batch.add(2), Promise.resolve().then(() => batch.add(3))]);
    await batch.add(4);
    assert.deepEqual(sent, [[1, 2, 3], [4]]);
  });

  it("splits a turn's items at max; each add fails with its own batch's error", async () => {
    const sent: string[][] = [];
    const batch = new TickBatch<string>((items) => {
      sent.push(items);
      return items.includes("bad")
        ? Promise.reject(new Error("the store is gone"))
        : Promise.resolve();
    }, { max: 2 });
    const results = await Promise.allSettled(["a", "b", "bad", "c", "d"].map((x) => batch.add(x)));
    assert.deepEqual(sent, [["a", "b"], ["bad", "c"], ["d"]]);
    assert.deepEqual(results.map((r) => r.status), [
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    assert.equal((results[2] as PromiseRejectedResult).reason.message, "the store is gone");
  });

  it("a send that throws at once rejects its adds", async () => {
    const batch = new TickBatch<number>(() => {
      throw new Error("no connection");
    });
    await assert.rejects(batch.add(1), /no connection/);
  });

  it("refuses bad options", () => {
    assert.throws(() => new TickBatch<number>(() => Promise.resolve(), { max: 0 }), RangeError);
    assert.throws(() => new TickBatch<number>(null as never), TypeError);
  });
});
