/**
 * One corrupted service record, through `dist/ays` on both stores (build it first:
 * `node_modules/.bin/bun build.ts`): its bytes are overwritten directly in the store (SQLite:
 * UPDATE of its row; Redis: SET of its key). `list` and `show` show the other services, mark
 * the broken one by key and name and end with exit 4; `run` exits 4 naming the record and
 * leaves the store as it was; `restore` and `delete` of the broken service work around it, and
 * `restore` also rebuilds a corrupted actor record
 * (docs/store.md, "A corrupted record").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type BackendRepo, BACKENDS, openBackendRepo } from "../helpers/mod.ts";
import { serviceKey } from "../../src/model/names.ts";

const INFRA = fileURLToPath(new URL("../fixtures/repos/infra/", import.meta.url));
const NAME = "infra";
const BROKEN_KEY = serviceKey(NAME, "node", "web2");
const BROKEN_RECORD = `service:${BROKEN_KEY}`;
/** Not a Cap'n Proto message: too short for its own segment table. */
const GARBAGE = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2]);

/** Overwrites the bytes of `key` in the store of `setup`, bypassing ays. */
async function overwrite(setup: BackendRepo, key: string, bytes: Uint8Array): Promise<void> {
  if (setup.redis) {
    const redis = new Redis(setup.redis.port, "127.0.0.1");
    try {
      assert.equal(await redis.exists(`ays:${NAME}:${key}`), 1, `no key ${key}`);
      await redis.set(`ays:${NAME}:${key}`, Buffer.from(bytes));
    } finally {
      redis.disconnect();
    }
    return;
  }
  const db = new DatabaseSync(join(setup.repo, ".ays", "store.db"));
  try {
    const result = db.prepare("UPDATE kv SET value = ? WHERE ns = ? AND key = ?")
      .run(bytes, NAME, key);
    assert.equal(Number(result.changes), 1, `no row ${key}`);
  } finally {
    db.close();
  }
}

/** Every key and value of the repository in the store, as text (sorted). */
async function dump(setup: BackendRepo): Promise<string[]> {
  if (setup.redis) {
    const redis = new Redis(setup.redis.port, "127.0.0.1");
    try {
      const keys = (await redis.keys(`ays:${NAME}:*`)).sort();
      const rows: string[] = [];
      for (const key of keys) {
        const type = await redis.type(key);
        const value = type === "string"
          ? (await redis.getBuffer(key))!.toString("hex")
          : type === "zset"
          ? (await redis.zrange(key, "0", "-1")).join(",")
          : type;
        rows.push(`${key}=${value}`);
      }
      return rows;
    } finally {
      redis.disconnect();
    }
  }
  const db = new DatabaseSync(join(setup.repo, ".ays", "store.db"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT key, value FROM kv WHERE ns = ? ORDER BY key").all(NAME) as {
      key: string;
      value: Uint8Array;
    }[];
    return rows.map((row) => `${row.key}=${Buffer.from(row.value).toString("hex")}`);
  } finally {
    db.close();
  }
}

/** The keys of `rows` (from {@link dump}) that mention the broken service's key. */
function brokenKeys(rows: readonly string[]): string[] {
  return rows.map((row) => row.slice(0, row.indexOf("="))).filter((key) =>
    key.includes(BROKEN_KEY)
  );
}

const NAMED = new RegExp(
  `record service:${BROKEN_KEY} \\(service node!web2\\) is corrupted: malformed Cap'n Proto`,
);

for (const backend of BACKENDS) {
  describe(`dist/ays with a corrupted service record (${backend})`, () => {
    let setup: BackendRepo;
    before(async () => {
      setup = await openBackendRepo(backend, {
        fixture: INFRA,
        name: NAME,
        prefix: "ays-e2e-corrupt-",
      });
      await setup.ok("blueprint");
      await overwrite(setup, BROKEN_RECORD, GARBAGE);
    });
    after(async () => {
      await setup?.close();
    });

    it("list shows the other services, marks the broken one, then exits 4", async () => {
      const listed = await setup.ays("list");
      assert.equal(listed.code, 4, listed.stderr);
      assert.match(listed.stdout, /^node!web2\s+\?\s+CORRUPTED\s/m);
      for (const name of ["datacenter!dc1", "db!main", "node!web1", "web!shop"]) {
        assert.match(listed.stdout, new RegExp(`^${name}\\s`, "m"));
      }
      assert.match(listed.stderr, NAMED);
      assert.match(listed.stderr, /'ays delete node!web2 --yes' removes it/);
      assert.doesNotMatch(listed.stderr, /internal error|\n\s+at /);

      const json = await setup.ays("list", "--json");
      assert.equal(json.code, 4, json.stderr);
      const entries = JSON.parse(json.stdout) as { role: string; name: string }[];
      assert.equal(entries.length, 9);
      assert.ok(!entries.some((e) => e.role === "node" && e.name === "web2"));
      assert.match(json.stderr, NAMED);
    });

    it("show shows the others and exits 4; show of the broken one names it", async () => {
      const all = await setup.ays("show");
      assert.equal(all.code, 4, all.stderr);
      assert.match(all.stdout, /^db!main$/m);
      assert.match(all.stdout, /^node!web1$/m);
      assert.match(all.stderr, NAMED);

      const broken = await setup.ays("show", "node!web2");
      assert.equal(broken.code, 4, broken.stderr);
      assert.equal(broken.stdout, "");
      assert.match(broken.stderr, NAMED);

      const fine = await setup.ays("show", "db!main");
      assert.equal(fine.code, 0, fine.stderr);
      assert.match(fine.stdout, /^db!main$/m);
    });

    it("run exits 4 naming the record and leaves the store as it was", async () => {
      const before = await dump(setup);
      const ran = await setup.ays("run");
      assert.equal(ran.code, 4, ran.stderr);
      assert.match(ran.stderr, new RegExp(`record service:${BROKEN_KEY} is corrupted`));
      assert.match(ran.stderr, /'ays restore' rebuilds the store's actors and services from the/);
      assert.doesNotMatch(ran.stderr, /internal error|\n\s+at /);
      assert.deepEqual(await dump(setup), before);
    });

    it("restore rebuilds the broken record from the mirror", async () => {
      const restored = await setup.ays("restore");
      assert.equal(restored.code, 0, restored.stderr);
      const entries = await setup.json<{ role: string; name: string; parent: string }[]>("list");
      assert.equal(entries.length, 10);
      const web2 = entries.find((e) => e.role === "node" && e.name === "web2");
      assert.equal(web2?.parent, "datacenter!dc1");
    });

    it("a corrupted actor record: exit 4 naming it, restore rebuilds it", async () => {
      const before = await dump(setup);
      await overwrite(setup, "actor:db", GARBAGE);
      const shown = await setup.ays("show");
      assert.equal(shown.code, 4, shown.stderr);
      assert.match(shown.stderr, /record actor:db is corrupted: malformed Cap'n Proto/);
      assert.match(shown.stderr, /'ays restore' rebuilds the store's actors and services/);
      assert.doesNotMatch(shown.stderr, /ays delete|internal error|\n\s+at /);
      // list reads no actor (unless its -r names a role no service has, docs/store.md).
      assert.equal((await setup.json<unknown[]>("list")).length, 10);
      const unknownRole = await setup.ays("list", "-r", "nosuch");
      assert.equal(unknownRole.code, 4, unknownRole.stderr);
      assert.match(unknownRole.stderr, /record actor:db is corrupted/);
      await setup.ok("restore");
      assert.equal((await setup.json<unknown[]>("list")).length, 10);
      // Records as they were (Redis also keeps the id of the restore's batch, for reconnects).
      const records = (rows: string[]) => rows.filter((row) => !row.includes(":~batch:"));
      assert.deepEqual(records(await dump(setup)), records(before));
    });

    it("delete of the broken service removes it with its index entries", async () => {
      await overwrite(setup, BROKEN_RECORD, GARBAGE);
      assert.ok(brokenKeys(await dump(setup)).length >= 2, "record and index entries");
      const deleted = await setup.ays("delete", "node!web2", "--yes");
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /^deleted node!web2$/m);
      assert.deepEqual(brokenKeys(await dump(setup)), []);
      const entries = await setup.json<{ role: string; name: string; consumers: string[] }[]>(
        "list",
      );
      assert.equal(entries.length, 9);
      for (const entry of entries) assert.ok(!entry.consumers.includes("node!web2"), entry.name);
      await setup.ok("run");
    });
  });
}
