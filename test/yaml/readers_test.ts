/**
 * The three YAML readers (blueprints, `actor.yaml`, `.ays/config.yaml`) all read through
 * src/yaml: an unresolved alias, an alias bomb and nesting too deep are InputErrors (exit 2)
 * at the file, line and column, never an internal error.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError, type SourceLocation } from "../../src/errors.ts";
import { readBlueprint } from "../../src/blueprint/read.ts";
import { readActorYaml } from "../../src/hrd/actor_config.ts";
import { parseRepoConfig } from "../../src/repo/config_yaml.ts";

function refuses(fn: () => unknown, location: SourceLocation, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `not an InputError: ${error}`);
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    assert.deepEqual(error.location, location);
    return true;
  });
}

/** Anchors a to g, each of ten aliases of the one before, under `key:` indented by two. */
function bomb(key: string): string {
  const lines = [`${key}:`, "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  let previous = "a";
  for (const name of ["b", "c", "d", "e", "f", "g"]) {
    lines.push(`  ${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`);
    previous = name;
  }
  return lines.join("\n") + "\n";
}

const readers = {
  blueprint: (text: string) =>
    readBlueprint(`node__x:\n  ${text.replaceAll("\n", "\n  ")}`, {
      file: "b.yaml",
    }),
  "actor.yaml": (text: string) => readActorYaml(text, { file: "actor.yaml" }),
  ".ays/config.yaml": (text: string) => parseRepoConfig(text, { file: "config.yaml" }),
};

describe("YAML readers", () => {
  for (const [name, read] of Object.entries(readers)) {
    // The blueprint reader puts the text under a service, two lines down and indented by two.
    const file = name === "blueprint"
      ? "b.yaml"
      : name === "actor.yaml"
      ? "actor.yaml"
      : "config.yaml";
    const shift = name === "blueprint" ? { line: 1, column: 2 } : { line: 0, column: 0 };
    const at = (line: number, column: number) => ({
      file,
      line: line + shift.line,
      column: column + shift.column,
    });

    it(`${name}: an unresolved alias is an error at the alias`, () => {
      refuses(() => read("name: *nope\n"), at(1, 7), /^unresolved alias \*nope/);
    });

    it(`${name}: an alias bomb is an error at the alias that passes the limit`, () => {
      // As in yaml_data_test: the 8th *e of f (line 7, after "  f: &f [") passes 1,000,000.
      refuses(() => read(bomb("name")), at(7, 10 + 7 * 4), /^too many aliases/);
    });

    it(`${name}: nesting too deep is an error at the list too deep`, () => {
      const text = `name: ${"[".repeat(300)}${"]".repeat(300)}\n`;
      const error = (() => {
        try {
          read(text);
        } catch (error) {
          return error;
        }
      })();
      assert.ok(error instanceof InputError, `not an InputError: ${error}`);
      assert.match(error.message, /^nested too deeply: more than 256 levels/);
      assert.equal(error.location?.file, file);
      assert.equal(error.location?.line, at(1, 1).line);
    });
  }
});
