/**
 * The plan of a Redis batch (`src/store/redis_batch_plan.ts`, docs/store.md, "Redis: the cost of
 * a write"): the steps keep the operations' meaning, and only keys not known to exist are given
 * to the index.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { planBatch } from "../../src/store/redis_batch_plan.ts";

const text = (value: string) => new TextEncoder().encode(value);
const prefix = "ays:p:";

describe("planBatch", () => {
  it("plans a job's start: the guarded service first, the new job record indexed", () => {
    const plan = planBatch(
      [
        { op: "set", key: "service:s", value: text("s2") },
        { op: "set", key: "job:r:1", value: text("j1") },
        { op: "delete", key: "idx:due:s" },
      ],
      [{ key: "service:s", value: text("s1") }],
      { prefix },
    );
    assert.equal(plan.guardKinds, "v");
    assert.equal(plan.steps, "s2/1d1/0");
    assert.deepEqual(plan.keys, [
      "ays:p:service:s",
      "ays:p:service:s",
      "ays:p:job:r:1",
      "ays:p:idx:due:s",
    ]);
    assert.deepEqual(plan.args, [text("s1"), text("s2"), text("j1"), "job:r:1", "idx:due:s"]);
  });

  it("indexes every set of a batch guarded absent, or not guarded at all", () => {
    const plan = planBatch(
      [{ op: "set", key: "a", value: text("1") }, { op: "set", key: "b", value: text("2") }],
      [{ key: "a", value: null }],
      { prefix },
    );
    assert.equal(plan.guardKinds, "n");
    assert.equal(plan.steps, "s2/2");
    assert.deepEqual(plan.args, [text("1"), text("2"), "a", "b"]);
  });

  it("keeps the order of sets and deletes of one key in steps of their own", () => {
    const plan = planBatch(
      [
        { op: "set", key: "a", value: text("1") },
        { op: "delete", key: "a" },
        { op: "delete", key: "b" },
        { op: "set", key: "b", value: text("2") },
        { op: "delete", key: "c" },
        { op: "delete", key: "c" },
      ],
      [],
      { prefix },
    );
    // set a | delete a, b | set b | delete c (once): `set a, delete a` leaves no a, b is set.
    assert.equal(plan.steps, "s1/1d2/0s1/1d1/0");
    assert.deepEqual(plan.keys, ["ays:p:a", "ays:p:a", "ays:p:b", "ays:p:b", "ays:p:c"]);
    assert.deepEqual(plan.args, [text("1"), "a", "a", "b", text("2"), "b", "c"]);
  });

  it("indexes a guarded key again when the batch deleted it before setting it", () => {
    const plan = planBatch(
      [{ op: "delete", key: "k" }, { op: "set", key: "k", value: text("new") }],
      [{ key: "k", value: text("old") }],
      { prefix },
    );
    assert.equal(plan.steps, "d1/0s1/1");
    assert.deepEqual(plan.args, [text("old"), "k", text("new"), "k"]);
  });

  it("puts the keys known to exist before those to index, keeping each key's sets in order", () => {
    const plan = planBatch(
      [
        { op: "set", key: "new", value: text("n1") },
        { op: "set", key: "old", value: text("o1") },
        { op: "set", key: "new", value: text("n2") },
        { op: "set", key: "old", value: text("o2") },
      ],
      [{ key: "old", value: text("o0") }],
      { prefix },
    );
    assert.equal(plan.steps, "s4/2");
    assert.deepEqual(plan.keys, ["ays:p:old", "ays:p:old", "ays:p:old", "ays:p:new", "ays:p:new"]);
    assert.deepEqual(plan.args, [
      text("o0"),
      text("o1"),
      text("o2"),
      text("n1"),
      text("n2"),
      "new",
      "new",
    ]);
  });

  it("refuses a key the driver keeps for itself, or an empty one, before planning", () => {
    for (const key of ["~keys", "", 7 as unknown as string]) {
      assert.throws(
        () => planBatch([{ op: "set", key, value: text("x") }], [], { prefix }),
        InputError,
      );
    }
    assert.throws(() => planBatch([{ op: "delete", key: "~meta" }], [], { prefix }), InputError);
  });

  it("plans nothing for an empty batch", () => {
    assert.deepEqual(planBatch([], [], { prefix }), {
      keys: [],
      guardKinds: "",
      steps: "",
      args: [],
    });
  });
});
