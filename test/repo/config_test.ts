import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../src/errors.ts";
import {
  quickRepoConfig,
  readRepoConfig,
  repoNameOf,
  writeRepoSetting,
} from "../../src/repo/config.ts";
import { parseRepoConfig } from "../../src/repo/config_yaml.ts";
import { makeTempDir, makeTempRepo } from "../helpers/mod.ts";

function failsAt(text: string, line: number, column: number, fragment: RegExp): void {
  assert.throws(() => parseRepoConfig(text, { file: "config.yaml" }), (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.deepEqual(error.location, { file: "config.yaml", line, column });
    assert.match(error.message, fragment);
    return true;
  });
}

describe("repository config", () => {
  it("reads name, store and parallel", () => {
    assert.deepEqual(
      parseRepoConfig("name: web\nstore: redis://localhost:6379/0\nparallel: 4\n", { file: "c" }),
      { name: "web", store: "redis://localhost:6379/0", parallel: 4 },
    );
  });

  it("reads isolation and memory (in bytes), the defaults of the action settings", () => {
    assert.deepEqual(parseRepoConfig("isolation: process\nmemory: 512M\n", { file: "c" }), {
      isolation: "process",
      memory: 512 * 1024 * 1024,
    });
    assert.deepEqual(parseRepoConfig("memory: 134217728\n", { file: "c" }), {
      memory: 128 * 1024 * 1024,
    });
    failsAt("isolation: thread\n", 1, 12, /'isolation': must be pool, job or process/);
    failsAt(
      "name: x\nmemory: 12M\n",
      2,
      9,
      /'memory': bad memory size "12M": must be at least 128M/,
    );
    failsAt("memory: 1GB\n", 1, 9, /'memory': bad memory size "1GB"/);
    failsAt("memory: [1]\n", 1, 9, /'memory': must be a memory size/);
  });

  it("an empty or comment-only config is empty", () => {
    assert.deepEqual(parseRepoConfig("", { file: "c" }), {});
    assert.deepEqual(parseRepoConfig("# name: x\n", { file: "c" }), {});
  });

  it("rejects unknown settings at their key", () => {
    failsAt("name: ok\nparalel: 3\n", 2, 1, /unknown setting 'paralel'/);
  });

  it("rejects wrong values at the value", () => {
    failsAt("parallel: 0\n", 1, 11, /'parallel': must be at least 1/);
    failsAt("name: x\nparallel: 2.5\n", 2, 11, /whole number/);
    failsAt("name: 'my repo'\n", 1, 7, /'name'/);
    failsAt("store: 5\n", 1, 8, /'store'/);
  });

  it("rejects YAML errors and a non-mapping with positions", () => {
    failsAt("name: x\nname: y\n", 2, 1, /YAML syntax error/);
    failsAt("- a\n", 1, 1, /must be a mapping/);
  });

  it("readRepoConfig: missing file or a v8.1 .ays file give an empty config", async () => {
    const repo = await makeTempRepo();
    const v81 = await makeTempDir();
    try {
      assert.deepEqual(await readRepoConfig(repo.path), {});
      await writeFile(join(v81.path, ".ays"), "");
      assert.deepEqual(await readRepoConfig(v81.path), {});
    } finally {
      await repo.remove();
      await v81.remove();
    }
  });

  it("the name is the config's name, else the folder's", async () => {
    const named = await makeTempRepo({ name: "shop" });
    try {
      const config = await readRepoConfig(named.path);
      assert.equal(repoNameOf(named.path, config), "shop");
      assert.equal(repoNameOf("/x/y/folder", {}), "folder");
    } finally {
      await named.remove();
    }
  });

  it("readRepoConfig reports the config file in the location", async () => {
    const repo = await makeTempRepo({ files: { ".ays/config.yaml": "parallel: -1\n" } });
    try {
      await assert.rejects(readRepoConfig(repo.path), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.location?.file, join(repo.path, ".ays", "config.yaml"));
        assert.equal(error.location?.line, 1);
        return true;
      });
    } finally {
      await repo.remove();
    }
  });
});

describe("the quick config reader", () => {
  /** The YAML reader's settings, or its error's message. */
  function full(text: string): unknown {
    try {
      return parseRepoConfig(text, { file: "c" });
    } catch (error) {
      return (error as Error).message;
    }
  }

  const WORDS = [
    "web",
    "my-repo.2",
    "9lives",
    "true",
    "False",
    "null",
    "~",
    "123",
    "1e3",
    "0x1F",
    "v81",
    "pool",
    "job",
    "process",
    "Process",
    "4",
    "04",
    "0",
    "-1",
    "2.5",
    "1000000000",
    "yes",
    "redis://127.0.0.1:6379/0",
    "sqlite:/abs/file.db",
    "sqlite:rel/f.db",
    "sqlite:",
    "redis://u:p@h:1/2?x=1",
    "a#b",
    "'web'",
    '"web"',
    "[a]",
    "{a: 1}",
    "*x",
    "&x y",
    "!!str x",
    "web:",
    "a: b",
    "512M",
  ];
  const KEYS = [
    "name",
    "store",
    "parallel",
    "compat",
    "noexec",
    "isolation",
    "memory",
    "fleet",
    "nope",
  ];

  it("reads only what the YAML reader reads the same, in the same order", () => {
    const texts: string[] = ["", "\n", "# only a comment\n", "---\nname: x\n", "name: x\r\n"];
    for (const key of KEYS) {
      for (const word of WORDS) {
        texts.push(`${key}: ${word}\n`, `${key}: ${word} # note\n`, `${key}:  ${word}`);
        texts.push(`  ${key}: ${word}\n`, `${key}:\t${word}\n`, `${key}: ${word}\n  more\n`);
      }
    }
    texts.push("name: a\nname: b\n", "parallel: 3\nname: web\n# c\n\nnoexec: true\n");
    texts.push("fleet: false\nisolation: job\ncompat: v81\nstore: sqlite:x.db\n");
    let quick = 0;
    for (const text of texts) {
      const read = quickRepoConfig(text);
      if (read === undefined) continue;
      quick++;
      const yaml = full(text);
      assert.deepEqual(read, yaml, JSON.stringify(text));
      assert.deepEqual(Object.keys(read), Object.keys(yaml as object), JSON.stringify(text));
    }
    // The plain forms are read quickly (else this test would prove nothing).
    assert.ok(quick > 40, `only ${quick} texts were read quickly`);
    assert.deepEqual(quickRepoConfig("parallel: 3\nname: web\n# c\n\nnoexec: true\n"), {
      name: "web",
      parallel: 3,
      noexec: true,
    });
  });

  it("leaves mistakes and unusual forms to the YAML reader", () => {
    for (
      const text of [
        "name: true\n",
        "name: 123\n",
        "parallel: 0\n",
        "name: a\nname: b\n",
        "nope: 1\n",
        "name: 'web'\n",
        "memory: 512M\n",
        "store: sqlite:\n",
        "name: x\r\n",
        "- a\n",
      ]
    ) {
      assert.equal(quickRepoConfig(text), undefined, JSON.stringify(text));
    }
  });

  it("readRepoConfig takes either reader: the same settings, errors at their position", async () => {
    const plain = await makeTempRepo({ files: { ".ays/config.yaml": "name: web\nparallel: 2\n" } });
    const quoted = await makeTempRepo({
      files: { ".ays/config.yaml": "name: 'web'\nmemory: 512M\n" },
    });
    const wrong = await makeTempRepo({ files: { ".ays/config.yaml": "name: web\nparallel: 0\n" } });
    try {
      assert.deepEqual(await readRepoConfig(plain.path), { name: "web", parallel: 2 });
      assert.deepEqual(await readRepoConfig(quoted.path), { name: "web", memory: 512 * 2 ** 20 });
      await assert.rejects(readRepoConfig(wrong.path), (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.location?.line, 2);
        assert.equal(error.location?.column, 11);
        return true;
      });
    } finally {
      await plain.remove();
      await quoted.remove();
      await wrong.remove();
    }
  });
});

describe("writeRepoSetting", () => {
  it("sets and removes one setting, keeping the rest and its comments; validates first", async () => {
    const repo = await makeTempRepo();
    const file = join(repo.path, ".ays", "config.yaml");
    try {
      await writeFile(file, "# mine\nname: shop # the name\n");
      assert.deepEqual(await writeRepoSetting(repo.path, { key: "noexec", value: true }), {
        name: "shop",
        noexec: true,
      });
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\nnoexec: true\n");
      await writeRepoSetting(repo.path, { key: "noexec", value: undefined });
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\n");
      await assert.rejects(writeRepoSetting(repo.path, { key: "parallel", value: 0 }), InputError);
      assert.equal(await readFile(file, "utf8"), "# mine\nname: shop # the name\n");
      assert.deepEqual(parseRepoConfig("compat: v81\n", { file: "c" }), { compat: "v81" });
      assert.throws(() => parseRepoConfig("compat: v9\n", { file: "c" }), /'compat': must be v81/);
    } finally {
      await repo.remove();
    }
  });

  it("turns a v8.1 .ays marker file into a folder", async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, ".ays"), "");
      await writeRepoSetting(dir.path, { key: "noexec", value: true });
      assert.ok((await stat(join(dir.path, ".ays"))).isDirectory());
      assert.deepEqual(await readRepoConfig(dir.path), { noexec: true });
    } finally {
      await dir.remove();
    }
  });
});
