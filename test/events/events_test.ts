import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AysEvent,
  EventBus,
  EventLog,
  EventTail,
  EventWriter,
  findRunStart,
  followEvents,
  openRepoEvents,
} from "../../src/events/mod.ts";
import { until } from "../helpers/mod.ts";
import { countingLog, suiteDrivers } from "./event_fixture.ts";
import { eventSchema } from "./event_schema.ts";

const T0 = Date.parse("2026-12-01T15:00:00.000Z");

describe("the event model", () => {
  const driver = suiteDrivers("ays-events-model-");

  it("stamps, stores in one append per burst, then emits with the store's ids", async () => {
    const store = driver();
    let appends = 0;
    const log = countingLog(store, () => appends++);
    const bus = new EventBus();
    const seen: AysEvent[] = [];
    bus.subscribe((event) => seen.push(event));
    bus.subscribe(() => {
      throw new Error("a broken view");
    });
    const writer = new EventWriter(log, { bus, now: () => T0 });
    for (let i = 0; i < 5; i++) writer.publish({ type: "worker.joined", worker: `w${i}` });
    assert.equal(seen.length, 0, "nothing is emitted before it is stored");
    await writer.flush();
    assert.equal(appends, 1, "one append for the burst");
    assert.deepEqual(seen.map((e) => e.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(seen[0], {
      id: 1,
      type: "worker.joined",
      worker: "w0",
      time: "2026-12-01T15:00:00.000Z",
      repo: "web",
    });
    for (const event of seen) eventSchema.parse(event);
    assert.deepEqual(await log.since(0), seen);
  });

  it("skips a stored entry that is not an event, and prunes by time", async () => {
    const store = driver();
    const log = new EventLog(store, { repo: "web" });
    await store.appendEvents(["not json", "[1]"]);
    const clock = { now: T0 };
    const writer = new EventWriter(log, { now: () => clock.now });
    writer.publish({ type: "worker.joined", worker: "old" });
    await writer.flush();
    clock.now = T0 + 60_000;
    writer.publish({ type: "worker.left", worker: "new" });
    await writer.flush();
    assert.deepEqual((await log.since(0)).map((e) => e.id), [3, 4]);
    // The entries without a time and the old event go; the new one stays.
    assert.equal(await log.pruneBefore(T0 + 1000), 3);
    assert.deepEqual((await log.since(0)).map((e) => e.type), ["worker.left"]);
    assert.throws(() => new EventLog(store, { repo: "web", cap: 0 }), RangeError);
  });

  it("a tail hands this process's events on without reading them back, and fills gaps from the store", async () => {
    const store = driver();
    const events = openRepoEvents(store, { repo: "web" });
    let reads = 0;
    const log = events.log;
    const since = log.since.bind(log);
    log.since = (after, options) => (reads++, since(after, options));
    const tail = new EventTail(log, { bus: events.bus, pollMs: 60_000 });
    await tail.start();
    const got: number[] = [];
    tail.subscribe((event) => got.push(event.id));
    const readsAtStart = reads;
    events.writer.publish({ type: "worker.joined", worker: "a" });
    await events.writer.flush();
    assert.deepEqual(got, [1]);
    assert.equal(reads, readsAtStart, "no read for an event of this process");
    // Another writer on the same store: its event leaves a gap the next one reveals.
    const other = new EventWriter(new EventLog(store, { repo: "web" }));
    other.publish({ type: "worker.joined", worker: "b" });
    await other.flush();
    events.writer.publish({ type: "worker.joined", worker: "c" });
    await events.writer.flush();
    await until(() => got.length === 3, { what: "the gap to be filled" });
    assert.deepEqual(got, [1, 2, 3]);
    await tail.reached(3);
    await tail.stop();
  });

  it("follows a log from a cursor and finds where a run starts", async () => {
    const store = driver();
    const { log, writer, bus } = openRepoEvents(store, { repo: "web" });
    writer.publish({ type: "daemon.started" });
    writer.publish({ type: "run.started", runId: "R1", jobs: 1 });
    writer.publish({ type: "run.ended", runId: "R1", state: "ok", exitCode: 0, counts: { ok: 1 } });
    await writer.flush();
    assert.equal(await findRunStart(log, "R1"), 1);
    assert.equal(await findRunStart(log, "R2"), null);
    assert.equal(await findRunStart(log, "R1", { upTo: 1 }), null);
    const stop = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const event of followEvents(log, { after: 1, bus, signal: stop.signal })) {
        seen.push(event.type);
        if (seen.length === 3) stop.abort();
      }
    })();
    writer.publish({ type: "daemon.stopped" });
    await writer.flush();
    await following;
    assert.deepEqual(seen, ["run.started", "run.ended", "daemon.stopped"]);
  });
});
