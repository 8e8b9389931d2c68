import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { jobId, planRun, renderDot, renderMermaid, renderSteps } from "../../src/run/plan.ts";
import { actor, link, service } from "./model_fixtures.ts";

const ids = (steps: { service: string; action: string }[][]) =>
  steps.map((step) => step.map(jobId));

describe("planRun", () => {
  const actors = [actor("node.ssh"), actor("os.ubuntu"), actor("sshkey"), actor("app")];

  it("takes scheduled, changed and error actions and their prerequisites that are not ok", () => {
    const web = service("node.ssh", "web1", { states: { start: "scheduled" } });
    const db = service("node.ssh", "db1", { states: { init: "ok", install: "changed" } });
    const bad = service("app", "a1", { states: { init: "ok", install: "ok", stop: "error" } });
    const plan = planRun([web, db, bad], actors);
    assert.deepEqual(ids(plan.steps), [
      ["app!a1:stop", "node!db1:install", "node!web1:init"],
      ["node!web1:install"],
      ["node!web1:start"],
    ]);
    assert.equal(plan.graph.value("node!web1:init").reason, "prerequisite");
    assert.equal(plan.graph.value("node!web1:start").reason, "scheduled");
    assert.equal(plan.graph.value("node!db1:install").reason, "changed");
    assert.equal(plan.graph.value("app!a1:stop").reason, "error");
  });

  it("leaves ok, new, disabled and live running actions out", () => {
    const s = service("node.ssh", "web1", {
      states: { init: "ok", install: "new", start: "disabled", stop: "running" },
    });
    assert.deepEqual(planRun([s], actors).steps, []);
  });

  it("takes running actions whose holder is dead", () => {
    const s = service("node.ssh", "web1", { states: { init: "ok", install: "running" } });
    const t = service("node.ssh", "web2", { states: { init: "ok", install: "running" } });
    const plan = planRun([s, t], actors, {
      isInterrupted: (svc, action) => svc.name === "web1" && action === "install",
    });
    assert.deepEqual(ids(plan.steps), [["node!web1:install"]]);
    assert.equal(plan.graph.value("node!web1:install").reason, "interrupted");
  });

  it("replaces default prerequisites with the actor's deps", () => {
    const custom = actor(
      "node.custom",
      { start: { deps: ["init"] }, backup: { deps: ["start"] } },
      [
        "backup",
      ],
    );
    const s = service("node.custom", "n1", { states: { backup: "scheduled" } });
    const plan = planRun([s], [custom]);
    assert.deepEqual(ids(plan.steps), [["node!n1:init"], ["node!n1:start"], ["node!n1:backup"]]);
  });

  it("uninstall of a started service stops it first, also when deps: leaves stop out", () => {
    const custom = actor("node.custom", { uninstall: { deps: [] } });
    const started = service("node.custom", "n1", {
      states: { init: "ok", install: "ok", start: "ok", uninstall: "scheduled" },
    });
    const stopped = service("node.custom", "n2", {
      states: { init: "ok", install: "ok", start: "new", stop: "ok", uninstall: "scheduled" },
    });
    assert.deepEqual(ids(planRun([started, stopped], [custom]).steps), [
      ["node!n1:stop", "node!n2:uninstall"],
      ["node!n1:uninstall"],
    ]);
  });

  it("retries failed lifecycle actions and processChange, never a failed explicit action", () => {
    const custom = actor("node.custom", {}, ["setkey"]);
    const s = service("node.custom", "n1", {
      states: { init: "ok", install: "error", processChange: "error", setkey: "error" },
    });
    assert.deepEqual(ids(planRun([s], [custom]).steps), [[
      "node!n1:install",
      "node!n1:processChange",
    ]]);
    const t = service("node.custom", "n2", {
      states: { init: "ok", install: "ok", setkey: "error", monitor: "error" },
    });
    assert.deepEqual(planRun([t], [custom]).steps, []);
    assert.deepEqual(planRun([t], [custom], { action: "setkey" }).steps, []);
  });

  it("plans a default action only where the actions file exports it (no phantom init)", () => {
    const exporting = (name: string, exported: string[]) => ({ ...actor(name), exported });
    const actorsHere = [exporting("app", ["install", "start"]), exporting("db", ["init"])];
    const db = service("db", "d1");
    const a = service("app", "a1", { states: { install: "scheduled" } });
    link(a, db);
    // db's install is not exported: a1's install waits for nothing and pulls nothing in.
    assert.deepEqual(ids(planRun([a, db], actorsHere).steps), [["app!a1:install"]]);
    // Job-less actions are passed through: start ← install ← init, only init exported.
    const b = service("db", "d2", { states: { start: "scheduled" } });
    const passed = planRun([b], actorsHere);
    assert.deepEqual(ids(passed.steps), [["db!d2:init"]]);
    assert.deepEqual(passed.satisfied.map((j) => j.action), ["install", "start"]);
    // A due action that needs no job is satisfied, in lifecycle order, its prerequisites too.
    const bare = exporting("bare", []);
    const d = service("bare", "x", { states: { install: "scheduled", uninstall: "scheduled" } });
    const plan = planRun([d], [bare]);
    assert.deepEqual(plan.steps, []);
    assert.deepEqual(plan.satisfied.map((j) => j.action), ["init", "install", "stop", "uninstall"]);
    // Without the record of the exports (an older store) every action counts.
    const c = service("app", "c1", { states: { install: "scheduled" } });
    assert.deepEqual(ids(planRun([c], [actor("app")]).steps), [["app!c1:init"], [
      "app!c1:install",
    ]]);
  });

  it("rejects deps naming an unknown action", () => {
    const custom = actor("node.custom", { install: { deps: ["nosuch"] } });
    const s = service("node.custom", "n1", { states: { install: "scheduled" } });
    assert.throws(() => planRun([s], [custom]), /depends on unknown action nosuch/);
  });

  it("orders init/install/start after the producers', parent included, pulling them in", () => {
    const key = service("sshkey", "main", { states: { init: "ok", install: "ok" } });
    const host = service("os.ubuntu", "h1");
    const web = service("node.ssh", "web1", { states: { install: "scheduled" } });
    link(web, key);
    link(web, host, true);
    const plan = planRun([key, host, web], actors);
    assert.deepEqual(ids(plan.steps), [
      ["os!h1:init"],
      ["node!web1:init", "os!h1:install"],
      ["node!web1:install"],
    ]);
    assert.ok(plan.graph.hasEdge("node!web1:init", "os!h1:init"));
    assert.ok(plan.graph.hasEdge("node!web1:install", "os!h1:install"));
    assert.ok(plan.graph.hasEdge("node!web1:install", "node!web1:init"));
    assert.equal(plan.graph.value("os!h1:install").reason, "producer");
    // The ok sshkey actions do not join.
    assert.ok(!plan.graph.hasNode("sshkey!main:install"));
  });

  it("orders a custom action after the producers' (v8.1); pulls them in only with producers: true", () => {
    const withProducers = actor("app", { backup: { producers: true } }, ["backup"]);
    const dbActor = actor("db", {}, ["backup"]);
    const db = service("db", "d1", { states: { backup: "scheduled" } });
    const a = service("app", "a1", { states: { backup: "scheduled" } });
    link(a, db);
    let plan = planRun([db, a], [withProducers, dbActor]);
    assert.deepEqual(ids(plan.steps), [["db!d1:backup"], ["app!a1:backup"]]);
    // Without producers: true the order is still v8.1's when both are in the run…
    plan = planRun([db, a], [actor("app", {}, ["backup"]), dbActor]);
    assert.deepEqual(ids(plan.steps), [["db!d1:backup"], ["app!a1:backup"]]);
    // …but the producer's action does not join the run on its own.
    const idle = service("db", "d1", { states: { backup: "new" } });
    const a2 = service("app", "a1", { states: { backup: "scheduled" } });
    link(a2, idle);
    plan = planRun([idle, a2], [actor("app", {}, ["backup"]), dbActor]);
    assert.deepEqual(ids(plan.steps), [["app!a1:backup"]]);
    // producers: false switches the order off.
    const off = actor("app", { backup: { producers: false } }, ["backup"]);
    plan = planRun([db, a], [off, dbActor]);
    assert.deepEqual(ids(plan.steps), [["app!a1:backup", "db!d1:backup"]]);
  });

  it("orders monitor and processChange after the producers' same action when both are in the run", () => {
    const ok = { init: "ok", install: "ok", start: "ok" } as const;
    const db = service("db", "d1", {
      states: { ...ok, monitor: "scheduled", processChange: "scheduled" },
    });
    const a = service("app", "a1", {
      states: { ...ok, monitor: "scheduled", processChange: "scheduled" },
    });
    link(a, db);
    const plan = planRun([db, a], [actor("db"), actor("app")]);
    assert.deepEqual(ids(plan.steps), [
      ["db!d1:monitor", "db!d1:processChange"],
      ["app!a1:monitor", "app!a1:processChange"],
    ]);
  });

  it("different actions of producer and consumer have no cross-service edges", () => {
    const db = service("db", "d1", {
      states: { init: "ok", install: "ok", start: "ok", processChange: "scheduled" },
    });
    const a = service("app", "a1", {
      states: { init: "ok", install: "ok", start: "ok", monitor: "scheduled" },
    });
    link(a, db);
    const plan = planRun([db, a], [actor("db"), actor("app")]);
    assert.deepEqual(ids(plan.steps), [["app!a1:monitor", "db!d1:processChange"]]);
  });

  it("runs a consumer's processChange after its producer's when both are in the run", () => {
    const db = service("db", "d1", {
      states: { init: "ok", install: "ok", processChange: "scheduled" },
    });
    const a = service("app", "a1", { states: { init: "ok", install: "ok" } });
    const b = service("app", "b1", {
      states: { init: "ok", install: "ok", processChange: "scheduled" },
    });
    link(a, db);
    link(b, db);
    // a1's processChange is not due: the producer's does not pull it in.
    const plan = planRun([db, a, b], [actor("db"), actor("app")]);
    assert.deepEqual(ids(plan.steps), [["db!d1:processChange"], ["app!b1:processChange"]]);
  });

  it("runs stop and uninstall of a producer after its consumers' (teardown in reverse)", () => {
    const db = service("db", "d1", { states: { stop: "scheduled", uninstall: "scheduled" } });
    const a = service("app", "a1", { states: { stop: "scheduled", uninstall: "scheduled" } });
    const b = service("app", "b1", { states: { stop: "ok" } });
    link(a, db);
    link(b, db);
    const plan = planRun([db, a, b], [actor("db"), actor("app")]);
    assert.deepEqual(ids(plan.steps), [
      ["app!a1:stop"],
      ["app!a1:uninstall", "db!d1:stop"],
      ["db!d1:uninstall"],
    ]);
    assert.ok(plan.graph.hasEdge("db!d1:stop", "app!a1:stop"));
    assert.ok(plan.graph.hasEdge("db!d1:uninstall", "app!a1:uninstall"));
    // A consumer's teardown that is not due does not join.
    assert.ok(!plan.graph.hasNode("app!b1:stop"));
  });

  it("scopes by role or actor name and by instance, full match", () => {
    const services = [
      service("node.ssh", "web1", { states: { init: "scheduled" } }),
      service("node.docker", "web2", { states: { init: "scheduled" } }),
      service("os.ubuntu", "web1", { states: { init: "scheduled" } }),
      service("node.ssh", "web10", { states: { init: "scheduled" } }),
    ];
    const all = [...actors, actor("node.docker")];
    const run = (options: Parameters<typeof planRun>[2]) =>
      ids(planRun(services, all, options).steps).flat();
    assert.deepEqual(run({ role: "node" }), [
      "node!web1:init",
      "node!web10:init",
      "node!web2:init",
    ]);
    assert.deepEqual(run({ role: "node.ssh" }), ["node!web1:init", "node!web10:init"]);
    assert.deepEqual(run({ role: "nod" }), []);
    assert.deepEqual(run({ instance: "web1" }), ["node!web1:init", "os!web1:init"]);
    assert.deepEqual(run({ role: "node", instance: "web[12]" }), [
      "node!web1:init",
      "node!web2:init",
    ]);
    assert.throws(() => run({ instance: "(" }), InputError);
  });

  it("filters the taken actions by name, still adding prerequisites", () => {
    const s = service("node.ssh", "web1", { states: { start: "scheduled", stop: "error" } });
    assert.deepEqual(ids(planRun([s], actors, { action: "start" }).steps).flat(), [
      "node!web1:init",
      "node!web1:install",
      "node!web1:start",
    ]);
  });

  it("takes recurring actions only when scheduled, never their error", () => {
    const s = service("node.ssh", "web1", {
      states: { init: "ok", install: "ok", start: "ok", monitor: "error" },
      periods: { monitor: 60 },
    });
    assert.deepEqual(planRun([s], actors).steps, []);
    s.actions.monitor.state = "changed";
    assert.deepEqual(planRun([s], actors).steps, []);
    s.actions.monitor.state = "scheduled";
    assert.deepEqual(ids(planRun([s], actors).steps), [["node!web1:monitor"]]);
  });

  it("fails on a cycle with exit code 2, printing the cycle", () => {
    const a = service("app", "a", { states: { install: "scheduled", init: "ok" } });
    const b = service("app", "b", { states: { install: "scheduled", init: "ok" } });
    link(a, b);
    link(b, a);
    assert.throws(() => planRun([a, b], actors), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.exitCode, 2);
      assert.equal(
        error.message,
        "dependency cycle: app!a install → app!b install → app!a install",
      );
      return true;
    });
  });

  it("writes nothing into the records it reads", () => {
    const web = service("node.ssh", "web1", { states: { start: "scheduled" } });
    const before = JSON.stringify(web);
    planRun([web], actors);
    assert.equal(JSON.stringify(web), before);
  });

  it("renders the graph as dot and mermaid, arrows in the direction work flows", () => {
    const host = service("os.ubuntu", "h1", { states: { init: "ok" } });
    const web = service("node.ssh", "web1", { states: { init: "ok", install: "scheduled" } });
    link(web, host, true);
    const plan = planRun([host, web], actors);
    assert.equal(
      renderDot(plan),
      [
        "digraph ays_run {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="monospace"];',
        "  subgraph step_1 {",
        "    rank=same;",
        '    "os!h1:install" [label="os!h1\\ninstall"];',
        "  }",
        "  subgraph step_2 {",
        "    rank=same;",
        '    "node!web1:install" [label="node!web1\\ninstall"];',
        "  }",
        '  "os!h1:install" -> "node!web1:install";',
        "}",
        "",
      ].join("\n"),
    );
    assert.equal(
      renderSteps(plan),
      "step 1\n  os!h1 install  (producer)\nstep 2\n  node!web1 install  (scheduled)\n",
    );
    assert.equal(renderSteps(planRun([], [])), "nothing to do\n");
    assert.equal(
      renderMermaid(plan),
      [
        "flowchart LR",
        '  subgraph step1 ["step 1"]',
        '    n0["os!h1 install"]',
        "  end",
        '  subgraph step2 ["step 2"]',
        '    n1["node!web1 install"]',
        "  end",
        "  n0 --> n1",
        "",
      ].join("\n"),
    );
  });
});
