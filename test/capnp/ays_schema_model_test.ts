/**
 * `src/capnp/ays_schema_model.ts` is `schemas/ays.capnp` as `parseCapnp` reads it, generated so
 * that no run of ays parses it (docs/capnp.md, "ays' own models"). Fails while it differs;
 * `AYS_WRITE_SCHEMA_TEXT=1` rewrites it (with `src/capnp/ays_schema_text.ts`, whose test is in
 * `ays_models_test.ts`).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AYS_SCHEMA_MODEL } from "../../src/capnp/ays_schema_model.ts";
import { AYS_SCHEMA_TEXT } from "../../src/capnp/ays_schema_text.ts";
import { jsLiteral } from "../../src/capnp/js_literal.ts";
import { parseCapnp } from "../../src/capnp/mod.ts";
import { projectRoot } from "../helpers/mod.ts";

const modelModule = join(projectRoot, "src", "capnp", "ays_schema_model.ts");

/** The module's text for `model`. */
function moduleText(model: unknown): string {
  return `/**
 * \`schemas/ays.capnp\` as \`parseCapnp\` reads it (from \`ays_schema_text.ts\`), so that ays never
 * parses it at run time. Generated: do not edit. \`AYS_WRITE_SCHEMA_TEXT=1 bun test
 * test/capnp/ays_schema_model_test.ts\` rewrites it; the test fails while it differs.
 *
 * @module
 */
import type { SchemaFile } from "./model.ts";

/** The parsed \`schemas/ays.capnp\`. */
export const AYS_SCHEMA_MODEL: SchemaFile = ${jsLiteral(model)};
`;
}

describe("ays schema model", () => {
  it("is schemas/ays.capnp as parseCapnp reads it", () => {
    const parsed = parseCapnp(AYS_SCHEMA_TEXT, { file: "schemas/ays.capnp" });
    if (process.env.AYS_WRITE_SCHEMA_TEXT === "1") {
      try {
        assert.deepStrictEqual(AYS_SCHEMA_MODEL, parsed);
      } catch {
        writeFileSync(modelModule, moduleText(parsed));
      }
      return;
    }
    assert.deepStrictEqual(AYS_SCHEMA_MODEL, parsed, "run AYS_WRITE_SCHEMA_TEXT=1 to regenerate");
  });

  it("jsLiteral reads back deeply equal", () => {
    const value = {
      id: 0xace3ad591b5ca6c9n,
      a: [1, -2.5, 'x"\n', null, true, undefined, [], {}],
      "odd key": { inner: [{ deep: Infinity }] },
      missing: undefined,
    };
    const back = new Function(`return ${jsLiteral(value)};`)();
    assert.deepStrictEqual(back, value);
  });
});
