import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAlias, isMap, isScalar, type YAMLMap } from "yaml";
import { InputError, type SourceLocation } from "../../src/errors.ts";
import { MAX_ALIAS_EXPANSION, parseYaml } from "../../src/yaml/mod.ts";

function refuses(fn: () => unknown, location: SourceLocation, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `not an InputError: ${error}`);
    assert.match(error.message, message);
    assert.deepEqual(error.location, location);
    return true;
  });
}

const data = (text: string, merge = false) =>
  parseYaml(text, { file: "f.yaml", merge }).data.toJS() as Record<string, unknown>;

/** Anchors `a` to `b` each ten times the one before; `g` holds ten aliases of `f`. */
function bomb(): string {
  const lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  let previous = "a";
  for (const name of ["b", "c", "d", "e", "f"]) {
    lines.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    previous = name;
  }
  lines.push(`g: [${Array(10).fill("*f").join(", ")}]`);
  return lines.join("\n") + "\n";
}

describe("YamlData", () => {
  it("gives each alias a copy of what its anchor holds", () => {
    const value = data("a: &x {n: [1, 2]}\nb: *x\nc: *x\n");
    assert.deepEqual(value, { a: { n: [1, 2] }, b: { n: [1, 2] }, c: { n: [1, 2] } });
    assert.notEqual(value.b, value.c);
    assert.notEqual(value.a, value.b);
  });

  it("resolves an alias to the closest anchor of its name before it", () => {
    const value = data("a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
    assert.deepEqual(value, { a: 1, b: 1, c: 2, d: 2 });
  });

  it("finds the node an alias refers to", () => {
    const yaml = parseYaml("a: &x {k: v}\nb: *x\n", { file: "f.yaml" });
    const top = yaml.doc.contents as YAMLMap;
    const alias = top.items[1].value;
    assert.ok(isAlias(alias));
    assert.equal(yaml.data.target(alias), top.items[0].value);
  });

  it("refuses an unresolved alias at the alias, reading the data or the target", () => {
    const text = "a: 1\nb: *nope\n";
    refuses(
      () => data(text),
      { file: "f.yaml", line: 2, column: 4 },
      /^unresolved alias \*nope: no anchor &nope before it$/,
    );
    const yaml = parseYaml(text, { file: "f.yaml" });
    const alias = (yaml.doc.contents as YAMLMap).items[1].value;
    assert.ok(isAlias(alias));
    refuses(() => yaml.data.target(alias), { file: "f.yaml", line: 2, column: 4 }, /unresolved/);
  });

  it("refuses an alias used before its anchor", () => {
    refuses(() => data("a: *x\nb: &x 1\n"), { file: "f.yaml", line: 1, column: 4 }, /unresolved/);
  });

  it("refuses an alias inside the node it refers to", () => {
    refuses(
      () => data("a: &x [1, *x]\n"),
      { file: "f.yaml", line: 1, column: 11 },
      /alias \*x is inside the node it refers to/,
    );
  });

  it("refuses an alias bomb at the alias where the expansion passes the limit", () => {
    // Up to f, the aliases of b..e add 123,440 values, each *e of f 111,111 more: the 8th
    // *e passes 1,000,000. "f: &f [" is 7 characters and each "*e, " 4.
    refuses(
      () => data(bomb()),
      { file: "f.yaml", line: 6, column: 8 + 7 * 4 },
      new RegExp(`^too many aliases: they expand to more than ${MAX_ALIAS_EXPANSION} values`),
    );
  });

  it("takes 20,000 aliases of one anchor, each a value of its own", () => {
    let text = "base: &b {x: 1, tags: [a, b]}\n";
    for (let i = 0; i < 20_000; i++) text += `s${i}: *b\n`;
    const value = data(text);
    assert.equal(Object.keys(value).length, 20_001);
    assert.deepEqual(value.s19999, { x: 1, tags: ["a", "b"] });
  });

  it("keeps __proto__ and constructor as own keys, leaving the prototype alone", () => {
    const value = data("__proto__: {polluted: true}\nconstructor: 1\n");
    assert.ok(Object.hasOwn(value, "__proto__"));
    assert.deepEqual(Object.keys(value), ["__proto__", "constructor"]);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("merges `<<` mappings: own keys win, an earlier merged mapping wins over a later", () => {
    const text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 0\n";
    assert.deepEqual(data(text, true).c, { x: 0, y: 1, z: 2 });
  });

  it("refuses merging something that is not a mapping, at it", () => {
    refuses(
      () => data("a: &a [1]\nb:\n  <<: *a\n", true),
      { file: "f.yaml", line: 3, column: 7 },
      /'<<' must merge a mapping/,
    );
  });

  it("converts single nodes, keys of every kind and empty values", () => {
    const yaml = parseYaml("1: one\nnull: z\n? [k]\n: list\ne:\n", { file: "f.yaml" });
    const top = yaml.doc.contents;
    assert.ok(isMap(top));
    assert.deepEqual(yaml.data.toJS(), { "1": "one", "": "z", '["k"]': "list", e: null });
    const first = top.items[0].value;
    assert.ok(isScalar(first));
    assert.equal(yaml.data.toJS(first), "one");
    assert.equal(yaml.data.toJS(null), null);
  });
});
