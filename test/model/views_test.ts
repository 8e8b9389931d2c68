import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FieldSpec } from "../../src/model/field_spec.ts";
import { newFieldSpec } from "../../src/model/fields.ts";
import type { ServiceRecord } from "../../src/model/types.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import { listEntry, MASK, showEntry, sortServices } from "../../src/model/views.ts";

function field(camelName: string, secret = false): FieldSpec {
  return newFieldSpec(camelName, { secret });
}

function service(role: string, name: string, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return makeServiceRecord({ name: `${role}.x`, role }, name, {
    key: `${role}-${name}`,
    actions: {
      install: { state: "ok", period: 0, lastRun: Date.UTC(2026, 0, 2, 3, 4, 5), lastJob: "j1" },
      monitor: { state: "scheduled", period: 300, lastRun: null, lastJob: null },
    },
    ...extra,
  });
}

describe("service views", () => {
  it("list entries flatten producers and map actions to states", () => {
    const s = service("node", "web1", {
      parent: "os!main",
      producers: { sshkey: ["sshkey!b", "sshkey!a"], os: ["os!main"] },
      consumers: ["app!z", "app!a"],
    });
    assert.deepEqual(listEntry(s), {
      key: "node-web1",
      name: "web1",
      actor: "node.x",
      role: "node",
      state: "ok",
      parent: "os!main",
      producers: ["os!main", "sshkey!a", "sshkey!b"],
      consumers: ["app!a", "app!z"],
      actions: { install: "ok", monitor: "scheduled" },
    });
  });

  it("show entries mask secrets unless revealed and give periods and ISO times", () => {
    const s = service("db", "main", { data: { user: "root", password: "hunter2", empty: "" } });
    const fields = [field("user"), field("password", true), field("empty", true)];
    const shown = showEntry(s, fields);
    assert.deepEqual(shown.data, { user: "root", password: MASK, empty: "" });
    assert.deepEqual(shown.actions.install, {
      state: "ok",
      period: 0,
      lastRun: "2026-01-02T03:04:05.000Z",
    });
    assert.deepEqual(shown.actions.monitor, { state: "scheduled", period: 300, lastRun: null });
    assert.equal(showEntry(s, fields, { reveal: true }).data.password, "hunter2");
  });

  it("sorts by role, then name", () => {
    const sorted = sortServices([service("b", "1"), service("a", "2"), service("a", "10")]);
    assert.deepEqual(sorted.map((s) => `${s.role}!${s.name}`), ["a!10", "a!2", "b!1"]);
  });
});
