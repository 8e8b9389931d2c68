import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emitCapnp, parseCapnp } from "../../src/capnp/mod.ts";
import { InputError } from "../../src/errors.ts";
import { capnp, scratchDir } from "./capnp_tool.ts";

const ID = "@0xc0ffee0000000010;\n";

/** Parses and returns the InputError it must throw. */
function refusal(text: string): InputError {
  try {
    parseCapnp(text, { file: "bad.capnp" });
  } catch (error) {
    assert.ok(error instanceof InputError, String(error));
    return error;
  }
  assert.fail("expected an InputError");
}

describe("parseCapnp", () => {
  const refused: [string, string, RegExp, number, number][] = [
    ["unnamed union", "struct Schema {\n  union {\n    a @0 :Text;\n  }\n}\n", /unions/, 3, 3],
    ["named union", "struct Schema {\n  u :union {\n    a @0 :Text;\n  }\n}\n", /unions/, 3, 6],
    ["group", "struct Schema {\n  g :group {\n    a @0 :Text;\n  }\n}\n", /groups/, 3, 6],
    ["interface", "interface Foo {\n  bar @0 () -> ();\n}\n", /interfaces/, 2, 1],
    ["nested interface", "struct Schema {\n  interface Foo {}\n}\n", /interfaces/, 3, 3],
    ["import", 'using Foo = import "foo.capnp";\n', /`using` declarations/, 2, 1],
    ["import as type", 'struct Schema {\n  a @0 :import "x.capnp".Foo;\n}\n', /imports/, 3, 9],
    ["annotation declaration", "annotation foo(field) :Text;\n", /annotations/, 2, 1],
    ["annotation use", 'struct Schema {\n  a @0 :Text $foo("x");\n}\n', /annotations/, 3, 14],
    ["annotation on a struct", "struct Schema $foo {\n}\n", /annotations/, 2, 15],
    ["generic struct", "struct Schema(T) {\n}\n", /generics/, 2, 14],
    ["generic type", "struct Schema {\n  a @0 :Foo(Text);\n}\nstruct Foo {}\n", /generics/, 3, 12],
    ["const", 'const foo :Text = "x";\n', /constants/, 2, 1],
    ["using", "struct Schema {\n  using T = Text;\n}\n", /`using` declarations/, 3, 3],
    ["AnyPointer", "struct Schema {\n  a @0 :AnyPointer;\n}\n", /AnyPointer/, 3, 9],
  ];
  for (const [what, body, message, line, column] of refused) {
    it(`refuses ${what} by name at file:line:column`, () => {
      const error = refusal(ID + body);
      assert.match(error.message, message);
      assert.match(error.message, /not supported in ays schemas/);
      assert.deepEqual(error.location, { file: "bad.capnp", line, column });
    });
  }

  it("reports plain mistakes with their position", () => {
    assert.match(refusal("struct Schema {}\n").message, /has no id/);
    assert.match(refusal(ID + "struct Schema {\n  a @1 :Text;\n}\n").message, /skips ordinal @0/);
    assert.match(
      refusal(ID + "struct Schema {\n  a @0 :Text;\n  a @1 :Text;\n}\n").message,
      /duplicate/,
    );
    assert.match(refusal(ID + "struct Schema {\n  a @0 :Nope;\n}\n").message, /unknown type Nope/);
    assert.match(refusal(ID + "struct Schema {\n  a @0 :Int8 = 300;\n}\n").message, /out of range/);
    assert.match(refusal(ID + "struct Schema {\n  a @0 :Text = 3;\n}\n").message, /string literal/);
    const error = refusal(ID + "struct Schema {\n  a @0 :Text\n}\n");
    assert.deepEqual(error.location, { file: "bad.capnp", line: 4, column: 1 });
  });

  it("reads comments, nested declarations, qualified names and every literal", () => {
    const file = parseCapnp(
      ID + `# a comment
struct Schema {  # trailing comment
  a @0 :Outer.Deep = (x = 0x10, s = "a\\x41\\101");
  b @1 :List(Outer.Kind) = [one, two];
  c @2 :Float32 = -inf;
  d @3 :Data = "raw";
  e @4 :Void = void;
}
struct Outer {
  struct Deep { x @0 :UInt8; s @1 :Text; }
  enum Kind { one @0; two @1; }
}
`,
      { file: "ok.capnp" },
    );
    const fields = file.structs[0].fields;
    assert.deepEqual(fields[0].type, { kind: "struct", name: "Outer.Deep" });
    assert.deepEqual(fields[0].default, { x: 16, s: "aAA" });
    assert.deepEqual(fields[1].default, ["one", "two"]);
    assert.equal(fields[2].default, -Infinity);
    assert.deepEqual(fields[3].default, new TextEncoder().encode("raw"));
    assert.equal(file.id, 0xc0ffee0000000010n);
    // What we emit from it compiles.
    const scratch = scratchDir();
    try {
      const path = scratch.write("ok.capnp", emitCapnp(file));
      const result = capnp(["compile", "-o-", path]);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      scratch.remove();
    }
  });

  it("agrees with the compiler: what it refuses, capnp compiles (so the refusal is ours)", () => {
    const scratch = scratchDir();
    try {
      const text = ID + "struct Schema {\n  union {\n    a @0 :Text;\n    b @1 :Int32;\n  }\n}\n";
      const path = scratch.write("union.capnp", text);
      assert.equal(capnp(["compile", "-o-", path]).code, 0);
      assert.throws(() => parseCapnp(text), /unions are not supported/);
    } finally {
      scratch.remove();
    }
  });
});
