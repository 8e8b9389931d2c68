/**
 * Telling whether a lock's or lease's holder is alive: only holders on this host can be checked
 * (by pid); one elsewhere is never judged dead here.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import process from "node:process";
import {
  currentHolder,
  isDeadLocalHolder,
  isProcessAlive,
  thisHost,
} from "../../src/store/holder.ts";
import { deadPid } from "./child.ts";

describe("holders", () => {
  it("names this host and this process, with a fresh id unless one is given", () => {
    assert.equal(thisHost(), hostname());
    const one = currentHolder();
    const two = currentHolder();
    assert.equal(one.pid, process.pid);
    assert.equal(one.host, hostname());
    assert.notEqual(one.id, two.id);
    assert.match(one.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(currentHolder("run-1"), { pid: process.pid, host: hostname(), id: "run-1" });
  });

  it("sees this process alive and a process that exited gone", () => {
    assert.equal(isProcessAlive(process.pid), true);
    assert.equal(isProcessAlive(deadPid()), false);
  });

  it("treats pids that cannot be a process as gone", () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) assert.equal(isProcessAlive(pid), false, `${pid}`);
  });

  it("counts pid 1 alive (answered with EPERM unless root)", () => {
    // pid 1 always exists; as root it answers at once, otherwise with EPERM: alive either way.
    assert.equal(isProcessAlive(1), true);
  });

  it("judges only holders on this host, by their pid", () => {
    const gone = deadPid();
    assert.equal(isDeadLocalHolder({ pid: gone, host: thisHost(), id: "a" }), true);
    assert.equal(isDeadLocalHolder({ pid: process.pid, host: thisHost(), id: "b" }), false);
    // The same dead pid on another host says nothing: that host's process may be alive.
    assert.equal(isDeadLocalHolder({ pid: gone, host: `not-${thisHost()}`, id: "c" }), false);
  });
});
