import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readBlueprint } from "../../src/blueprint/read.ts";
import { applyBlueprints } from "../../src/blueprint/resolve.ts";
import { describeChangeSet, summarizeChangeSet } from "../../src/blueprint/summary.ts";
import { actor, actorMap, field } from "./helpers.ts";

const actors = actorMap(
  actor("db", [field("user"), field("password", { secret: true }), field("port", { type: "int" })]),
);

function apply(text: string, services = [] as ReturnType<typeof applyBlueprints>["created"]) {
  return applyBlueprints([readBlueprint(text, { file: "bp.yaml" })], {
    repoName: "r",
    actors,
    services,
  });
}

describe("change set summaries", () => {
  const first = apply("db__main:\n  user: admin\n  password: s3cret\n  port: 5432\n");
  const second = apply(
    "db__main:\n  user: root\n  password: n3w\n  port: 5432\nactions:\n  - action: install\n",
    first.created,
  );

  it("describes creations, changes and schedules with secrets masked", () => {
    assert.deepEqual(describeChangeSet(first, { actors }), ["create db!main (db)"]);
    const lines = describeChangeSet(second, { actors });
    assert.deepEqual(lines, [
      'update db!main: user "admin" → "root"',
      'update db!main: password "***" → "***"',
      "schedule db!main processChange (user, password)",
      "schedule db!main install",
    ]);
    assert.ok(!lines.join("\n").includes("s3cret") && !lines.join("\n").includes("n3w"));
  });

  it("reveals secrets on request, and says when there is nothing to do", () => {
    const revealed = summarizeChangeSet(second, { actors, reveal: true });
    assert.deepEqual(revealed.updated[0].changes.password, { old: "s3cret", new: "n3w" });
    const masked = summarizeChangeSet(second, { actors });
    assert.deepEqual(masked.updated[0].changes.password, { old: "***", new: "***" });
    assert.deepEqual(masked.scheduled[0], {
      service: "db!main",
      action: "processChange",
      changes: ["user", "password"],
    });
    const none = apply("db__main:\n  user: admin\n", first.created);
    assert.deepEqual(describeChangeSet(none, { actors }), ["nothing to do"]);
  });
});
