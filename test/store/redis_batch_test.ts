/**
 * What the Redis driver's write path costs and keeps (docs/store.md, "Redis: the cost of a
 * write"), against a private real redis-server: the client traces no command nobody listens
 * to, and a batch's script keeps the prefix index and the guards exactly.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as diagnostics from "node:diagnostics_channel";
import { Redis } from "ioredis";
import type { StoreDriver } from "../../src/store/driver.ts";
import { openRedisDriver } from "../../src/store/redis.ts";
import { type RedisServer, startRedis } from "../helpers/mod.ts";

const text = (value: string) => new TextEncoder().encode(value);

describe("redis write path", () => {
  let server: RedisServer;
  let direct: Redis;
  let driver: StoreDriver;

  before(async () => {
    server = await startRedis();
    direct = new Redis(server.port, "127.0.0.1");
    driver = await openRedisDriver(server.url, { namespace: "wp" });
  });

  after(async () => {
    await driver.close();
    direct.disconnect();
    await server.close();
  });

  it("leaves ioredis' command tracing off while nobody subscribes, on while one does", async () => {
    // ioredis traces a command unless `hasSubscribers` reads false (Bun's read undefined).
    const channel = diagnostics.tracingChannel("ioredis:command");
    assert.equal(channel.hasSubscribers, false);
    const seen: string[] = [];
    const handlers = {
      start(context: unknown) {
        seen.push((context as { command: string }).command);
      },
    };
    channel.subscribe(handlers);
    try {
      await driver.set("traced", text("x"));
    } finally {
      channel.unsubscribe(handlers);
    }
    assert.ok(seen.includes("evalsha") || seen.includes("eval"), seen.join(","));
    seen.length = 0;
    await driver.set("untraced", text("y"));
    assert.deepEqual(seen, []);
  });

  it("keeps the order of sets and deletes of one key inside a batch", async () => {
    await driver.batch([
      { op: "set", key: "o:a", value: text("1") },
      { op: "delete", key: "o:a" },
      { op: "delete", key: "o:b" },
      { op: "set", key: "o:b", value: text("2") },
      { op: "set", key: "o:c", value: text("3") },
      { op: "delete", key: "o:c" },
      { op: "set", key: "o:c", value: text("4") },
      { op: "set", key: "o:d", value: text("5") },
      { op: "set", key: "o:d", value: text("6") },
    ]);
    const values = await driver.getMany(["o:a", "o:b", "o:c", "o:d"]);
    assert.deepEqual(values.map((v) => v && new TextDecoder().decode(v)), [null, "2", "4", "6"]);
    assert.deepEqual(await driver.listKeys("o:"), ["o:b", "o:c", "o:d"]);
    assert.deepEqual(await direct.zrangebylex("ays:wp:~keys", "[o:", "[o:\xff"), [
      "o:b",
      "o:c",
      "o:d",
    ]);
  });

  it("asks the server nothing about the index for keys a value guard says exist", async () => {
    await driver.batch([{ op: "set", key: "r:svc", value: text("1") }]);
    const calls = async (command: string) => {
      const info = await direct.info("commandstats");
      return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    };
    const before = { exists: await calls("exists"), zadd: await calls("zadd") };
    // A run rewriting its service: guarded on the bytes it holds, no index entry to add.
    const guards = [{ key: "r:svc", value: text("1") }];
    assert.equal(
      await driver.batch([{ op: "set", key: "r:svc", value: text("2") }], { guards }),
      true,
    );
    assert.equal(await calls("exists"), before.exists);
    assert.equal(await calls("zadd"), before.zadd);
    // A delete and a set of the same key in one batch: the index entry is there again.
    const again = [{ key: "r:svc", value: text("2") }];
    assert.equal(
      await driver.batch([
        { op: "delete", key: "r:svc" },
        { op: "set", key: "r:svc", value: text("3") },
      ], { guards: again }),
      true,
    );
    assert.deepEqual(await driver.listKeys("r:"), ["r:svc"]);
    assert.deepEqual(await driver.get("r:svc"), text("3"));
  });

  it("applies a batch of more keys and guards than one chunk of the script, or none of it", async () => {
    const n = 2_500;
    const keys = Array.from({ length: n }, (_, i) => `big:${String(i).padStart(5, "0")}`);
    await driver.batch(keys.map((key, i) => ({ op: "set", key, value: text(`v${i}`) })));
    assert.equal((await driver.listKeys("big:")).length, n);
    // Guards on every key, the last one stale: nothing is applied.
    const guards = keys.map((key, i) => ({ key, value: text(i === n - 1 ? "stale" : `v${i}`) }));
    const ops = keys.map((key) => ({ op: "delete" as const, key }));
    assert.equal(await driver.batch(ops, { guards }), false);
    assert.equal((await driver.listKeys("big:")).length, n);
    // All guards hold: every key goes, index entries too.
    guards[n - 1] = { key: keys[n - 1], value: text(`v${n - 1}`) };
    assert.equal(await driver.batch(ops, { guards }), true);
    assert.deepEqual(await driver.listKeys("big:"), []);
    assert.equal(await direct.exists(`ays:wp:${keys[0]}`, `ays:wp:${keys[n - 1]}`), 0);
  });

  it("checks guards of absent keys and of values in the order given", async () => {
    await driver.set("g:x", text("x"));
    const set = [{ op: "set" as const, key: "g:y", value: text("y") }];
    assert.equal(
      await driver.batch(set, {
        guards: [{ key: "g:none", value: null }, { key: "g:x", value: null }],
      }),
      false,
    );
    assert.equal(await driver.get("g:y"), null);
    assert.equal(
      await driver.batch(set, {
        guards: [{ key: "g:none", value: null }, { key: "g:x", value: text("x") }],
      }),
      true,
    );
    assert.deepEqual(await driver.get("g:y"), text("y"));
  });

  it("writes an empty value as an empty string, listed in the index", async () => {
    await driver.batch([{ op: "set", key: "e:1", value: new Uint8Array(0) }]);
    assert.deepEqual(await driver.get("e:1"), new Uint8Array(0));
    assert.deepEqual(await driver.listKeys("e:"), ["e:1"]);
  });

  it("writes a batch of sets only (no delete) in order: the last set of a key wins", async () => {
    assert.equal(
      await driver.batch([
        { op: "set", key: "s:a", value: text("1") },
        { op: "set", key: "s:b", value: text("2") },
        { op: "set", key: "s:a", value: text("3") },
      ]),
      true,
    );
    const values = await driver.getMany(["s:a", "s:b"]);
    assert.deepEqual(values.map((v) => v && new TextDecoder().decode(v)), ["3", "2"]);
    assert.deepEqual(await direct.zrangebylex("ays:wp:~keys", "[s:", "[s:\xff"), ["s:a", "s:b"]);
  });

  it("deletes more keys than one chunk of the script takes, with their index entries", async () => {
    const keys = Array.from({ length: 2_500 }, (_, i) => `d:${String(i).padStart(4, "0")}`);
    assert.equal(
      await driver.batch(keys.map((key) => ({ op: "set" as const, key, value: text(key) }))),
      true,
    );
    // Every other key deleted, one twice, one that never existed, then one set again.
    const gone = keys.filter((_, i) => i % 2 === 0);
    assert.equal(
      await driver.batch([
        ...gone.map((key) => ({ op: "delete" as const, key })),
        { op: "delete", key: gone[7] },
        { op: "delete", key: "d:none" },
        { op: "set", key: gone[3], value: text("again") },
      ]),
      true,
    );
    const left = keys.filter((_, i) => i % 2 === 1 || i === 6).sort();
    assert.deepEqual(await driver.listKeys("d:"), left);
    assert.deepEqual(await direct.zrangebylex("ays:wp:~keys", "[d:", "[d:\xff"), left);
    assert.equal(await direct.exists(...gone.map((key) => `ays:wp:${key}`)), 1);
    assert.deepEqual(await driver.get(gone[3]), text("again"));
    assert.equal(await driver.delete(gone[3]), true);
    assert.equal(await driver.delete(gone[3]), false);
  });

  it("reads by prefix across several MGET chunks, leaving out keys whose value vanished", async () => {
    const ops = Array.from({ length: 2_500 }, (_, i) => ({
      op: "set" as const,
      key: `p:${String(i).padStart(4, "0")}`,
      value: text(`v${i}`),
    }));
    assert.equal(await driver.batch(ops), true);
    // Gone behind the driver's back (its index entry stays): in the second chunk and the last.
    await direct.del("ays:wp:p:1500", "ays:wp:p:2499");
    const read = await driver.getByPrefix("p:");
    const expected = ops
      .filter((_, i) => i !== 1500 && i !== 2499)
      .map((op) => ({ key: op.key, value: op.value }));
    assert.equal(read.length, 2_498);
    assert.deepEqual(read, expected);
  });

  it("appends more events than one ZADD of the script takes, in order, with consecutive ids", async () => {
    const data = Array.from({ length: 2_500 }, (_, i) => JSON.stringify({ n: i }));
    const first = await driver.appendEvents(data);
    const read: { id: number; data: string }[] = [];
    for (let after = first - 1;;) {
      const page = await driver.readEvents(after, { limit: 1000 });
      if (page.length === 0) break;
      read.push(...page);
      after = page[page.length - 1].id;
    }
    assert.deepEqual(read.map((event) => event.data), data);
    assert.deepEqual(read.map((event) => event.id), data.map((_, i) => first + i));
    // The cap keeps the newest.
    const next = await driver.appendEvents(["a", "b", "c"], { maxEvents: 2 });
    const kept = await driver.readEvents(0);
    assert.deepEqual(kept, [{ id: next + 1, data: "b" }, { id: next + 2, data: "c" }]);
    // As stored (docs/store.md, "Redis key layout"): score = id, member `<id> <data>`.
    assert.deepEqual(await direct.zrange("ays:wp:~events", "0", "-1", "WITHSCORES"), [
      `${next + 1} b`,
      String(next + 1),
      `${next + 2} c`,
      String(next + 2),
    ]);
  });
});
