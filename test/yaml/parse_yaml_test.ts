import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError, type SourceLocation } from "../../src/errors.ts";
import { MAX_YAML_DEPTH, parseYaml } from "../../src/yaml/mod.ts";

/** Asserts that `fn` throws an InputError matching `message` at `location`. */
function refuses(fn: () => unknown, location: SourceLocation, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `not an InputError: ${error}`);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    assert.deepEqual(error.location, location);
    return true;
  });
}

/** A flow list nested `depth` levels deep under the key `a`. */
const nested = (depth: number) => `a: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;

describe("parseYaml", () => {
  it("parses a document and locates offsets in the file", () => {
    const yaml = parseYaml("a: 1\nb:\n  - x\n", { file: "f.yaml" });
    assert.deepEqual(yaml.data.toJS(), { a: 1, b: ["x"] });
    assert.deepEqual(yaml.at(8), { file: "f.yaml", line: 3, column: 1 });
  });

  it("reports a syntax error at its position", () => {
    refuses(
      () => parseYaml("a: 1\nb: [1,\n", { file: "f.yaml" }),
      { file: "f.yaml", line: 3, column: 1 },
      /^YAML syntax error: /,
    );
  });

  it("refuses a repeated key unless told not to", () => {
    refuses(
      () => parseYaml("a: 1\na: 2\n", { file: "f.yaml" }),
      { file: "f.yaml", line: 2, column: 1 },
      /YAML syntax error: .*unique/,
    );
    assert.deepEqual(parseYaml("a: 1\na: 2\n", { file: "f", uniqueKeys: false }).data.toJS(), {
      a: 2,
    });
  });

  it("uses the caller's locate for every position", () => {
    const locate = (offset: number) => ({ file: "elsewhere", line: 100, column: offset });
    refuses(
      () => parseYaml("a: [\n", { file: "f.yaml", locate }),
      { file: "elsewhere", line: 100, column: 5 },
      /YAML syntax error/,
    );
  });

  it(`takes lists and mappings nested ${MAX_YAML_DEPTH} levels deep`, () => {
    // The top mapping is level 1, so the lists add MAX_YAML_DEPTH - 1 levels.
    const yaml = parseYaml(nested(MAX_YAML_DEPTH - 1), { file: "f.yaml" });
    let value = (yaml.data.toJS() as { a: unknown }).a;
    let levels = 1;
    while (Array.isArray(value) && value.length > 0) {
      value = value[0];
      levels++;
    }
    assert.equal(levels, MAX_YAML_DEPTH - 1);
  });

  it("refuses one level more, at the list that is too deep", () => {
    // "a: " is 3 characters; the list at depth MAX + 1 is the MAX-th bracket.
    refuses(
      () => parseYaml(nested(MAX_YAML_DEPTH), { file: "f.yaml" }),
      { file: "f.yaml", line: 1, column: 3 + MAX_YAML_DEPTH },
      /^nested too deeply: more than 256 levels/,
    );
  });

  it("refuses block nesting too deep the same way", () => {
    let text = "";
    for (let i = 0; i <= MAX_YAML_DEPTH; i++) text += `${" ".repeat(i)}k:\n`;
    text = text.trimEnd() + " x\n";
    refuses(
      () => parseYaml(text, { file: "f.yaml" }),
      { file: "f.yaml", line: MAX_YAML_DEPTH + 1, column: MAX_YAML_DEPTH + 1 },
      /^nested too deeply/,
    );
  });

  it("says 'nested too deeply' with the line where the parser's own stack ran out", () => {
    const text = `ok: 1\n${nested(50_000)}`;
    assert.throws(() => parseYaml(text, { file: "f.yaml" }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /^nested too deeply/);
      assert.doesNotMatch(error.message, /call stack/i);
      assert.equal(error.location?.file, "f.yaml");
      assert.equal(error.location?.line, 2);
      return true;
    });
  });

  it("merges `<<` keys only when asked", () => {
    const text = "base: &b {x: 1, y: 2}\nsvc:\n  <<: *b\n  y: 3\n";
    const merged = parseYaml(text, { file: "f", merge: true }).data.toJS() as Record<
      string,
      unknown
    >;
    assert.deepEqual(merged.svc, { x: 1, y: 3 });
    const plain = parseYaml(text, { file: "f" }).data.toJS() as Record<string, unknown>;
    assert.deepEqual(plain.svc, { "<<": { x: 1, y: 2 }, y: 3 });
  });

  it("rejects bad options eagerly", () => {
    assert.throws(
      () => parseYaml("a: 1", { file: undefined as unknown as string }),
      TypeError,
    );
  });
});
