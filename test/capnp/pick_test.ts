/**
 * Decoding some fields only (src/capnp/plan_pick.ts), the service summary `ays list` reads
 * (`decodeServiceSummary`), and the texts a codec shares between decodes (src/capnp/reader.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeRecord,
  decodeServiceSummary,
  encodeRecord,
  type StoredService,
} from "../../src/capnp/ays_models.ts";
import { compileCodec, parseCapnp } from "../../src/capnp/mod.ts";
import { InputError } from "../../src/errors.ts";

const SCHEMA = `@0xd1b0a8c5e7f3a201;
struct Item { name @0 :Text; size @1 :UInt32; tags @2 :List(Text); }
struct Schema {
  id @0 :Text;
  count @1 :Int64 = 5;
  items @2 :List(Item);
  main @3 :Item;
  note @4 :Text = "none";
}
`;

const value = {
  id: "a1",
  count: 7,
  items: [{ name: "x", size: 1, tags: ["t"] }, { name: "y", size: 2, tags: [] }],
  main: { name: "m", size: 3, tags: ["u", "v"] },
  note: "n",
};

describe("pick", () => {
  const file = parseCapnp(SCHEMA, { file: "pick.capnp" });

  it("decodes only the fields asked for, nested ones included, as the full decode has them", () => {
    const full = compileCodec(file);
    const picked = compileCodec(file, { pick: { note: true, items: { size: true }, id: true } });
    const bytes = full.encode(value);
    assert.deepEqual(picked.decode(bytes), {
      id: "a1",
      items: [{ size: 1 }, { size: 2 }],
      note: "n",
    });
    // Declaration order, whatever the order of the pick.
    assert.deepEqual(Object.keys(picked.decode(bytes)), ["id", "items", "note"]);
    // A field absent from the message reads its default, as in the full decode.
    const empty = full.encode({});
    assert.deepEqual(picked.decode(empty), { id: "", items: [], note: "none" });
    assert.deepEqual(
      compileCodec(file, { pick: { main: { tags: true }, count: true } }).decode(bytes),
      { count: 7, main: { tags: ["u", "v"] } },
    );
    // Encoding takes every field still.
    assert.deepEqual(full.decode(picked.encode(value)), value);
  });

  it("refuses a field the struct lacks, or a nested pick of a field without fields", () => {
    assert.throws(() => compileCodec(file, { pick: { nope: true } }), InputError);
    assert.throws(() => compileCodec(file, { pick: { id: { x: true } } }), InputError);
  });

  it("still refuses a malformed message", () => {
    const picked = compileCodec(file, { pick: { id: true } });
    assert.throws(() => picked.decode(new Uint8Array([1, 2, 3])), /malformed/);
  });
});

describe("texts shared between decodes", () => {
  const file = parseCapnp(SCHEMA, { file: "texts.capnp" });

  it("are the texts of each message, also when two texts' hashes collide", () => {
    const codec = compileCodec(file);
    // "Aa" and "BB" have the same 31-based hash: the second must not read as the first.
    const names = ["Aa", "BB", "Aa", "BB", "ok", "é", "Aa"];
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        const decoded = codec.decode(codec.encode({ id: name, main: { name, tags: [name] } }));
        assert.equal(decoded.id, name);
        assert.deepEqual(decoded.main, { name, size: 0, tags: [name] });
      }
    }
    // More distinct texts than are kept: every one still reads right.
    for (let i = 0; i < 5000; i++) {
      assert.equal(codec.decode(codec.encode({ id: `n${i}` })).id, `n${i}`);
    }
  });
});

describe("decodeServiceSummary", () => {
  const service: StoredService = {
    key: "0123456789abcdef0123456789abcdef",
    name: "web1",
    actor: "node.ssh",
    role: "node",
    parent: "dc!east",
    producers: { sshkey: ["sshkey!k1", "sshkey!k2"], dc: ["dc!east"] },
    consumers: ["app!a", "app!b"],
    data: new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    changed: true,
    actions: {
      install: { state: "ok", period: 0, lastRun: 1700000000000, lastJob: "j1" },
      monitor: { state: "scheduled", period: 60, lastRun: null, lastJob: null, args: { a: 1 } },
    },
    eventFilters: [{ channel: "c" }],
  };

  it("is the record's names, relations, changed flag and action states", () => {
    const bytes = encodeRecord("service", service);
    const full = decodeRecord("service", bytes);
    const summary = decodeServiceSummary(bytes);
    assert.deepEqual(summary, {
      key: full.key,
      name: full.name,
      actor: full.actor,
      role: full.role,
      parent: full.parent,
      producers: full.producers,
      consumers: full.consumers,
      changed: full.changed,
      actions: { install: { state: "ok" }, monitor: { state: "scheduled" } },
    });
    const bare = decodeServiceSummary(encodeRecord("service", { ...service, parent: null }));
    assert.equal(bare.parent, null);
  });

  it("refuses garbage as decodeRecord does", () => {
    const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2]);
    assert.throws(() => decodeServiceSummary(garbage), InputError);
  });
});
