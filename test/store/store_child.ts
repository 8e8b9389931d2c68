/**
 * A second process for the store tests: opens the store described by its JSON argument, does
 * one thing, reports on stdout (one JSON line per event) and then waits to be killed.
 *
 * @module
 */
import { writeSync } from "node:fs";
import process from "node:process";
import type { StoreDriver } from "../../src/store/driver.ts";
import { currentHolder } from "../../src/store/holder.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { openSqliteDriver } from "../../src/store/sqlite.ts";
import type { ChildTask } from "./child.ts";

function say(event: Record<string, unknown>): void {
  // Synchronous: the parent may SIGKILL us right after reading it.
  writeSync(1, JSON.stringify(event) + "\n");
}

function blockForever(): never {
  // Blocks the thread inside whatever is running (e.g. an open transaction).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  throw new Error("unreachable");
}

function* blockingOps(count: number) {
  for (let i = 0; i < count; i++) {
    if (i === Math.floor(count / 2)) {
      say({ event: "halfway", written: i });
      blockForever();
    }
    yield { op: "set" as const, key: `atom:${i}`, value: new Uint8Array([i % 256]) };
  }
}

const task = JSON.parse(process.argv[process.argv.length - 1]) as ChildTask;
const driver: StoreDriver = task.store.kind === "sqlite"
  ? openSqliteDriver(task.store.path, { namespace: task.namespace })
  : await openRedisDriver(task.store.url, { namespace: task.namespace });

switch (task.action) {
  case "lock": {
    const holder = currentHolder(task.holderId);
    const attempt = await driver.acquireLock(task.name, holder, task.ttlMs);
    say({ event: "lock", acquired: attempt.acquired, holder: attempt.lock.holder });
    setInterval(() => driver.heartbeatLock(task.name, holder.id, task.ttlMs), task.ttlMs / 3);
    break;
  }
  case "pop": {
    const item = await driver.pop(task.queue, currentHolder(task.holderId), task.leaseMs);
    say({ event: "popped", id: item?.id ?? null, deliveries: item?.deliveries ?? 0 });
    setInterval(() => driver.heartbeatQueue(task.queue, task.holderId, task.leaseMs), 100);
    break;
  }
  case "write-many": {
    say({ event: "started" });
    for (let b = 0; b < task.batches; b++) {
      const ops = Array.from({ length: task.size }, (_, i) => ({
        op: "set" as const,
        key: `child:${b}:${i}`,
        value: new Uint8Array([b % 256]),
      }));
      await driver.batch(ops);
    }
    say({ event: "done" });
    break;
  }
  case "batch-block": {
    // The ops are produced while the transaction is open; halfway the producer reports and
    // blocks, so the parent can kill the process in the middle of the batch.
    await driver.batch(blockingOps(task.count));
    say({ event: "done" });
    break;
  }
}
setInterval(() => {}, 60_000);
