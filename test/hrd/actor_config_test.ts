import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import { emptyActorConfig, readActorHrd, readActorYaml } from "../../src/hrd/actor_config.ts";

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/hrd/${name}`, import.meta.url)), "utf8");
}

/** Expects an InputError at line:column whose message matches. */
function rejects(fn: () => unknown, line: number, column: number, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${error}`);
    assert.match(error.message, message);
    assert.equal(error.location?.line, line, `line of: ${error.message}`);
    assert.equal(error.location?.column, column, `column of: ${error.message}`);
    return true;
  });
}

describe("readActorHrd", () => {
  it("reads the fixture: continued recurring value, inline dict, bare period, flists, events", () => {
    assert.deepEqual(readActorHrd(fixture("recurring.actor.hrd"), { file: "actor.hrd" }), {
      recurring: {
        monitor: { period: 60, log: true },
        backup: { period: 86400, log: false },
        cleanup: { period: 5400, log: false },
      },
      actions: {},
      flists: { root: "https://hub.example.com/ubuntu.flist" },
      events: { channel: "ays events" },
    });
  });

  it("reads the v8.1 form without a final newline", () => {
    const text = "recurring.execution_gt_period =\n    period: 1m,\n    log: True,";
    assert.deepEqual(readActorHrd(text).recurring, {
      execution_gt_period: { period: 60, log: true },
    });
  });

  it("reads event.* as well as events.*; an empty file is an empty config", () => {
    assert.deepEqual(readActorHrd("event.a = x\nevents.b = y").events, { a: "x", b: "y" });
    assert.deepEqual(readActorHrd(""), emptyActorConfig());
  });

  it("takes 0 as a disabled period and log values in any case", () => {
    assert.deepEqual(readActorHrd("recurring.m = period: 0, log: yes").recurring, {
      m: { period: 0, log: true },
    });
  });

  it("rejects a bad period at its value", () => {
    rejects(
      () => readActorHrd("recurring.monitor =\n    period: soon,\n    log: True,", { file: "a" }),
      2,
      13,
      /recurring\.monitor period: bad period "soon"/,
    );
    rejects(() => readActorHrd("recurring.x = 5q"), 1, 15, /bad period "5q"/);
  });

  it("rejects a log that is not a boolean, an unknown setting, a missing period", () => {
    rejects(
      () => readActorHrd("recurring.m = period: 1m, log: maybe"),
      1,
      32,
      /expected True or False/,
    );
    rejects(
      () => readActorHrd("recurring.m =\n  period: 1m,\n  every: 2"),
      3,
      3,
      /unknown setting "every"/,
    );
    rejects(() => readActorHrd("recurring.m = log: True"), 1, 15, /no period/);
  });

  it("rejects unknown keys and a key given twice", () => {
    rejects(
      () => readActorHrd("# c\nrecuring.monitor = 1m"),
      2,
      1,
      /unknown actor setting "recuring\.monitor"/,
    );
    rejects(() => readActorHrd("recurring = 1m"), 1, 1, /unknown actor setting/);
    rejects(
      () => readActorHrd("flists.a = x\nflists.a = y"),
      2,
      1,
      /given twice \(first at line 1\)/,
    );
  });
});

describe("readActorYaml", () => {
  it("reads the fixture with per-action settings in seconds", () => {
    assert.deepEqual(readActorYaml(fixture("settings.actor.yaml"), { file: "actor.yaml" }), {
      recurring: { monitor: { period: 300, log: true }, cleanup: { period: 3600, log: false } },
      actions: {
        install: { timeout: 600, retries: 2, retryDelay: 5, deps: ["init"] },
        backup: { timeout: 7200, producers: true },
        heavy: { isolation: "job", timeout: 90 },
      },
      flists: { root: "https://hub.example.com/ubuntu.flist" },
      events: { channel: "ays" },
    });
  });

  it("reads isolation: process and memory sizes in bytes", () => {
    const MiB = 1024 * 1024;
    const yaml =
      "actions:\n  build: { isolation: process, memory: 512M }\n  big: { memory: 1.5G }\n" +
      "  raw: { memory: 134217728 }\n  unit: { memory: 2GiB, isolation: process }\n";
    assert.deepEqual(readActorYaml(yaml).actions, {
      build: { isolation: "process", memory: 512 * MiB },
      big: { memory: 1536 * MiB },
      raw: { memory: 128 * MiB },
      unit: { memory: 2048 * MiB, isolation: "process" },
    });
  });

  it("reads the minimal fixture, an empty file, empty sections and actions", () => {
    assert.deepEqual(readActorYaml(fixture("minimal.actor.yaml")).recurring, {
      monitor: { period: 60, log: false },
    });
    assert.deepEqual(readActorYaml(""), emptyActorConfig());
    assert.deepEqual(readActorYaml("# nothing\n"), emptyActorConfig());
    assert.deepEqual(readActorYaml("recurring:\nactions:\n  install:\n").actions, { install: {} });
  });

  it("reads executor: local, and refuses any other executor with its position", () => {
    assert.equal(readActorYaml("executor: local\n").executor, "local");
    assert.equal(readActorYaml("actions:\n").executor, undefined);
    rejects(
      () => readActorYaml("recurring:\nexecutor: ssh\n", { file: "a.yaml" }),
      2,
      11,
      /^executor: expected local/,
    );
  });

  it("accepts deps as a comma-separated string and numbers as flist text", () => {
    const config = readActorYaml("actions:\n  start: { deps: 'init, install' }\nflists:\n  v: 2\n");
    assert.deepEqual(config.actions.start.deps, ["init", "install"]);
    assert.deepEqual(config.flists, { v: "2" });
  });

  it("rejects bad values at their position with the path", () => {
    const text = "actions:\n  install: { timeout: 10x, retries: 2 }\n";
    rejects(
      () => readActorYaml(text, { file: "a.yaml" }),
      2,
      23,
      /^actions\.install\.timeout: bad period "10x"/,
    );
    rejects(
      () => readActorYaml("actions:\n  i:\n    retries: -1\n"),
      3,
      14,
      /retries: must be 0 or more/,
    );
    rejects(
      () => readActorYaml("actions:\n  i:\n    retries: 1.5\n"),
      3,
      14,
      /expected a whole number/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { timeout: 0 }\n"),
      2,
      17,
      /timeout: must be more than 0/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { isolation: thread }\n"),
      2,
      19,
      /expected pool, job or process, got string "thread"/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { memory: 12M }\n"),
      2,
      16,
      /actions\.i\.memory: bad memory size "12M": must be at least 128M/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { memory: 512MB }\n"),
      2,
      16,
      /bad memory size "512MB": expected bytes or a number with K, M, G or T/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { memory: [512M] }\n"),
      2,
      16,
      /expected a memory size such as 512M or 2G, got a list/,
    );
    rejects(
      () => readActorYaml("actions:\n  i:\n    isolation: job\n    memory: 1G\n"),
      4,
      13,
      /actions\.i\.memory: memory needs isolation: process/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { producers: yes }\n"),
      2,
      19,
      /expected true or false/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: { deps: [1] }\n"),
      2,
      15,
      /deps\.0: expected an action name/,
    );
    rejects(
      () => readActorYaml("actions:\n  i: 5\n"),
      2,
      6,
      /expected a mapping of action settings/,
    );
    rejects(
      () => readActorYaml("recurring:\n  m: { log: true }\n"),
      2,
      6,
      /recurring\.m\.period: expected a period/,
    );
    rejects(
      () => readActorYaml("recurring:\n  m: { period: 1m, log: 1 }\n"),
      2,
      25,
      /recurring\.m\.log: expected true or false/,
    );
  });

  it("rejects unknown keys at the key", () => {
    rejects(
      () => readActorYaml("actions:\n  i: { timeout: 1m, prodcers: true }\n"),
      2,
      21,
      /actions\.i: unknown setting "prodcers"/,
    );
    rejects(
      () => readActorYaml("recurring: {}\nschedule: 1\n"),
      2,
      1,
      /^unknown setting "schedule"/,
    );
  });

  it("rejects a top level that is not a mapping, YAML errors, duplicate keys", () => {
    rejects(() => readActorYaml("- a\n"), 1, 1, /expected a mapping/);
    rejects(() => readActorYaml("actions: [\n"), 2, 1, /./);
    rejects(() => readActorYaml("actions:\n  i: {}\n  i: {}\n"), 3, 3, /unique/);
  });
});

describe("actor configuration: names JavaScript objects cannot hold", () => {
  it("refuses __proto__ under recurring, flists and events of actor.hrd at the key", () => {
    for (const prefix of ["recurring", "flists", "event", "events"]) {
      rejects(
        () => readActorHrd(`recurring.ok = 1m\n${prefix}.__proto__ = 5m\n`, { file: "actor.hrd" }),
        2,
        1,
        new RegExp(`^${prefix}: "__proto__" cannot be the name`),
      );
    }
  });

  it("refuses __proto__ under recurring, actions, flists and events of actor.yaml at the key", () => {
    const cases: Array<[string, string]> = [
      ["recurring", "recurring:\n  ok: 1m\n  __proto__: { period: 5m }\n"],
      ["actions", "actions:\n  ok: {}\n  __proto__: { timeout: 1m }\n"],
      ["flists", "flists:\n  ok: x\n  __proto__: x\n"],
      ["events", "events:\n  ok: x\n  __proto__: x\n"],
      ["event", "event:\n  ok: x\n  __proto__: x\n"],
    ];
    for (const [section, text] of cases) {
      rejects(
        () => readActorYaml(text),
        3,
        3,
        new RegExp(`^${section}: "__proto__" cannot be the name`),
      );
    }
    // In flow style too, and inside an action's settings (an unknown setting).
    rejects(() => readActorYaml("recurring: { __proto__: 5m }\n"), 1, 14, /"__proto__" cannot/);
    rejects(
      () => readActorYaml("actions:\n  i: { __proto__: 1 }\n"),
      2,
      8,
      /actions\.i: unknown setting "__proto__"/,
    );
  });

  it("keeps other names of Object.prototype as plain action names", () => {
    const names = ["constructor", "toString", "hasOwnProperty", "prototype", "valueOf"];
    const yaml = readActorYaml(
      `recurring:\n${names.map((n) => `  ${n}: 1m\n`).join("")}actions:\n` +
        names.map((n) => `  ${n}: { retries: 1 }\n`).join(""),
    );
    const hrd = readActorHrd(names.map((n) => `recurring.${n} = 1m\nevents.${n} = e\n`).join(""));
    for (const config of [yaml, hrd]) {
      assert.deepEqual(Object.keys(config.recurring), names);
      for (const n of names) assert.deepEqual(config.recurring[n], { period: 60, log: false });
    }
    assert.deepEqual(Object.keys(yaml.actions), names);
    for (const n of names) assert.deepEqual(yaml.actions[n], { retries: 1 });
    assert.deepEqual(Object.keys(hrd.events), names);
    assert.equal(Object.getPrototypeOf(yaml.recurring), Object.prototype);
    assert.equal(Object.getPrototypeOf(hrd.recurring), Object.prototype);
  });

  it("refuses bytes of actor.hrd that are not UTF-8, at the byte", () => {
    const source = Uint8Array.from([
      ...new TextEncoder().encode("recurring.m = 1m\nflists.x = a"),
      0xff,
    ]);
    rejects(() => readActorHrd(source, { file: "actor.hrd" }), 2, 13, /not valid UTF-8/);
  });
});
