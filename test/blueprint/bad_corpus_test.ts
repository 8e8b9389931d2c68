/**
 * The bad-input corpus (test/fixtures/bad/cases.json): every broken blueprint or template
 * fails with an InputError at exactly the recorded `file:line:column` and with a message that
 * names the problem.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import { readBlueprintFiles } from "../../src/blueprint/files.ts";
import { applyBlueprints } from "../../src/blueprint/resolve.ts";
import { loadRepoActors } from "../../src/repo/actor.ts";
import type { ServiceRecord } from "../../src/model/types.ts";

const BAD = fileURLToPath(new URL("../fixtures/bad/", import.meta.url));

interface BadCase {
  name: string;
  /** Blueprint files of the unit, relative to test/fixtures/bad. */
  files: string[];
  /** Blueprints applied first; their services are "in the store". */
  seed?: string[];
  /** An extra template folder (a broken template). */
  templates?: string;
  /** `file:line:column`, the file relative to test/fixtures/bad. */
  error: string;
  /** A fragment of the message. */
  message: string;
}

const cases: BadCase[] = JSON.parse(readFileSync(join(BAD, "cases.json"), "utf8"));

/** Loads the templates, applies the seed, then the case's unit. */
async function run(badCase: BadCase): Promise<void> {
  const globalDirs = [join(BAD, "templates")];
  if (badCase.templates) globalDirs.push(join(BAD, badCase.templates));
  // Tolerant, as `ays blueprint` loads them: a broken template fails the blueprint using it.
  const { actors, unusable } = await loadRepoActors(join(BAD, "no-repo"), {
    globalDirs,
    tolerant: true,
  });
  let services: ServiceRecord[] = [];
  if (badCase.seed) {
    const seedDocs = await readBlueprintFiles(badCase.seed.map((f) => join(BAD, f)), {
      relativeTo: BAD,
    });
    services = applyBlueprints(seedDocs, { repoName: "bad", actors, services: [], unusable })
      .created;
  }
  const docs = await readBlueprintFiles(badCase.files.map((f) => join(BAD, f)), {
    relativeTo: BAD,
  });
  applyBlueprints(docs, { repoName: "bad", actors, services, unusable });
}

describe("bad-input corpus", () => {
  it("has at least 25 cases, each file present", () => {
    assert.ok(cases.length >= 25, `${cases.length} cases`);
    const names = new Set(cases.map((c) => c.name));
    assert.equal(names.size, cases.length, "case names are unique");
  });

  for (const badCase of cases) {
    it(`${badCase.name} fails at ${badCase.error}`, async () => {
      await assert.rejects(run(badCase), (error: unknown) => {
        assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
        assert.equal(error.exitCode, 2);
        const at = error.location;
        assert.ok(at, `no location on: ${error.message}`);
        const file = isAbsolute(at.file) ? relative(BAD, at.file) : at.file;
        assert.equal(`${file}:${at.line}:${at.column}`, badCase.error, error.message);
        assert.ok(
          error.message.includes(badCase.message),
          `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(badCase.message)}`,
        );
        return true;
      });
    });
  }

  it("the seed and the shared templates on their own are fine", async () => {
    await run({ name: "seed", files: ["seed/store.yaml"], error: "", message: "" });
    await run({ name: "ok", files: ["blueprints/ok.yaml"], error: "", message: "" });
  });

  it("a broken template does not stop a blueprint that does not use it", async () => {
    const broken = cases.filter((c) => c.templates);
    assert.ok(broken.length >= 5, `${broken.length} template cases`);
    for (const badCase of broken) {
      await run({ ...badCase, files: ["blueprints/ok.yaml"] });
    }
  });
});
