import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type RedisServer, startRedis } from "./redis_server.ts";

describe("startRedis", () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.close();
  });

  it("serves a private redis on loopback that keeps data across a restart", async () => {
    assert.match(server.url, /^redis:\/\/127\.0\.0\.1:\d+\/0$/);
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await client.set("ays:test", "v1");
    client.disconnect();
    await server.restart();
    const again = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await again.connect();
    assert.equal(await again.get("ays:test"), "v1");
    again.disconnect();
  });
});
