/** `ays do ACTION` before its run: scheduling on the matched services, refusing bad filters. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { scheduleForRun } from "../../src/run/schedule_for_run.ts";
import { makeActor, makeService } from "../store/fixtures.ts";

const node = makeActor("node");
const web = makeActor("web");
const services = [
  makeService("r", node, "n1"),
  makeService("r", node, "n2"),
  makeService("r", web, "w1"),
];

describe("scheduleForRun", () => {
  it("schedules the action on every matching service", () => {
    const result = scheduleForRun(services, "install", { role: "node" });
    assert.equal(result.empty, false);
    assert.deepEqual(result.updated.map((s) => s.name).sort(), ["n1", "n2"]);
    assert.ok(result.updated.every((s) => s.actions.install.state === "scheduled"));
    assert.equal(services[0].actions.install.state, "new", "pure: the input is not changed");
  });

  it("filters instances by a whole-name regex", () => {
    const result = scheduleForRun(services, "install", { instance: "n.*" });
    assert.deepEqual(result.updated.map((s) => s.name).sort(), ["n1", "n2"]);
  });

  it("skips an ok action unless forced", () => {
    const done = services.map((s) => ({
      ...s,
      actions: { ...s.actions, install: { ...s.actions.install, state: "ok" as const } },
    }));
    assert.equal(scheduleForRun(done, "install").updated.length, 0);
    assert.equal(scheduleForRun(done, "install", { force: true }).updated.length, 3);
  });

  it("refuses a filter that matches nothing", () => {
    assert.throws(
      () => scheduleForRun(services, "install", { role: "db", instance: "x" }),
      (e) => e instanceof InputError && e.message === "no service matches -r db -i x",
    );
  });

  it("refuses an action none of the matched services has", () => {
    assert.throws(
      () => scheduleForRun(services, "frobnicate"),
      (e) =>
        e instanceof InputError && /no matching service has an action frobnicate/.test(e.message),
    );
  });

  it("an empty repository without a filter is empty, not an error", () => {
    const result = scheduleForRun([], "install");
    assert.equal(result.empty, true);
    assert.deepEqual(result.updated, []);
  });
});
