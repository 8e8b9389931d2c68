/** planDelete: services with their descendants; links undone in records and relation data. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planDelete } from "../../src/model/delete.ts";
import { actor, actorMap, field } from "../blueprint/helpers.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";
import { newActionRecord } from "../../src/model/schedule.ts";
import type { ActorRecord, ServiceRecord } from "../../src/model/types.ts";

function service(
  a: ActorRecord,
  name: string,
  extra: Partial<ServiceRecord> = {},
): ServiceRecord {
  return makeServiceRecord(a, name, { actions: { install: newActionRecord() }, ...extra });
}

const node = actor("node", []);
const os = actor("os", [field("node", { parent: "node" })]);
const disk = actor("disk", []);
const db = actor("db", [
  field("disks", { list: true, consume: { roles: ["disk"], min: 2, max: 3 } }),
]);
const app = actor("app", [field("db", { consume: { roles: ["db"], min: 0, max: 2 } })]);
const actors = actorMap(node, os, disk, db, app);

function fixture(): ServiceRecord[] {
  return [
    service(node, "n1", { consumers: ["os!o1"] }),
    service(os, "o1", {
      parent: "node!n1",
      producers: { node: ["node!n1"] },
      consumers: ["os!o2"],
      data: { node: "n1" },
    }),
    // A grandchild.
    service(os, "o2", { parent: "os!o1", producers: { os: ["os!o1"] } }),
    service(disk, "d1", { consumers: ["db!main"] }),
    service(disk, "d2", { consumers: ["db!main"] }),
    service(db, "main", {
      producers: { disk: ["disk!d1", "disk!d2"] },
      consumers: ["app!a"],
      data: { disks: ["d1", "d2"] },
    }),
    service(app, "a", { producers: { db: ["db!main"] }, data: { db: "main" } }),
  ];
}

describe("planDelete", () => {
  it("removes the service and its descendants", () => {
    const services = fixture();
    const copy = structuredClone(services);
    const plan = planDelete(services, ["node!n1"], { actors });
    assert.deepEqual(plan.deleted.map((s) => `${s.role}!${s.name}`), ["node!n1", "os!o1", "os!o2"]);
    assert.deepEqual(plan.updated, []);
    assert.deepEqual(services, copy, "inputs untouched");
  });

  it("undoes links: consumer lists of producers, producers and relation data of consumers", () => {
    const plan = planDelete(fixture(), ["disk!d1", "db!main"], { actors });
    assert.deepEqual(plan.deleted.map((s) => `${s.role}!${s.name}`), ["db!main", "disk!d1"]);
    const by = new Map(plan.updated.map((s) => [`${s.role}!${s.name}`, s]));
    assert.deepEqual([...by.keys()], ["app!a", "disk!d2"]);
    assert.deepEqual(by.get("disk!d2")!.consumers, []);
    assert.deepEqual(by.get("app!a")!.producers, {});
    assert.equal(by.get("app!a")!.data.db, "");
  });

  it("warns when a consumer keeps fewer producers than its minimum", () => {
    const plan = planDelete(fixture(), ["disk!d2"], { actors });
    const main = plan.updated.find((s) => s.name === "main")!;
    assert.deepEqual(main.producers, { disk: ["disk!d1"] });
    assert.deepEqual(main.data.disks, ["d1"]);
    assert.match(
      plan.warnings[0],
      /db!main keeps 1 producer\(s\) for 'disks', fewer than its minimum 2/,
    );
  });
});
