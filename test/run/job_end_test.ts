/** What happens when a job ends: the data check, the action's final state, the log lines. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { acceptOutcome, endAction, errorLogLine, logLines } from "../../src/run/job_end.ts";
import type { JobOutcome } from "../../src/run/job_protocol.ts";
import { makeActor, makeService } from "../store/fixtures.ts";

const actor = makeActor("node");
const outcome = (extra: Partial<JobOutcome> = {}): JobOutcome => ({
  ok: true,
  result: null,
  data: { ...makeService("r", actor, "a").data, sshPort: 2222 },
  log: "",
  error: null,
  attempt: 1,
  millis: 1,
  ...extra,
});

describe("acceptOutcome", () => {
  it("keeps valid data of a successful job", () => {
    const accepted = acceptOutcome(actor, outcome());
    assert.equal(accepted.ok, true);
    assert.equal(accepted.data.sshPort, 2222);
  });

  it("fails a successful job whose data does not fit the schema", () => {
    const accepted = acceptOutcome(actor, outcome({ data: { sshPort: "not a number" } }));
    assert.equal(accepted.ok, false);
    assert.match(accepted.error!.message, /^the job's data changes are invalid: /);
  });

  it("leaves failed outcomes and jobs without an actor alone", () => {
    const failed = outcome({ ok: false, data: { sshPort: "x" }, error: { message: "boom" } });
    assert.equal(acceptOutcome(actor, failed), failed);
    const bare = outcome({ data: { anything: 1 } });
    assert.equal(acceptOutcome(undefined, bare), bare);
  });
});

describe("endAction", () => {
  const service = makeService("r", actor, "a");
  service.actions.install = { ...service.actions.install, state: "running", args: { x: 1 } };
  service.actions.start = { ...service.actions.start, state: "ok" };

  it("ok: takes the job's data, marks the action ok, drops its args, keeps lastJob", () => {
    const data = { ...service.data, sshPort: 2200 };
    const next = endAction(service, "install", { state: "ok", before: "new", data, jobId: "j1" });
    assert.equal(next.actions.install.state, "ok");
    assert.equal(next.actions.install.lastJob, "j1");
    assert.equal(next.actions.install.args, undefined);
    assert.equal(next.data.sshPort, 2200);
    assert.equal(service.actions.install.state, "running", "the input is not changed");
  });

  it("ok of uninstall resets install, start and stop; a running action keeps its state", () => {
    const installed = structuredClone(service);
    installed.actions.install.state = "ok";
    installed.actions.stop = { ...installed.actions.stop, state: "ok" };
    const next = endAction(installed, "uninstall", { state: "ok", before: "new", jobId: "j2" });
    assert.equal(next.actions.install.state, "new");
    assert.equal(next.actions.start.state, "new");
    assert.equal(next.actions.stop.state, "new");
    // Another job owns a running action: the reset leaves it alone.
    const busy = endAction(service, "uninstall", { state: "ok", before: "new", jobId: "j3" });
    assert.equal(busy.actions.install.state, "running");
  });

  it("error marks the action error and keeps the data", () => {
    const next = endAction(service, "install", {
      state: "error",
      before: "new",
      data: { sshPort: 1 },
      jobId: "j3",
    });
    assert.equal(next.actions.install.state, "error");
    assert.equal(next.actions.install.lastJob, "j3");
    assert.equal(next.data.sshPort, 22);
  });

  it("cancelled restores the state before; an interrupted attempt becomes scheduled", () => {
    const back = endAction(service, "install", { state: "cancelled", before: "new", jobId: "j4" });
    assert.equal(back.actions.install.state, "new");
    const again = endAction(service, "install", {
      state: "cancelled",
      before: "running",
      jobId: "j5",
    });
    assert.equal(again.actions.install.state, "scheduled");
  });

  it("an unknown action leaves the service as it is", () => {
    assert.equal(endAction(service, "nope", { state: "ok", before: "new", jobId: "j" }), service);
  });
});

describe("log lines", () => {
  it("splits at newlines without the empty line after a final one", () => {
    assert.deepEqual(logLines("a\nb\n"), ["a", "b"]);
    assert.deepEqual(logLines("a\n\nb"), ["a", "", "b"]);
    assert.deepEqual(logLines(""), []);
  });

  it("ends a failed job's log with its error", () => {
    assert.equal(errorLogLine(outcome({ ok: false, error: { message: "boom" } })), "[error] boom");
    assert.equal(errorLogLine(outcome()), undefined);
    assert.equal(errorLogLine(undefined), undefined);
  });
});
