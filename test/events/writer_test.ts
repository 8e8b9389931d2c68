import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AysEvent, EventBus, EventLog, EventWriter } from "../../src/events/mod.ts";
import { MAX_BYTES_PER_APPEND, MAX_EVENTS_PER_APPEND } from "../../src/events/writer.ts";
import type { StoreDriver } from "../../src/store/mod.ts";
import { ManualTimers } from "../helpers/manual_timers.ts";
import { until } from "../helpers/mod.ts";
import { countingLog, suiteDrivers } from "./event_fixture.ts";

/** A writer over a real store whose appends are counted, on a clock and timers the test moves. */
function setUp(store: StoreDriver) {
  const appended: number[] = [];
  const log = countingLog(store, (events) => appended.push(events));
  const bus = new EventBus();
  const seen: AysEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  const clock = { now: Date.parse("2026-12-03T12:00:00.000Z") };
  const manual = new ManualTimers();
  const writer = new EventWriter(log, {
    bus,
    now: () => clock.now,
    monotonic: () => clock.now,
    timers: manual.timers,
    gatherMs: 10,
    spacingMs: 100,
  });
  /** Waits for every event appended so far to be emitted (a real store answers later). */
  const settle = () =>
    until(() => seen.length === appended.reduce((a, b) => a + b, 0), {
      what: "the appended events to be emitted",
      intervalMs: 1,
    });
  return { writer, clock, manual, appended, seen, settle };
}

const joined = (i: number) => ({ type: "worker.joined" as const, worker: `w${i}` });

describe("the event writer's pace", () => {
  const driver = suiteDrivers("ays-events-writer-");

  it("gathers a burst for the gather window, then spaces appends while events keep coming", async () => {
    const { writer, clock, manual, appended, seen, settle } = setUp(driver());
    for (let i = 0; i < 3; i++) writer.publish(joined(i));
    assert.deepEqual(manual.armed().map((t) => t.ms), [10], "one timer for the burst");
    assert.deepEqual(appended, [], "nothing stored before the window ends");
    clock.now += 10;
    manual.fire();
    await settle();
    assert.deepEqual(appended, [3]);
    // More events 30 ms after that append began: they wait for the rest of the spacing.
    clock.now += 30;
    writer.publish(joined(3));
    writer.publish(joined(4));
    assert.deepEqual(manual.armed().map((t) => t.ms), [70]);
    clock.now += 70;
    manual.fire();
    await settle();
    assert.deepEqual(appended, [3, 2]);
    // After a quiet spell an event goes after the gather window alone.
    clock.now += 5_000;
    writer.publish(joined(5));
    assert.deepEqual(manual.armed().map((t) => t.ms), [10]);
    manual.fire();
    await settle();
    assert.deepEqual(appended, [3, 2, 1]);
    assert.deepEqual(seen.map((e) => e.id), [1, 2, 3, 4, 5, 6]);
  });

  it("events published while an append is in flight wait for its end, then for the spacing", async () => {
    const { writer, manual, appended, settle } = setUp(driver());
    writer.publish(joined(0));
    manual.fire();
    // The append is in flight (a real store answers on a later turn): no timer meanwhile.
    writer.publish(joined(1));
    assert.deepEqual(manual.armed(), []);
    await settle();
    assert.deepEqual(appended, [1]);
    await until(() => manual.armed().length > 0, { what: "the append's end", intervalMs: 1 });
    assert.deepEqual(manual.armed().map((t) => t.ms), [100], "armed by the append's end");
    writer.publish(joined(2));
    assert.equal(manual.armed().length, 1, "one timer, not one per event");
  });

  it("a whole append's worth of events goes at once, without the spacing, but not within publish", async () => {
    const { writer, manual, appended, seen, settle } = setUp(driver());
    const batch = MAX_EVENTS_PER_APPEND;
    for (let i = 0; i < batch - 1; i++) writer.publish(joined(i));
    assert.deepEqual(manual.armed().map((t) => t.ms), [10]);
    writer.publish(joined(batch - 1));
    assert.deepEqual(manual.armed().map((t) => t.ms), [0], "the window's timer is replaced");
    assert.deepEqual(appended, [], "publishing never runs the append itself");
    manual.fire();
    await settle();
    assert.deepEqual(appended, [batch]);
    assert.equal(seen.length, batch);
  });

  it("an append takes at most its bytes' worth of log lines", async () => {
    const { writer, manual, appended, settle } = setUp(driver());
    const line = "x".repeat(Math.ceil(MAX_BYTES_PER_APPEND * 0.4));
    const log = (i: number) => ({
      type: "job.log" as const,
      runId: "r",
      jobId: `j${i}`,
      lines: [line],
    });
    writer.publish(log(0));
    writer.publish(log(1));
    assert.deepEqual(manual.armed().map((t) => t.ms), [10], "two fit in one append");
    writer.publish(log(2));
    assert.deepEqual(manual.armed().map((t) => t.ms), [0], "past the bytes: at once");
    writer.publish(log(3));
    assert.deepEqual(manual.armed().map((t) => t.ms), [0], "armed once, not again per event");
    manual.fire();
    await settle();
    assert.deepEqual(appended, [2], "the two that fit");
    await until(() => manual.armed().length > 0, { what: "the append's end", intervalMs: 1 });
    assert.deepEqual(manual.armed().map((t) => t.ms), [100], "the other two wait for the spacing");
    await writer.flush();
    assert.deepEqual(appended, [2, 2]);
  });

  it("measures the spacing on its monotonic clock, not on the events' clock", async () => {
    const clock = { now: 0, monotonic: 0 };
    const manual = new ManualTimers();
    const appended: number[] = [];
    const writer = new EventWriter(countingLog(driver(), (n) => appended.push(n)), {
      now: () => clock.now,
      monotonic: () => clock.monotonic,
      timers: manual.timers,
    });
    writer.publish(joined(0));
    manual.fire();
    await until(() => appended.length === 1, { what: "the first append", intervalMs: 1 });
    // The wall clock jumps an hour on: the events keep coming, so the spacing still holds.
    clock.now += 3_600_000;
    clock.monotonic += 30;
    await writer.flush().then(() => writer.publish(joined(1)));
    assert.deepEqual(manual.armed().map((t) => t.ms), [70]);
    await writer.flush();
  });

  it("waits at most the spacing, whatever its clock does", async () => {
    const { writer, clock, manual, settle } = setUp(driver());
    writer.publish(joined(0));
    manual.fire();
    await settle();
    // The clock steps back an hour: the next append still waits no more than the spacing.
    clock.now -= 3_600_000;
    writer.publish(joined(1));
    assert.deepEqual(manual.armed().map((t) => t.ms), [100]);
    await writer.flush();
  });

  it("flush stores at once, whatever the spacing, and leaves no timer armed", async () => {
    const { writer, manual, appended, seen } = setUp(driver());
    writer.publish(joined(0));
    manual.fire();
    writer.publish(joined(1));
    writer.publish(joined(2));
    await writer.flush();
    assert.deepEqual(appended, [1, 2]);
    assert.deepEqual(seen.map((e) => e.id), [1, 2, 3]);
    assert.deepEqual(manual.armed(), [], "nothing left to keep the process alive");
  });

  it("refuses a negative or endless spacing or gather window", () => {
    const log = new EventLog(driver(), { repo: "web" });
    assert.throws(() => new EventWriter(log, { spacingMs: -1 }), /spacingMs must be a finite/);
    assert.throws(() => new EventWriter(log, { spacingMs: Number.NaN }), /spacingMs/);
    assert.throws(() => new EventWriter(log, { spacingMs: Infinity }), /spacingMs/);
    assert.throws(() => new EventWriter(log, { gatherMs: Infinity }), /gatherMs must be a finite/);
  });
});
