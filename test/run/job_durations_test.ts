import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newActionRecord } from "../../src/model/schedule.ts";
import type { JobRecord, ServiceRecord } from "../../src/model/types.ts";
import { jobWeight, loadActionDurations, UNKNOWN_DURATION } from "../../src/run/job_durations.ts";
import { newJobRecord } from "../../src/run/job_recorder.ts";
import { runJobId } from "../../src/run/run_ids.ts";
import { makeServiceRecord } from "../helpers/service_record.ts";

const RUN = "20260101-000000-abcdef";
const actor = { name: "node", role: "node" };

/** Services of `actor` whose install's last job took `seconds[i]` (state `states[i]`). */
function history(seconds: number[], states: JobRecord["state"][] = []) {
  const jobs = new Map<string, JobRecord>();
  const services: ServiceRecord[] = seconds.map((s, i) => {
    const id = runJobId(RUN, i + 1);
    jobs.set(id, {
      ...newJobRecord(id, RUN, { service: `node!n${i}`, action: "install" }),
      state: states[i] ?? "ok",
      startedAt: 1000 * i,
      endedAt: 1000 * i + s * 1000,
    });
    return makeServiceRecord(actor, `n${i}`, {
      actions: {
        install: { ...newActionRecord(), state: "ok", lastRun: 1000 * i, lastJob: id },
      },
    });
  });
  const loads: string[] = [];
  const store = {
    loadJob: (run: string, id: string) => {
      loads.push(id);
      return Promise.resolve(run === RUN ? jobs.get(id) ?? null : null);
    },
  };
  return { services, store, loads };
}

describe("loadActionDurations", () => {
  it("is the median of the newest jobs of each action, read a few at a time", async () => {
    // Newest last: the 5 newest took 5, 1, 3, 9, 2 s → median 3.
    const { services, store, loads } = history([100, 100, 5, 1, 3, 9, 2]);
    const durations = await loadActionDurations(store, services);
    assert.equal(durations.of("node", "install"), 3);
    assert.equal(loads.length, 5, "only the newest 5 are read");
    assert.equal(durations.of("node", "start"), UNKNOWN_DURATION);
    assert.equal(durations.of("other", "install"), UNKNOWN_DURATION);
    const weight = jobWeight(durations, new Map(services.map((s) => [`node!${s.name}`, s])));
    assert.equal(weight({ service: "node!n0", action: "install" }), 3);
    assert.equal(weight({ service: "gone!x", action: "install" }), UNKNOWN_DURATION);
  });

  it("counts only jobs that ran to an end, and refuses a bad count", async () => {
    const { services, store } = history([4, 8, 50], ["ok", "error", "cancelled"]);
    const durations = await loadActionDurations(store, services, { last: 3 });
    assert.equal(durations.of("node", "install"), 6);
    await assert.rejects(() => loadActionDurations(store, services, { last: 0 }), /last must be/);
  });
});
