import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import {
  compileNameRegex,
  markSatisfied,
  newActionRecord,
  onActionSucceeded,
  scheduleAction,
  scheduleServices,
  serviceMatcher,
  serviceState,
} from "../../src/model/schedule.ts";
import type { ActionState, ServiceRecord } from "../../src/model/types.ts";
import { DEFAULT_ACTIONS } from "../../src/model/types.ts";

function service(states: Record<string, ActionState> = {}, changed = false): ServiceRecord {
  const actions: ServiceRecord["actions"] = {};
  for (const name of DEFAULT_ACTIONS) actions[name] = newActionRecord();
  for (const [name, state] of Object.entries(states)) {
    actions[name] = { ...newActionRecord(), state };
  }
  return {
    key: "k",
    name: "web1",
    actor: "node.ssh",
    role: "node",
    parent: null,
    producers: {},
    consumers: [],
    data: {},
    changed,
    actions,
    eventFilters: [],
  };
}

function states(record: ServiceRecord): Record<string, ActionState> {
  return Object.fromEntries(Object.entries(record.actions).map(([k, v]) => [k, v.state]));
}

describe("scheduleAction", () => {
  it("schedules a new action and leaves the original record untouched", () => {
    const before = service();
    const outcome = scheduleAction(before, "install");
    assert.equal(outcome.scheduled, true);
    assert.equal(outcome.service.actions.install.state, "scheduled");
    assert.equal(before.actions.install.state, "new");
  });

  for (const state of ["error", "changed", "running", "new"] as ActionState[]) {
    it(`schedules an action in state ${state}`, () => {
      const outcome = scheduleAction(service({ install: state }), "install");
      assert.equal(outcome.scheduled, true);
      assert.equal(outcome.service.actions.install.state, "scheduled");
    });
  }

  it("does not schedule an ok action without force", () => {
    const before = service({ install: "ok" });
    const outcome = scheduleAction(before, "install");
    assert.equal(outcome.scheduled, false);
    assert.equal(outcome.reason, "ok");
    assert.equal(outcome.service, before);
  });

  it("schedules an ok action with force", () => {
    const outcome = scheduleAction(service({ install: "ok" }), "install", { force: true });
    assert.equal(outcome.scheduled, true);
    assert.equal(outcome.service.actions.install.state, "scheduled");
  });

  it("never schedules a disabled action, not even with force", () => {
    const outcome = scheduleAction(service({ start: "disabled" }), "start", { force: true });
    assert.equal(outcome.scheduled, false);
    assert.equal(outcome.reason, "disabled");
    assert.equal(outcome.service.actions.start.state, "disabled");
  });

  it("reports an action the service does not have", () => {
    const outcome = scheduleAction(service(), "backup");
    assert.equal(outcome.scheduled, false);
    assert.equal(outcome.reason, "unknown-action");
  });

  it("reports an action that is already scheduled as unchanged", () => {
    const before = service({ monitor: "scheduled" });
    const outcome = scheduleAction(before, "monitor");
    assert.equal(outcome.reason, "already-scheduled");
    assert.equal(outcome.service, before);
  });

  it("install and start unschedule a pending uninstall and stop", () => {
    for (const action of ["install", "start"]) {
      const outcome = scheduleAction(
        service({ uninstall: "scheduled", stop: "error" }),
        action,
      );
      assert.deepEqual(outcome.unscheduled.sort(), ["stop", "uninstall"]);
      assert.equal(outcome.service.actions.uninstall.state, "new");
      assert.equal(outcome.service.actions.stop.state, "new");
      assert.equal(outcome.service.actions[action].state, "scheduled");
    }
  });

  it("uninstall and stop unschedule a pending install and start", () => {
    for (const action of ["uninstall", "stop"]) {
      const outcome = scheduleAction(
        service({ install: "scheduled", start: "changed" }),
        action,
      );
      assert.deepEqual(outcome.unscheduled.sort(), ["install", "start"]);
      assert.equal(outcome.service.actions.install.state, "new");
      assert.equal(outcome.service.actions.start.state, "new");
    }
  });

  it("leaves an ok counterpart alone", () => {
    const outcome = scheduleAction(service({ install: "ok", start: "ok" }), "stop");
    assert.deepEqual(outcome.unscheduled, []);
    assert.equal(outcome.service.actions.install.state, "ok");
    assert.equal(outcome.service.actions.stop.state, "scheduled");
  });

  it("unschedules a pending stop even when start is already ok", () => {
    const outcome = scheduleAction(service({ start: "ok", stop: "scheduled" }), "start");
    assert.equal(outcome.scheduled, false);
    assert.equal(outcome.reason, "ok");
    assert.deepEqual(outcome.unscheduled, ["stop"]);
    assert.equal(outcome.service.actions.stop.state, "new");
  });

  it("does not touch counterparts of other actions", () => {
    const outcome = scheduleAction(service({ stop: "scheduled" }), "monitor");
    assert.equal(outcome.service.actions.stop.state, "scheduled");
  });
});

describe("onActionSucceeded", () => {
  it("marks the action ok", () => {
    const after = onActionSucceeded(service({ install: "running" }), "install");
    assert.equal(after.actions.install.state, "ok");
  });

  it("stop ok sets start back to new", () => {
    const after = onActionSucceeded(
      service({ install: "ok", start: "ok", stop: "running" }),
      "stop",
    );
    assert.deepEqual(
      { install: states(after).install, start: states(after).start, stop: states(after).stop },
      { install: "ok", start: "new", stop: "ok" },
    );
  });

  it("uninstall ok sets install and start back to new", () => {
    const after = onActionSucceeded(
      service({ install: "ok", start: "ok", stop: "ok", uninstall: "running" }),
      "uninstall",
    );
    assert.equal(after.actions.install.state, "new");
    assert.equal(after.actions.start.state, "new");
    assert.equal(after.actions.uninstall.state, "ok");
  });

  it("the lifecycle is symmetric: each success resets its opposite to new", () => {
    const up = { init: "ok", install: "ok", start: "ok", stop: "ok", uninstall: "ok" } as const;
    const reset = (action: string) => {
      const after = onActionSucceeded(service({ ...up, [action]: "running" }), action);
      return Object.entries(states(after))
        .filter(([name, state]) =>
          name !== "monitor" && name !== "processChange" && state === "new"
        )
        .map(([name]) => name).sort();
    };
    assert.deepEqual(reset("install"), ["uninstall"]);
    assert.deepEqual(reset("start"), ["stop"]);
    assert.deepEqual(reset("stop"), ["start"]);
    assert.deepEqual(reset("uninstall"), ["install", "start", "stop"]);
    assert.deepEqual(reset("init"), []);
  });

  it("start, stop, start, stop: the second stop is due again", () => {
    let s = service({ install: "ok" });
    s = onActionSucceeded(s, "start");
    s = onActionSucceeded(s, "stop");
    assert.equal(s.actions.start.state, "new");
    s = onActionSucceeded(s, "start");
    assert.equal(s.actions.stop.state, "new");
    assert.equal(scheduleAction(s, "stop").scheduled, true);
  });

  it("a disabled opposite stays disabled", () => {
    const after = onActionSucceeded(service({ stop: "disabled", start: "running" }), "start");
    assert.equal(after.actions.stop.state, "disabled");
  });

  it("processChange ok clears changed", () => {
    const before = service({ processChange: "running" }, true);
    const after = onActionSucceeded(before, "processChange");
    assert.equal(after.changed, false);
    assert.equal(before.changed, true);
  });

  it("other actions keep changed", () => {
    const after = onActionSucceeded(service({}, true), "install");
    assert.equal(after.changed, true);
  });
});

describe("serviceState", () => {
  it("is new for a fresh service", () => {
    assert.equal(serviceState(service()), "new");
  });
  it("is ok when install is ok", () => {
    assert.equal(serviceState(service({ install: "ok" })), "ok");
  });
  it("is changed while data changed and processChange is not ok", () => {
    assert.equal(
      serviceState(service({ install: "ok", processChange: "scheduled" }, true)),
      "changed",
    );
  });
  it("is not changed once processChange is ok", () => {
    assert.equal(serviceState(service({ install: "ok", processChange: "ok" }, true)), "ok");
  });
  it("is error when any action is in error, before changed", () => {
    assert.equal(serviceState(service({ install: "ok", monitor: "error" }, true)), "error");
  });
});

describe("filters", () => {
  const a = { role: "node", actor: "node.ssh", name: "web1" };
  const b = { role: "node", actor: "node.docker", name: "web10" };
  const c = { role: "os", actor: "os.ubuntu", name: "web1" };

  it("-r matches the role or the full actor name", () => {
    const byRole = serviceMatcher({ role: "node" });
    assert.deepEqual([a, b, c].map(byRole), [true, true, false]);
    const byActor = serviceMatcher({ role: "node.ssh" });
    assert.deepEqual([a, b, c].map(byActor), [true, false, false]);
    assert.equal(serviceMatcher({ role: "node.s" })(a), false);
  });

  it("-i is a regex on the whole instance name", () => {
    assert.deepEqual([a, b, c].map(serviceMatcher({ instance: "web1" })), [true, false, true]);
    assert.deepEqual([a, b, c].map(serviceMatcher({ instance: "web.*" })), [true, true, true]);
    assert.deepEqual([a, b, c].map(serviceMatcher({ instance: "eb1" })), [false, false, false]);
    // An alternation must not escape the anchors.
    assert.deepEqual([a, b, c].map(serviceMatcher({ instance: "x|web1" })), [true, false, true]);
  });

  it("combines -r and -i", () => {
    const match = serviceMatcher({ role: "node", instance: "web1" });
    assert.deepEqual([a, b, c].map(match), [true, false, false]);
  });

  it("an empty filter matches everything", () => {
    assert.deepEqual([a, b, c].map(serviceMatcher({})), [true, true, true]);
  });

  it("a regex that does not compile is an InputError", () => {
    assert.throws(() => serviceMatcher({ instance: "web(" }), InputError);
    assert.throws(
      () =>
        compileNameRegex("[a-", {
          what: "actor",
          location: { file: "x.yaml", line: 3, column: 12 },
        }),
      (error: unknown) =>
        error instanceof InputError && error.location?.line === 3 &&
        /invalid actor regex '\[a-'/.test(error.message),
    );
  });
});

describe("explicit actions", () => {
  it("ays do schedules an explicit action whatever its state, a lifecycle one not when ok", () => {
    const s = service({ install: "ok", setkey: "ok" });
    const explicit = scheduleServices([s], "setkey");
    assert.deepEqual(explicit.scheduled, ["node!web1"]);
    const lifecycle = scheduleServices([s], "install");
    assert.deepEqual(lifecycle.scheduled, []);
    assert.deepEqual(lifecycle.skipped, [{ service: "node!web1", reason: "ok" }]);
  });

  it("outside ays do (a blueprint's actions:) an ok explicit action stays ok", () => {
    const s = service({ monitor: "ok" });
    assert.equal(scheduleAction(s, "monitor").scheduled, false);
    assert.equal(scheduleAction(s, "monitor", { asked: true }).scheduled, true);
  });

  it("a disabled explicit action is never scheduled", () => {
    const s = service({ monitor: "disabled" });
    assert.equal(scheduleAction(s, "monitor", { asked: true }).reason, "disabled");
  });
});

describe("scheduleServices", () => {
  const make = (name: string, actor: string, states: Record<string, ActionState> = {}) => ({
    ...service(states),
    name,
    actor,
    role: actor.split(".")[0],
  });

  it("schedules the matching services and reports the others", () => {
    const services = [
      make("web1", "node.ssh"),
      make("web2", "node.ssh", { install: "ok" }),
      make("web3", "node.docker", { install: "disabled" }),
      make("db", "node.ssh"),
      make("web1", "os.ubuntu"),
    ];
    const before = structuredClone(services);
    const result = scheduleServices(services, "install", { role: "node", instance: "web.*" });
    assert.equal(result.matched, 3);
    assert.deepEqual(result.scheduled, ["node!web1"]);
    assert.deepEqual(result.skipped, [
      { service: "node!web2", reason: "ok" },
      { service: "node!web3", reason: "disabled" },
    ]);
    assert.equal(result.updated.length, 1);
    assert.equal(result.updated[0].actions.install.state, "scheduled");
    assert.deepEqual(services, before);
  });

  it("force reschedules ok actions; unknown actions are reported", () => {
    const services = [make("a", "node.ssh", { install: "ok" })];
    assert.deepEqual(scheduleServices(services, "install", { force: true }).scheduled, ["node!a"]);
    assert.deepEqual(scheduleServices(services, "backup").skipped, [
      { service: "node!a", reason: "unknown-action" },
    ]);
  });
});

describe("markSatisfied", () => {
  it("marks job-less actions ok in order, with the lifecycle resets, copying the records", () => {
    const s = service({ init: "new", install: "scheduled", start: "ok", stop: "ok" });
    const services = new Map([["node!web1", s]]);
    const [after] = markSatisfied(services, [
      { service: "node!web1", action: "init" },
      { service: "node!web1", action: "install" },
      { service: "node!nosuch", action: "install" },
    ]);
    assert.equal(after.actions.init.state, "ok");
    assert.equal(after.actions.install.state, "ok");
    assert.equal(after.actions.uninstall.state, "new");
    assert.equal(s.actions.install.state, "scheduled");
    assert.deepEqual(markSatisfied(services, []), []);
  });
});
