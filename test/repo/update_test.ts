/** planUpdate: schema changes convert data by field name; actions and periods follow. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planUpdate } from "../../src/repo/update.ts";
import { actor, field } from "../blueprint/helpers.ts";
import { newActionRecord } from "../../src/model/schedule.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";

function service(a: ActorRecord, name: string, data: Record<string, unknown>): ServiceRecord {
  const actions: ServiceRecord["actions"] = {};
  for (const action of a.actionNames) {
    actions[action] = newActionRecord(a.config.recurring[action]?.period ?? 0);
  }
  return makeServiceRecord(a, name, { data, actions });
}

const oldActor = actor("node", [
  field("addr"),
  field("port", { type: "int" }),
  field("size", { type: "str" }),
  field("legacy"),
], { actions: ["backup"], recurring: { monitor: 60 } });
oldActor.capnpSchema = "old";

const newActor = actor("node", [
  field("port", { type: "str" }),
  field("addr"),
  field("size", { type: "int" }),
  field("zone", { default: "eu" }),
], { actions: ["restore"], recurring: { monitor: 300 } });
newActor.capnpSchema = "new";

describe("planUpdate", () => {
  it("converts data by field name: kept, converted, reset, added, dropped", () => {
    const services = [
      service(oldActor, "a", { addr: "10.0.0.1", port: 22, size: "12", legacy: "x" }),
      service(oldActor, "b", { addr: "10.0.0.2", port: 23, size: "big", legacy: "" }),
    ];
    const before = structuredClone(services);
    const plan = planUpdate([oldActor], new Map([["node", newActor]]), services);
    assert.deepEqual(services, before, "inputs untouched");
    assert.deepEqual(plan.actors, [newActor]);
    const [a, b] = plan.services;
    assert.deepEqual(a.data, { port: "22", addr: "10.0.0.1", size: 12, zone: "eu" });
    assert.deepEqual(b.data, { port: "23", addr: "10.0.0.2", size: 0, zone: "eu" });
    const u = plan.updates[0];
    assert.deepEqual(u.addedFields, ["zone"]);
    assert.deepEqual(u.removedFields, ["legacy"]);
    assert.deepEqual(u.reset.map((r) => `${r.service} ${r.field}`), ["node!b size"]);
    assert.equal(u.services, 2);
  });

  it("adds and drops actions; a template period moves unless the service has its own", () => {
    const own = service(oldActor, "own", { addr: "", port: 1, size: "", legacy: "" });
    own.actions.monitor.period = 5;
    const plain = service(oldActor, "plain", { addr: "", port: 1, size: "", legacy: "" });
    const plan = planUpdate([oldActor], new Map([["node", newActor]]), [own, plain]);
    const [o, p] = plan.services;
    assert.equal(o.actions.backup, undefined);
    assert.equal(o.actions.restore.state, "new");
    assert.equal(o.actions.monitor.period, 5);
    assert.equal(p.actions.monitor.period, 300);
    assert.deepEqual(plan.updates[0].addedActions, ["restore"]);
    assert.deepEqual(plan.updates[0].removedActions, ["backup"]);
  });

  it("--mark-changed: ok actions become changed only when the actions file changed", () => {
    const same = { ...oldActor, actionsHash: "h1" };
    const edited = { ...oldActor, actionsHash: "h2" };
    const s = service(oldActor, "s", { addr: "", port: 1, size: "", legacy: "" });
    s.actions.install.state = "ok";
    s.actions.init.state = "ok";
    s.actions.start.state = "error";
    const plan = planUpdate([same], new Map([["node", edited]]), [s], { markChanged: true });
    assert.equal(plan.updates[0].markedChanged, 2);
    assert.deepEqual(plan.updates[0].differences, ["actions file"]);
    assert.equal(plan.services[0].actions.install.state, "changed");
    assert.equal(plan.services[0].actions.start.state, "error");
    const quiet = planUpdate([same], new Map([["node", edited]]), [s]);
    assert.equal(quiet.updates[0].markedChanged, 0);
    assert.deepEqual(quiet.services, [], "nothing to rewrite without --mark-changed");
    assert.deepEqual(quiet.actors, [edited], "the new hash is stored");
  });

  it("leaves actors that did not change, filters by name, warns about lost templates", () => {
    const s = service(oldActor, "s", { addr: "", port: 1, size: "", legacy: "" });
    assert.deepEqual(planUpdate([oldActor], new Map([["node", oldActor]]), [s]).updates, []);
    const other = actor("web", []);
    const filtered = planUpdate([oldActor, other], new Map([["node", newActor]]), [s], {
      names: ["web"],
    });
    assert.deepEqual(filtered.updates, []);
    assert.match(filtered.warnings[0], /actor web has no template/);
  });

  it("re-encodes every service when the capnp schema changed, even with equal data", () => {
    const v1 = actor("x", [field("a")]);
    v1.capnpSchema = "one";
    const v2 = { ...v1, capnpSchema: "two" };
    const s = service(v1, "s", { a: "z" });
    const plan = planUpdate([v1], new Map([["x", v2]]), [s]);
    assert.equal(plan.services.length, 1);
  });
});
