/**
 * The one conformance suite every store driver must pass, run against each backend by
 * `sqlite_test.ts` and `redis_test.ts`.
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { InputError } from "../../src/errors.ts";
import type { BatchOp, StoreDriver } from "../../src/store/driver.ts";
import { currentHolder, thisHost } from "../../src/store/holder.ts";
import { StoreLostError } from "../../src/store/store_lost.ts";
import { type ChildStoreSpec, deadPid, startStoreChild } from "./child.ts";

/** A store under test. */
export interface StoreFixture {
  /** Opens a driver on the store, bound to `namespace`. */
  open(namespace: string): Promise<StoreDriver>;
  /** How a child process opens the same store. */
  child: ChildStoreSpec;
  /**
   * Removes every record of `namespace` behind the drivers' backs, as a Redis without
   * persistence does when it restarts.
   */
  wipe(namespace: string): Promise<void>;
  /** Removes everything the fixture made. */
  teardown(): Promise<void>;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (value: string) => new TextEncoder().encode(value);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let counter = 0;
function freshNamespace(): string {
  counter += 1;
  return `t${counter}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs the conformance suite against the store `setup` makes. */
export function storeConformance(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    const opened: StoreDriver[] = [];
    const open = async (namespace = freshNamespace()) => {
      const driver = await fixture.open(namespace);
      opened.push(driver);
      return driver;
    };

    before(async () => {
      fixture = await setup();
    });
    after(async () => {
      for (const driver of opened) await driver.close();
      await fixture.teardown();
    });

    describe("keys and values", () => {
      it("gets, sets and deletes bytes", async () => {
        const store = await open();
        assert.equal(await store.get("a"), null);
        const value = bytes(0, 1, 255, 0, 128);
        await store.set("a", value);
        assert.deepEqual(await store.get("a"), value);
        await store.set("a", bytes(7));
        assert.deepEqual(await store.get("a"), bytes(7));
        assert.equal(await store.delete("a"), true);
        assert.equal(await store.delete("a"), false);
        assert.equal(await store.get("a"), null);
      });

      it("stores an empty value as an empty value, not as missing", async () => {
        const store = await open();
        await store.set("empty", new Uint8Array());
        assert.deepEqual(await store.get("empty"), new Uint8Array());
      });

      it("gets many values in order, null for missing ones", async () => {
        const store = await open();
        await store.set("x:1", text("one"));
        await store.set("x:3", text("three"));
        assert.deepEqual(await store.getMany(["x:3", "x:2", "x:1"]), [
          text("three"),
          null,
          text("one"),
        ]);
        assert.deepEqual(await store.getMany([]), []);
      });

      it("lists keys and key/value pairs by prefix, sorted", async () => {
        const store = await open();
        for (const key of ["service:b", "service:a", "service:ä", "serviceX", "actor:a"]) {
          await store.set(key, text(key));
        }
        assert.deepEqual(await store.listKeys("service:"), ["service:a", "service:b", "service:ä"]);
        assert.deepEqual(
          await store.getByPrefix("service:"),
          ["service:a", "service:b", "service:ä"].map((key) => ({ key, value: text(key) })),
        );
        assert.deepEqual(await store.listKeys("nothing:"), []);
        assert.deepEqual((await store.listKeys("")).length, 5);
      });

      it("refuses empty keys and the reserved ~ prefix", async () => {
        const store = await open();
        await assert.rejects(store.set("", bytes(1)), InputError);
        await assert.rejects(store.set("~keys", bytes(1)), InputError);
      });

      it("keeps namespaces apart", async () => {
        const one = await open();
        const two = await open();
        await one.set("service:a", text("one"));
        assert.equal(await two.get("service:a"), null);
        assert.deepEqual(await two.listKeys(""), []);
      });
    });

    describe("atomic batches", () => {
      it("applies sets and deletes in order", async () => {
        const store = await open();
        await store.set("gone", text("x"));
        const ok = await store.batch([
          { op: "set", key: "k1", value: text("1") },
          { op: "set", key: "k2", value: text("2") },
          { op: "delete", key: "gone" },
          { op: "set", key: "k1", value: text("1b") },
        ]);
        assert.equal(ok, true);
        assert.deepEqual(await store.getMany(["k1", "k2", "gone"]), [text("1b"), text("2"), null]);
        assert.deepEqual(await store.listKeys("k"), ["k1", "k2"]);
      });

      it("applies nothing when a guard does not hold", async () => {
        const store = await open();
        await store.set("version", text("1"));
        const ops: BatchOp[] = [
          { op: "set", key: "a", value: text("a") },
          { op: "set", key: "version", value: text("2") },
        ];
        assert.equal(
          await store.batch(ops, { guards: [{ key: "version", value: text("0") }] }),
          false,
        );
        assert.equal(await store.get("a"), null);
        assert.equal(
          await store.batch(ops, { guards: [{ key: "missing", value: text("x") }] }),
          false,
        );
        assert.equal(await store.batch(ops, { guards: [{ key: "a", value: null }] }), true);
        assert.deepEqual(await store.get("version"), text("2"));
        assert.equal(await store.batch(ops, { guards: [{ key: "a", value: null }] }), false);
      });

      it("does not apply a batch twice when it is sent again with the same id", async () => {
        const store = await open();
        const batch: BatchOp[] = [{ op: "set", key: "k", value: text("from batch") }];
        assert.equal(await store.batch(batch, { id: "b-1" }), true);
        await store.set("k", text("written later"));
        assert.equal(await store.batch(batch, { id: "b-1" }), true);
        assert.deepEqual(await store.get("k"), text("written later"));
      });

      it("two processes writing at once both get all their writes in", async () => {
        const namespace = freshNamespace();
        const store = await open(namespace);
        const child = startStoreChild({
          store: fixture.child,
          namespace,
          action: "write-many",
          batches: 150,
          size: 20,
        });
        try {
          await child.waitFor("started");
          for (let i = 0; i < 300; i++) await store.set(`parent:${i}`, bytes(i % 256));
          await child.waitFor("done");
        } finally {
          await child.kill();
        }
        assert.equal((await store.listKeys("parent:")).length, 300);
        assert.equal((await store.listKeys("child:")).length, 150 * 20);
      });

      it("writes a large batch (20,000 keys) as one step", async () => {
        const store = await open();
        const ops: BatchOp[] = [];
        for (let i = 0; i < 20_000; i++) {
          ops.push({ op: "set", key: `big:${String(i).padStart(5, "0")}`, value: bytes(i % 256) });
        }
        assert.equal(await store.batch(ops), true);
        const all = await store.getByPrefix("big:");
        assert.equal(all.length, 20_000);
        assert.deepEqual(all[257], { key: "big:00257", value: bytes(1) });
      });
    });

    describe("locks", () => {
      it("is held by one holder; the other learns who holds it", async () => {
        const store = await open();
        const a = currentHolder("holder-a");
        const b = currentHolder("holder-b");
        const first = await store.acquireLock("run", a, 10_000);
        assert.equal(first.acquired, true);
        const second = await store.acquireLock("run", b, 10_000);
        assert.equal(second.acquired, false);
        assert.deepEqual(second.lock.holder, a);
        assert.ok(second.lock.expiresAt > Date.now() - 1000);
        const read = await store.readLock("run");
        assert.deepEqual(read?.holder, a);
        // Re-acquiring by the same holder succeeds (a re-sent acquire is harmless).
        assert.equal((await store.acquireLock("run", a, 10_000)).acquired, true);
      });

      it("heart-beats and releases only for its holder", async () => {
        const store = await open();
        const a = currentHolder("holder-a");
        await store.acquireLock("run", a, 10_000);
        assert.equal(await store.heartbeatLock("run", "someone-else", 10_000), false);
        assert.equal(await store.heartbeatLock("run", a.id, 10_000), true);
        assert.equal(await store.releaseLock("run", "someone-else"), false);
        assert.equal(await store.releaseLock("run", a.id), true);
        assert.equal(await store.readLock("run"), null);
        assert.equal((await store.acquireLock("run", currentHolder("b"), 10_000)).acquired, true);
      });

      it("takes over at once a lock whose holder on this host is dead", async () => {
        const store = await open();
        const dead = { pid: deadPid(), host: thisHost(), id: "dead-holder" };
        assert.equal((await store.acquireLock("run", dead, 60_000)).acquired, true);
        const attempt = await store.acquireLock("run", currentHolder("me"), 60_000);
        assert.equal(attempt.acquired, true);
        assert.deepEqual(attempt.acquired && attempt.tookOverFrom, dead);
      });

      it("a holder elsewhere that stops heart-beating loses the lock after its TTL", async () => {
        const store = await open();
        const remote = { pid: 1, host: "another-host.example", id: "remote" };
        assert.equal((await store.acquireLock("run", remote, 1_000)).acquired, true);
        const early = await store.acquireLock("run", currentHolder("me"), 10_000);
        assert.equal(early.acquired, false);
        assert.deepEqual(early.lock.holder, remote);
        await sleep(1_300);
        assert.equal(await store.readLock("run"), null);
        const late = await store.acquireLock("run", currentHolder("me"), 10_000);
        assert.equal(late.acquired, true);
        // The lapsed holder cannot revive it.
        assert.equal(await store.heartbeatLock("run", remote.id, 10_000), false);
      });

      it("between processes: the loser learns the holder; kill -9 frees it at once", async () => {
        const namespace = freshNamespace();
        const store = await open(namespace);
        const child = startStoreChild({
          store: fixture.child,
          namespace,
          action: "lock",
          name: "run",
          holderId: "child",
          ttlMs: 60_000,
        });
        try {
          const event = await child.waitFor("lock");
          assert.equal(event.acquired, true);
          const lost = await store.acquireLock("run", currentHolder("parent"), 60_000);
          assert.equal(lost.acquired, false);
          assert.equal(lost.lock.holder.pid, child.pid);
          assert.equal(lost.lock.holder.id, "child");
        } finally {
          await child.kill();
        }
        const won = await store.acquireLock("run", currentHolder("parent"), 60_000);
        assert.equal(won.acquired, true);
        assert.equal(won.acquired && won.tookOverFrom?.pid, child.pid);
      });
    });

    describe("queues", () => {
      it("delivers in order and forgets acknowledged items", async () => {
        const store = await open();
        const me = currentHolder("consumer");
        assert.equal(await store.pop("q", me, 10_000), null);
        const id1 = await store.push("q", text("one"));
        const id2 = await store.push("q", text("two"));
        assert.notEqual(id1, id2);
        assert.deepEqual(await store.queueStats("q"), { pending: 2, inFlight: 0 });
        const first = await store.pop("q", me, 10_000);
        assert.equal(first?.id, id1);
        assert.deepEqual(first?.value, text("one"));
        assert.equal(first?.deliveries, 1);
        assert.deepEqual(await store.queueStats("q"), { pending: 1, inFlight: 1 });
        assert.equal(await store.ack("q", id1, me.id), true);
        assert.equal(await store.ack("q", id1, me.id), false);
        const second = await store.pop("q", me, 10_000);
        assert.equal(second?.id, id2);
        assert.equal(await store.ack("q", id2, "not-the-consumer"), false);
        assert.equal(await store.ack("q", id2, me.id), true);
        assert.deepEqual(await store.queueStats("q"), { pending: 0, inFlight: 0 });
      });

      it("delivers again an item whose consumer elsewhere stopped heart-beating", async () => {
        const store = await open();
        const remote = { pid: 1, host: "another-host.example", id: "remote-consumer" };
        const id = await store.push("q", text("job"));
        await store.push("q", text("later"));
        assert.equal((await store.pop("q", remote, 1_000))?.id, id);
        const me = currentHolder("me");
        // Within the lease the next consumer gets the next item, not the held one.
        const other = await store.pop("q", me, 10_000);
        assert.deepEqual(other?.value, text("later"));
        await store.ack("q", other!.id, me.id);
        await sleep(1_300);
        const again = await store.pop("q", me, 10_000);
        assert.equal(again?.id, id);
        assert.equal(again?.deliveries, 2);
        assert.equal(await store.ack("q", id, remote.id), false);
        assert.equal(await store.ack("q", id, me.id), true);
      });

      it("takes back a released item and hands it out next", async () => {
        const store = await open();
        const me = currentHolder("me");
        const first = await store.push("q", text("first"));
        await store.push("q", text("second"));
        await store.pop("q", me, 10_000);
        assert.equal(await store.release("q", first, "someone-else"), false);
        assert.equal(await store.release("q", first, me.id), true);
        const again = await store.pop("q", me, 10_000);
        assert.equal(again?.id, first);
        assert.equal(again?.deliveries, 2);
      });

      it("keeps the item while the consumer heart-beats", async () => {
        const store = await open();
        const worker = currentHolder("worker");
        await store.push("q", text("long job"));
        // Margins of seconds, so a loaded machine's pauses do not lapse the lease.
        const item = await store.pop("q", worker, 1_000);
        for (let i = 0; i < 4; i++) {
          await sleep(300);
          assert.equal(await store.heartbeatQueue("q", worker.id, 1_000), 1);
        }
        assert.equal(await store.pop("q", currentHolder("thief"), 10_000), null);
        assert.equal(await store.ack("q", item!.id, worker.id), true);
      });

      it("delivers again at once an item of a consumer killed with kill -9", async () => {
        const namespace = freshNamespace();
        const store = await open(namespace);
        const id = await store.push("requests", text("run request"));
        const child = startStoreChild({
          store: fixture.child,
          namespace,
          action: "pop",
          queue: "requests",
          holderId: "daemon-1",
          leaseMs: 60_000,
        });
        try {
          const event = await child.waitFor("popped");
          assert.equal(event.id, id);
          assert.equal(await store.pop("requests", currentHolder("daemon-2"), 60_000), null);
        } finally {
          await child.kill();
        }
        const me = currentHolder("daemon-2");
        const again = await store.pop("requests", me, 60_000);
        assert.equal(again?.id, id);
        assert.deepEqual(again?.value, text("run request"));
        assert.equal(again?.deliveries, 2);
        assert.equal(await store.ack("requests", id, me.id), true);
      });
    });

    describe("logs and layout version", () => {
      it("appends, caps and deletes log lines", async () => {
        const store = await open();
        assert.deepEqual(await store.readLog("job:1"), []);
        for (let i = 0; i < 7; i++) await store.appendLog("job:1", `line ${i}`, { maxLines: 5 });
        assert.deepEqual(await store.readLog("job:1"), [2, 3, 4, 5, 6].map((i) => `line ${i}`));
        await store.appendLog("job:2", "other");
        await store.appendLog("job:2", ["several", "at once"], { maxLines: 2 });
        await store.appendLog("job:2", []);
        assert.deepEqual(await store.readLog("job:2"), ["several", "at once"]);
        await store.appendLog("job:2", "other");
        await store.deleteLog("job:1");
        assert.deepEqual(await store.readLog("job:1"), []);
        assert.deepEqual(await store.readLog("job:2"), ["several", "at once", "other"]);
      });

      it("records the layout version", async () => {
        const store = await open();
        assert.equal(await store.getLayoutVersion(), null);
        await store.setLayoutVersion(3);
        assert.equal(await store.getLayoutVersion(), 3);
      });
    });

    describe("the event log", () => {
      it("gives consecutive ids from 1 and reads after an id, oldest first", async () => {
        const store = await open();
        assert.equal(await store.lastEventId(), 0);
        assert.deepEqual(await store.readEvents(0), []);
        assert.equal(await store.appendEvents(["a"]), 1);
        assert.equal(await store.appendEvents(["b", "c d", '{"x": 1}']), 2);
        assert.equal(await store.appendEvents([]), 5);
        assert.equal(await store.lastEventId(), 4);
        assert.deepEqual(await store.readEvents(0), [
          { id: 1, data: "a" },
          { id: 2, data: "b" },
          { id: 3, data: "c d" },
          { id: 4, data: '{"x": 1}' },
        ]);
        assert.deepEqual(await store.readEvents(2, { limit: 1 }), [{ id: 3, data: "c d" }]);
        assert.deepEqual(await store.readEvents(4), []);
      });

      it("caps the log and prunes it without ever reusing an id", async () => {
        const store = await open();
        for (let i = 1; i <= 7; i++) await store.appendEvents([`e${i}`], { maxEvents: 5 });
        assert.deepEqual((await store.readEvents(0)).map((e) => e.id), [3, 4, 5, 6, 7]);
        assert.equal(await store.pruneEvents(6), 3);
        assert.deepEqual((await store.readEvents(0)).map((e) => e.data), ["e6", "e7"]);
        assert.equal(await store.pruneEvents(100), 2);
        assert.deepEqual(await store.readEvents(0), []);
        assert.equal(await store.lastEventId(), 7);
        assert.equal(await store.appendEvents(["e8"]), 8);
        assert.deepEqual(await store.readEvents(0), [{ id: 8, data: "e8" }]);
      });

      it("keeps one log per repository namespace", async () => {
        const [one, two] = [await open(), await open()];
        await one.appendEvents(["one"]);
        await one.appendEvents(["one again"]);
        assert.equal(await two.appendEvents(["two"]), 1);
        assert.deepEqual(await two.readEvents(0), [{ id: 1, data: "two" }]);
        assert.equal(await one.lastEventId(), 2);
      });

      it("gives ids that do not collide when two processes append at once", async () => {
        const namespace = freshNamespace();
        const [one, two] = [await open(namespace), await open(namespace)];
        const firsts = await Promise.all([
          ...Array.from({ length: 10 }, (_, i) => one.appendEvents([`a${i}`, `a${i}'`])),
          ...Array.from({ length: 10 }, (_, i) => two.appendEvents([`b${i}`, `b${i}'`])),
        ]);
        const ids = firsts.flatMap((first) => [first, first + 1]).sort((a, b) => a - b);
        assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => i + 1));
        const stored = await one.readEvents(0);
        assert.deepEqual(stored.map((e) => e.id), ids);
        // Each append's events are consecutive.
        for (const first of firsts) {
          const a = stored.find((e) => e.id === first)!.data;
          assert.equal(stored.find((e) => e.id === first + 1)!.data, `${a}'`);
        }
      });
    });

    describe("a store that lost its data", () => {
      type Write = (store: StoreDriver) => Promise<unknown>;
      const writes: [string, Write][] = [
        ["set", (store) => store.set("after", text("x"))],
        ["delete", (store) => store.delete("before")],
        ["batch", (store) => store.batch([{ op: "set", key: "after", value: text("x") }])],
        ["appendLog", (store) => store.appendLog("job:1", "after")],
        ["appendEvents", (store) => store.appendEvents(["after"])],
        ["acquireLock", (store) => store.acquireLock("other", currentHolder(), 10_000)],
        ["heartbeatLock", (store) => store.heartbeatLock("run", "me", 10_000)],
        ["push", (store) => store.push("requests", text("after"))],
        ["setLayoutVersion", (store) => store.setLayoutVersion(1)],
      ];
      for (const [name, write] of writes) {
        it(`refuses ${name} once the layout record it saw is gone, and writes nothing`, async () => {
          const namespace = freshNamespace();
          const store = await open(namespace);
          await store.setLayoutVersion(1);
          await store.set("before", text("b"));
          await store.acquireLock("run", { ...currentHolder(), id: "me" }, 10_000);
          await fixture.wipe(namespace);
          await assert.rejects(write(store), StoreLostError);
          // Stopped for good: reads too, so nothing is taken for an empty repository.
          await assert.rejects(store.get("before"), StoreLostError);
          await assert.rejects(store.set("later", text("y")), StoreLostError);
          const fresh = await open(namespace);
          assert.deepEqual(await fresh.listKeys(""), []);
          assert.deepEqual(await fresh.readLog("job:1"), []);
          assert.deepEqual(await fresh.readEvents(0), []);
          assert.deepEqual(await fresh.queueStats("requests"), { pending: 0, inFlight: 0 });
          assert.equal(await fresh.readLock("other"), null);
          assert.equal(await fresh.getLayoutVersion(), null);
        });
      }

      it("says so when the layout version it saw is read again", async () => {
        const namespace = freshNamespace();
        const writer = await open(namespace);
        await writer.setLayoutVersion(1);
        const reader = await open(namespace);
        assert.equal(await reader.getLayoutVersion(), 1);
        await fixture.wipe(namespace);
        await assert.rejects(reader.getLayoutVersion(), (error: Error) => {
          assert.ok(error instanceof StoreLostError);
          assert.equal(error.exitCode, 4);
          assert.match(error.message, /lost its data/);
          assert.ok(error.message.includes(reader.location));
          return true;
        });
      });

      it("is not suspected by a driver that never saw a layout record", async () => {
        const namespace = freshNamespace();
        const store = await open(namespace);
        await store.set("a", text("1"));
        await fixture.wipe(namespace);
        await store.set("b", text("2"));
        await store.appendLog("job:1", "line");
        assert.deepEqual(await store.listKeys(""), ["b"]);
        assert.equal(await store.getLayoutVersion(), null);
        await store.setLayoutVersion(1);
        assert.equal(await store.getLayoutVersion(), 1);
      });
    });
  });
}
