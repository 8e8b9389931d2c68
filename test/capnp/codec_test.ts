import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { compileCodec, emitCapnp, parseCapnp, type SchemaFile } from "../../src/capnp/mod.ts";
import { InputError } from "../../src/errors.ts";
import { projectRoot } from "../helpers/mod.ts";
import {
  capnp,
  capnpOk,
  fromToolJson,
  jsonLines,
  scratchDir,
  splitStream,
  toCapnpText,
  withDefaults,
} from "./capnp_tool.ts";
import { randomSchema, randomStructValue } from "./random_schema.ts";

const fixtures = join(projectRoot, "test", "fixtures", "capnp");

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Round trips `values` of `struct` through our codec and the official tool in both
 * directions, packed and unpacked, and checks every value arrives intact.
 */
function checkAgainstTool(
  file: SchemaFile,
  schemaPath: string,
  struct: string,
  values: Record<string, unknown>[],
  label: string,
): void {
  const codec = compileCodec(file, { struct });
  const expected = values.map((v) => withDefaults(file, struct, v));

  // Ours → ours.
  for (let i = 0; i < values.length; i++) {
    assert.deepEqual(codec.decode(codec.encode(values[i])), expected[i], `${label} #${i} ours`);
    const packed = codec.encode(values[i], { packed: true });
    assert.deepEqual(codec.decode(packed, { packed: true }), expected[i], `${label} #${i} packed`);
  }

  // Ours → capnp (unpacked and packed streams).
  const stream = concat(values.map((v) => codec.encode(v)));
  const fromTool = jsonLines(
    capnpOk(["convert", "--quiet", "binary:json", "--short", schemaPath, struct], stream),
  );
  assert.equal(fromTool.length, values.length);
  fromTool.forEach((json, i) =>
    assert.deepEqual(fromToolJson(file, struct, json), expected[i], `${label} #${i} capnp decode`)
  );
  const packedStream = concat(values.map((v) => codec.encode(v, { packed: true })));
  const fromToolPacked = jsonLines(
    capnpOk(["convert", "--quiet", "packed:json", "--short", schemaPath, struct], packedStream),
  );
  fromToolPacked.forEach((json, i) =>
    assert.deepEqual(fromToolJson(file, struct, json), expected[i], `${label} #${i} packed decode`)
  );
  // capnp re-writes a message it converts: ours come out byte for byte the same, so our
  // writer lays out objects exactly as capnp's own does.
  assert.deepEqual(
    capnpOk(["convert", "--quiet", "binary:binary"], stream),
    stream,
    `${label} bytes`,
  );
  // Our packing is byte for byte the tool's packing of the same message.
  assert.deepEqual(
    capnpOk(["convert", "--quiet", "binary:packed"], stream),
    packedStream,
    `${label} packing`,
  );
  // The deprecated `capnp decode` reads the same stream.
  const decoded = capnp(["decode", "--quiet", "--short", schemaPath, struct], stream);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.equal(new TextDecoder().decode(decoded.stdout).trim().split("\n").length, values.length);

  // capnp encode → ours.
  const text = values.map((v) => toCapnpText(file, struct, v)).join("\n");
  const encoded = splitStream(capnpOk(["encode", schemaPath, struct], text));
  assert.equal(encoded.length, values.length);
  encoded.forEach((bytes, i) =>
    assert.deepEqual(codec.decode(bytes), expected[i], `${label} #${i} capnp encode`)
  );
  const one = capnpOk(
    ["encode", "--packed", schemaPath, struct],
    toCapnpText(file, struct, values[0]),
  );
  assert.deepEqual(codec.decode(one, { packed: true }), expected[0], `${label} packed encode`);

  // Multi-segment messages with far pointers, as a writer with small segments makes them.
  const json = capnpOk(
    ["convert", "--quiet", "binary:json", "--short", schemaPath, struct],
    stream,
  );
  const far = splitStream(
    capnpOk(["convert", "json:binary", "--segment-size=1", schemaPath, struct], json),
  );
  far.forEach((bytes, i) =>
    assert.deepEqual(codec.decode(bytes), expected[i], `${label} #${i} multi-segment`)
  );
}

describe("codec against the capnp tool", () => {
  const scratch = scratchDir();
  after(() => scratch.remove());

  for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".capnp"))) {
    it(`fixture ${name}: random values both ways, packed and unpacked, multi-segment`, () => {
      const path = join(fixtures, name);
      const file = parseCapnp(readFileSync(path, "utf8"), { file: name });
      for (const struct of file.structs.map((s) => s.fullName)) {
        const values = Array.from(
          { length: 12 },
          (_, i) => randomStructValue(file, struct, i + 1),
        );
        values.push({});
        checkAgainstTool(file, path, struct, values, `${name} ${struct}`);
      }
    });
  }

  it("120 random schemas: values round trip through capnp both ways", () => {
    for (let seed = 1; seed <= 120; seed++) {
      const file = randomSchema(seed);
      const path = scratch.write(`codec_${seed}.capnp`, emitCapnp(file));
      const values = Array.from(
        { length: 6 },
        (_, i) => randomStructValue(file, "Schema", seed * 100 + i),
      );
      checkAgainstTool(file, path, "Schema", values, `seed ${seed}`);
    }
  });

  it("stores non-zero defaults XOR-ed: an empty object is an all-zero data section", () => {
    const file = parseCapnp(readFileSync(join(fixtures, "defaults.capnp"), "utf8"));
    const codec = compileCodec(file);
    const bytes = codec.encode({});
    // frame (8) + root pointer (8) + data words, all zero; pointers null.
    const body = bytes.slice(16);
    assert.ok(body.every((b) => b === 0));
    const value = codec.decode(bytes);
    assert.equal(value.flag, true);
    assert.equal(value.small, -7);
    assert.equal(value.big, "-9007199254740993");
    assert.equal(value.huge, "18446744073709551615");
    assert.equal(value.neg, -Infinity);
    assert.equal(value.name, 'web\t"one"\n');
    assert.equal(value.blob, "AP8Q");
    assert.equal(value.state, "running");
    assert.deepEqual(value.list, [1, -2, 3]);
    assert.deepEqual(value.point, { x: 3, y: -4, label: "origin" });
    assert.equal(value.octal, 15);
    assert.equal(value.hex, 0xdeadbeef);
    // A struct default names some fields; the others take their own defaults (y's is 1).
    assert.deepEqual(value.partial, { x: 0, y: 1, label: "p" });
    assert.deepEqual(value.points, [{ x: 1, y: 1, label: "" }, { x: 0, y: 1, label: "two" }]);
    // Writing the default value explicitly stores zeros too; another value does not.
    assert.deepEqual(codec.encode({ flag: true, port: 22 }), bytes);
    assert.notDeepEqual(codec.encode({ flag: false }), bytes);
    assert.equal(codec.decode(codec.encode({ flag: false, port: 0 })).port, 0);
  });

  it("takes 64-bit integers as numbers, strings or bigints and gives numbers when safe", () => {
    const file = parseCapnp("@0xc0ffee0000000002;\nstruct Schema { a @0 :Int64; b @1 :UInt64; }\n");
    const codec = compileCodec(file);
    assert.deepEqual(codec.decode(codec.encode({ a: -5, b: "42" })), { a: -5, b: 42 });
    assert.deepEqual(codec.decode(codec.encode({ a: -(2n ** 63n), b: 2n ** 64n - 1n })), {
      a: "-9223372036854775808",
      b: "18446744073709551615",
    });
    assert.throws(() => codec.encode({ a: 2 ** 60 }), /as a string/);
    assert.throws(() => codec.encode({ a: 1.5 }), /1.5 is not an integer \(Int64\)/);
    assert.throws(() => codec.encode({ b: -1 }), InputError);
    assert.throws(() => codec.encode({ a: "2".repeat(30) }), /out of range/);
  });

  it("Data is base64 in JSON form, or bytes when asked", () => {
    const file = parseCapnp(
      "@0xc0ffee0000000003;\nstruct Schema { d @0 :Data; l @1 :List(Data); }\n",
    );
    const b64 = compileCodec(file);
    const bytes = compileCodec(file, { data: "bytes" });
    const encoded = b64.encode({ d: "AAEC", l: ["/w=="] });
    assert.deepEqual(b64.decode(encoded), { d: "AAEC", l: ["/w=="] });
    assert.deepEqual(bytes.decode(encoded), {
      d: Uint8Array.from([0, 1, 2]),
      l: [Uint8Array.from([255])],
    });
    assert.deepEqual(
      bytes.encode({ d: Uint8Array.from([0, 1, 2]), l: [Uint8Array.from([255])] }),
      encoded,
    );
  });

  it("names the field and the expected type on a wrong value", () => {
    const file = parseCapnp(readFileSync(join(fixtures, "every_type.capnp"), "utf8"));
    const codec = compileCodec(file);
    assert.throws(() => codec.encode({ i8: 300 }), /i8: 300 is out of range for Int8/);
    assert.throws(() => codec.encode({ text: 5 }), /text: expected Text, got number 5/);
    assert.throws(
      () => codec.encode({ color: "purple" }),
      /color: expected one of red, green, blue/,
    );
    assert.throws(
      () => codec.encode({ inners: [{ name: 1 }] }),
      /inners\[0\]\.name: expected Text/,
    );
    assert.throws(() => codec.encode({ matrix: [[1, "x"]] }), /matrix\[0\]\[1\]: expected Float64/);
    assert.throws(() => codec.encode({ flag: "yes" }), InputError);
  });

  it("names the path of a wrong value from the top after an earlier message failed deep down", () => {
    const file = parseCapnp(readFileSync(join(fixtures, "every_type.capnp"), "utf8"));
    const codec = compileCodec(file);
    assert.throws(
      () => codec.encode({ inners: [{ name: 1 }] }),
      /^InputError: inners\[0\]\.name: /,
    );
    assert.throws(() => codec.encode({ i8: 300 }), /^InputError: i8: 300 is out of range/);
    assert.throws(() => codec.encode({ matrix: [[1, "x"]] }), /^InputError: matrix\[0\]\[1\]: /);
    assert.throws(() => codec.encode({ i64: 1.5 }), /^InputError: i64: 1\.5 is not an integer/);
    // And a good message after them is the same as from a fresh codec.
    const fresh = compileCodec(file);
    assert.deepEqual(
      codec.encode({ i8: 3, inners: [{ name: "x" }] }),
      fresh.encode({ i8: 3, inners: [{ name: "x" }] }),
    );
  });

  it("refuses malformed messages with an InputError, never a crash", () => {
    const file = parseCapnp(readFileSync(join(fixtures, "every_type.capnp"), "utf8"));
    const codec = compileCodec(file);
    const good = codec.encode({ text: "hello", inners: [{ name: "x" }], texts: ["a"] });
    assert.throws(() => codec.decode(new Uint8Array([1, 2, 3])), InputError);
    for (let cut = 8; cut < good.length; cut += 8) {
      const broken = good.slice(0, cut);
      // Keep the frame header's claim: the body is shorter than it says.
      assert.throws(() => codec.decode(broken), InputError, `cut at ${cut}`);
    }
    // Random bytes and flipped bytes: always an InputError or a value, never a hang or a crash.
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round++) {
      const noise = Uint8Array.from(
        { length: Math.floor(rand() * 64) },
        () => Math.floor(rand() * 256),
      );
      const flipped = good.slice();
      flipped[Math.floor(rand() * flipped.length)] ^= 1 << Math.floor(rand() * 8);
      for (const bytes of [noise, flipped]) {
        for (const packed of [false, true]) {
          try {
            codec.decode(bytes, { packed });
          } catch (error) {
            assert.ok(error instanceof InputError, String(error));
          }
        }
      }
    }
    assert.throws(() => codec.decode(new TextEncoder().encode("not a message\n")), /segments/);
    const wrongPointer = good.slice();
    wrongPointer[8] = 1; // the root pointer now says "list"
    assert.throws(() => codec.decode(wrongPointer), /root is not a struct/);
  });

  it("reads a message of an older, smaller struct with defaults for the new fields", () => {
    const old = parseCapnp("@0xc0ffee0000000004;\nstruct Schema { a @0 :Int32; }\n");
    const next = parseCapnp(
      '@0xc0ffee0000000004;\nstruct Schema { a @0 :Int32; b @1 :Int64 = 7; c @2 :Text = "c"; }\n',
    );
    const bytes = compileCodec(old).encode({ a: 5 });
    assert.deepEqual(compileCodec(next).decode(bytes), { a: 5, b: 7, c: "c" });
  });

  it("refuses an unknown root struct with the names it has", () => {
    const file = parseCapnp("@0xc0ffee0000000005;\nstruct Other { a @0 :Int32; }\n", {
      file: "x.capnp",
    });
    assert.throws(() => compileCodec(file), /no struct Schema in the schema \(it has: Other\)/);
    assert.equal(compileCodec(file, { struct: "Other" }).name, "Other");
  });
});

describe("codec: names of Object.prototype", () => {
  const names = ["constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];
  const schemaText = [
    "@0xc0ffee0000000006;",
    "struct Schema {",
    ...names.map((n, i) => `  ${n} @${i} :${["Text", "Int32", "List(Text)", "Inner", "E"][i]};`),
    "}",
    "struct Inner {",
    ...names.map((n, i) => `  ${n} @${i} :Int32${i === 2 ? " = 5" : ""};`),
    "}",
    "enum E {",
    ...names.map((n, i) => `  ${n} @${i};`),
    "}",
    "",
  ].join("\n");
  const file = parseCapnp(schemaText, { file: "proto.capnp" });
  const codec = compileCodec(file);
  const innerDefaults = {
    constructor: 0,
    prototype: 0,
    toString: 5,
    hasOwnProperty: 0,
    valueOf: 0,
  };
  const defaults = {
    constructor: "",
    prototype: 0,
    toString: [],
    hasOwnProperty: innerDefaults,
    valueOf: "constructor",
  };

  it("are plain field names: absent ones read as defaults, given ones round trip", () => {
    const empty = codec.decode(codec.encode({}));
    assert.deepEqual(empty, defaults);
    assert.deepEqual(Object.keys(empty), names);
    assert.equal(Object.getPrototypeOf(empty), Object.prototype);
    const value = {
      constructor: "c",
      prototype: 7,
      toString: ["t"],
      hasOwnProperty: { ...innerDefaults, constructor: 1, toString: 2 },
      valueOf: "toString",
    };
    assert.deepEqual(codec.decode(codec.encode(value)), value);
    assert.deepEqual(codec.decode(codec.encode(value, { packed: true }), { packed: true }), value);
    // The official tool reads and writes the same messages.
    const dir = scratchDir();
    const schemaPath = dir.write("proto.capnp", schemaText);
    try {
      checkAgainstTool(file, schemaPath, "Schema", [{}, value], "prototype names");
    } finally {
      dir.remove();
    }
  });

  it("parses struct defaults that set them", () => {
    const withDefault = parseCapnp(
      "@0xc0ffee0000000007;\nstruct Inner { toString @0 :Int32; constructor @1 :Text; }\n" +
        'struct Schema { inner @0 :Inner = (toString = 7, constructor = "c"); }\n',
    );
    assert.deepEqual(compileCodec(withDefault).decode(compileCodec(withDefault).encode({})), {
      inner: { toString: 7, constructor: "c" },
    });
  });

  it("as data keys: ignored when they are not fields, refused with strict, never polluting", () => {
    const bare = compileCodec(parseCapnp("@0xc0ffee0000000008;\nstruct Schema { a @0 :Int32; }\n"));
    for (const name of ["__proto__", ...names]) {
      const value = JSON.parse(`{"a": 1, ${JSON.stringify(name)}: {"polluted": true}}`);
      assert.deepEqual(bare.encode(value), bare.encode({ a: 1 }), name);
      assert.throws(
        () => bare.encode(value, { strict: true }),
        (error: unknown) =>
          error instanceof InputError &&
          error.message.startsWith(`${name}: struct Schema has no such field`),
        name,
      );
    }
    const nested = JSON.parse(`{"hasOwnProperty": {"__proto__": 1}}`);
    assert.throws(
      () => codec.encode(nested, { strict: true }),
      (error: unknown) =>
        error instanceof InputError && error.message.startsWith("hasOwnProperty.__proto__: "),
    );
    assert.deepEqual(codec.decode(codec.encode(nested)), defaults);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(codec.decode(codec.encode({}))), Object.prototype);
  });

  it("__proto__ as a field name is refused by the parser at its position", () => {
    assert.throws(
      () => parseCapnp("@0xc0ffee0000000009;\nstruct Schema {\n  __proto__ @0 :Text;\n}\n"),
      (error: unknown) =>
        error instanceof InputError && error.location?.line === 3 &&
        error.location?.column === 3 && /__proto__/.test(error.message),
    );
  });
});

describe("codec: structs that contain themselves", () => {
  const schemaText = "@0xc0ffee0000000010;\n" +
    "struct Schema { name @0 :Text; child @1 :Schema; kids @2 :List(Schema); leaf @3 :Leaf; }\n" +
    "struct Leaf { n @0 :Int32; }\n";
  const file = parseCapnp(schemaText);

  it("through a struct field, read a null pointer of their type as null, not endless defaults", () => {
    const codec = compileCodec(file);
    assert.deepEqual(codec.decode(codec.encode({})), {
      name: "",
      child: null,
      kids: [],
      leaf: { n: 0 },
    });
    const value = { name: "a", child: { name: "b" }, kids: [{ name: "k", leaf: { n: 2 } }] };
    const one = { child: null, kids: [], leaf: { n: 0 } };
    const expected = {
      name: "a",
      child: { ...one, name: "b" },
      kids: [{ ...one, name: "k", leaf: { n: 2 } }],
      leaf: { n: 0 },
    };
    assert.deepEqual(codec.decode(codec.encode(value)), expected);
    // capnp writes the same bytes and its messages read back the same.
    const bytes = codec.encode(value);
    assert.deepEqual(capnpOk(["convert", "--quiet", "binary:binary"], bytes), bytes);
    const dir = scratchDir();
    try {
      const path = dir.write("self.capnp", schemaText);
      const encoded = capnpOk(
        ["encode", path, "Schema"],
        '(name = "a", child = (name = "b"), kids = [(name = "k", leaf = (n = 2))])',
      );
      assert.deepEqual(codec.decode(encoded), expected);
    } finally {
      dir.remove();
    }
  });

  it("take a default of their own type, whose own field reads null inside it", () => {
    const withDefault = parseCapnp(
      '@0xc0ffee0000000011;\nstruct Schema { name @0 :Text; child @1 :Schema = (name = "x"); }\n',
    );
    const codec = compileCodec(withDefault);
    assert.deepEqual(codec.decode(codec.encode({})), {
      name: "",
      child: { name: "x", child: null },
    });
  });
});

describe("codec: one writer for many messages", () => {
  const scratch = scratchDir();
  after(() => scratch.remove());
  const text = `@0xd1a2b3c4d5e6f708;
struct Big {
  flag @0 :Bool;
  n @1 :Int64;
  name @2 :Text;
  items @3 :List(Inner);
  blob @4 :Data;
  bits @5 :List(Bool);
  ratio @6 :Float64 = 0.5;
}
struct Inner {
  a @0 :UInt32;
  s @1 :Text;
  on @2 :Bool;
}
`;
  const file = parseCapnp(text, { file: "big.capnp" });
  const full = (textBytes: number) => ({
    flag: true,
    n: 2 ** 40 + 7,
    name: "é".repeat(textBytes / 2),
    items: Array.from({ length: 50 }, (_, i) => ({ a: 0xffffffff - i, s: `item ${i}`, on: true })),
    blob: Buffer.from(new Uint8Array(2000).fill(0xff)).toString("base64"),
    bits: Array.from({ length: 100 }, () => true),
    ratio: 3.25,
  });
  // Small messages after ones that filled the scratch with non-zero bytes (and one that grew it
  // past what a writer keeps): a byte left over from an earlier message would show here.
  const values: Record<string, unknown>[] = [
    { flag: false, name: "a" },
    full(3000),
    { flag: false, name: "a" },
    {},
    full(1_500_000),
    { items: [{ s: "b" }], bits: [false, true] },
    {},
    full(10),
    // Texts written as ASCII until a character says otherwise, then again at their UTF-8
    // length (short and long ones), with more of the message after them.
    { ...full(10), name: "ascii, then é, then ascii" },
    { ...full(10), name: "a".repeat(100) + "€", items: [{ s: "x".repeat(70) + "ü" }] },
    { ...full(10), name: "a".repeat(200), items: [{ s: "b".repeat(63) }, { s: "é" }] },
  ];

  it("gives each message the bytes a fresh writer gives, which capnp rewrites unchanged", () => {
    const codec = compileCodec(file, { struct: "Big" });
    const messages = values.map((v) => codec.encode(v));
    values.forEach((v, i) => {
      assert.deepEqual(messages[i], compileCodec(file, { struct: "Big" }).encode(v), `#${i}`);
      assert.deepEqual(
        codec.decode(messages[i]),
        withDefaults(file, "Big", v),
        `#${i} round trip`,
      );
    });
    const path = scratch.write("big.capnp", text);
    // capnp re-writes what fits its first segment (all but the 1.5 MB one, which it splits into
    // segments) byte for byte the same, and packs it as we do.
    const fits = messages.filter((m) => m.length < 1_000_000);
    assert.equal(fits.length, values.length - 1);
    const rewritten = concat(fits);
    assert.deepEqual(capnpOk(["convert", "--quiet", "binary:binary"], rewritten), rewritten);
    const packed = concat(
      values.map((v) => codec.encode(v, { packed: true })).filter((_, i) =>
        fits.includes(messages[i])
      ),
    );
    assert.deepEqual(capnpOk(["convert", "--quiet", "binary:packed"], rewritten), packed);
    const stream = concat(messages);
    const fromTool = jsonLines(
      capnpOk(["convert", "--quiet", "binary:json", "--short", path, "Big"], stream),
    );
    fromTool.forEach((json, i) =>
      assert.deepEqual(fromToolJson(file, "Big", json), withDefaults(file, "Big", values[i]))
    );
  });

  it("starts clean after a message refused half-way through", () => {
    const codec = compileCodec(file, { struct: "Big" });
    const bad = { ...full(3000), items: [{ a: 1, s: "x", on: true }, { a: "two" }] };
    assert.throws(
      () => codec.encode(bad),
      (e: unknown) =>
        e instanceof InputError && e.message === 'items[1].a: expected UInt32, got string "two"',
    );
    const small = { name: "a" };
    assert.deepEqual(codec.encode(small), compileCodec(file, { struct: "Big" }).encode(small));
  });

  it("encodes a message asked for while one is being written, each intact", () => {
    const codec = compileCodec(file, { struct: "Big" });
    let inner: Uint8Array | undefined;
    const outer = {
      flag: true,
      get name() {
        inner = codec.encode({ name: "inner", n: 5 });
        return "outer";
      },
      n: 9,
    };
    const message = codec.encode(outer);
    const fresh = () => compileCodec(file, { struct: "Big" });
    assert.deepEqual(message, fresh().encode({ flag: true, name: "outer", n: 9 }));
    assert.deepEqual(inner, fresh().encode({ name: "inner", n: 5 }));
  });
});
