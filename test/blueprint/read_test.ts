import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import { readBlueprint } from "../../src/blueprint/read.ts";

const file = "bp.yaml";

function fails(text: string | Uint8Array, line: number, column: number, fragment: RegExp): void {
  assert.throws(() => readBlueprint(text, { file }), (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
    assert.deepEqual(error.location, { file, line, column });
    assert.match(error.message, fragment);
    return true;
  });
}

describe("readBlueprint", () => {
  it("reads services, attributes with positions, actions and eventfilters", () => {
    const doc = readBlueprint(
      [
        "sshkey__main:",
        "",
        "node.ssh__web1:",
        "  ssh.addr: 10.0.0.5",
        "  ssh.port: 22",
        "  sshkey:",
        "    - main",
        "    - other",
        "",
        "actions:",
        "  - action: install, start",
        "    actor: node\\..*",
        "    service: web.*",
        "  - action: monitor",
        "    recurring: 1h30m",
        "    force: true",
        "eventfilters:",
        "  - actor: node.ssh",
        "    channel: telegram",
        "",
      ].join("\n"),
      { file },
    );
    assert.equal(doc.services.length, 2);
    assert.deepEqual(doc.services[0], {
      actor: "sshkey",
      instance: "main",
      location: { file, line: 1, column: 1 },
      attributes: [],
    });
    const web = doc.services[1];
    assert.equal(web.actor, "node.ssh");
    assert.equal(web.instance, "web1");
    assert.deepEqual(web.attributes.map((a) => [a.key, a.value]), [
      ["ssh.addr", "10.0.0.5"],
      ["ssh.port", 22],
      ["sshkey", ["main", "other"]],
    ]);
    assert.deepEqual(web.attributes[1].keyLocation, { file, line: 5, column: 3 });
    assert.deepEqual(web.attributes[1].valueLocation, { file, line: 5, column: 13 });
    assert.deepEqual(web.attributes[2].itemLocations, [
      { file, line: 7, column: 7 },
      { file, line: 8, column: 7 },
    ]);
    assert.deepEqual(doc.actions, [
      {
        actions: ["install", "start"],
        actor: "node\\..*",
        service: "web.*",
        force: false,
        location: { file, line: 11, column: 5 },
        actionLocation: { file, line: 11, column: 13 },
      },
      {
        actions: ["monitor"],
        recurring: 5400,
        force: true,
        location: { file, line: 14, column: 5 },
        actionLocation: { file, line: 14, column: 13 },
      },
    ]);
    assert.deepEqual(doc.eventFilters, [
      {
        filter: { actor: "node.ssh", channel: "telegram" },
        location: { file, line: 18, column: 5 },
      },
    ]);
  });

  it("splits actor__instance at the first '__'", () => {
    const doc = readBlueprint("a.b__c__d:\n", { file });
    assert.equal(doc.services[0].actor, "a.b");
    assert.equal(doc.services[0].instance, "c__d");
  });

  it("reads tabs in indentation as four spaces and reports original columns", () => {
    const doc = readBlueprint("web__a:\n\tport: 22\n\tname: x\n", { file });
    assert.deepEqual(doc.services[0].attributes.map((a) => [a.key, a.value]), [["port", 22], [
      "name",
      "x",
    ]]);
    assert.deepEqual(doc.services[0].attributes[0].keyLocation, { file, line: 2, column: 2 });
    assert.deepEqual(doc.services[0].attributes[0].valueLocation, { file, line: 2, column: 8 });
    // A mix of a tab and spaces is four spaces plus the spaces.
    const mixed = readBlueprint("web__a:\n  \t  x:\n          y: 1\n", { file });
    assert.deepEqual(mixed.services[0].attributes[0].value, { y: 1 });
  });

  it("an empty file or one with only comments is an empty blueprint", () => {
    for (const text of ["", "\n\n", "# nothing yet\n"]) {
      const doc = readBlueprint(text, { file });
      assert.deepEqual([doc.services, doc.actions, doc.eventFilters], [[], [], []]);
    }
  });

  it("keeps v8.1 quoting and YAML 1.2 scalars", () => {
    const doc = readBlueprint(
      "a__b:\n  s: 'Können Sie mir behilflich sein?'\n  p: 2222:22\n  y: yes\n  n: ~\n",
      { file },
    );
    assert.deepEqual(Object.fromEntries(doc.services[0].attributes.map((a) => [a.key, a.value])), {
      s: "Können Sie mir behilflich sein?",
      p: "2222:22",
      y: "yes",
      n: null,
    });
  });

  it("accepts bytes with a BOM", () => {
    const bytes = new TextEncoder().encode("\uFEFFa__b:\n  x: 1\n");
    assert.equal(readBlueprint(bytes, { file }).services[0].actor, "a");
  });

  it("expands '<<: *anchor' merge keys; keys written in the mapping win", () => {
    const doc = readBlueprint(
      "node__a: &base\n  port: 22\n  user: root\nnode__b:\n  <<: *base\n  port: 2222\n",
      { file },
    );
    const b = doc.services[1];
    assert.deepEqual(b.attributes.map((a) => [a.key, a.value]), [["port", 2222], ["user", "root"]]);
    // A merged value keeps the position where the anchor defined it.
    assert.deepEqual(b.attributes[1].valueLocation, { file, line: 3, column: 9 });
  });

  it("accepts an empty actions section and the v8.1 'log' flag", () => {
    assert.deepEqual(readBlueprint("actions:\n", { file }).actions, []);
    assert.equal(
      readBlueprint("actions:\n  - action: x\n    log: false\n", { file }).actions.length,
      1,
    );
  });

  describe("errors", () => {
    it("YAML syntax", () => fails("a__b:\n  x: [1, 2\n", 3, 1, /YAML syntax error/));
    it("duplicate key", () => fails("a__b:\na__b:\n", 2, 1, /duplicate key 'a__b'/));
    it("duplicate attribute", () => fails("a__b:\n  x: 1\n  x: 2\n", 3, 3, /duplicate key 'x'/));
    it("top level a list", () => fails("- a__b\n", 1, 1, /top level must be a mapping/));
    it("top level a scalar", () => fails("\n\nhello\n", 1, 1, /top level must be a mapping/));
    it("unknown top-level key", () =>
      fails("a__b:\nservices:\n", 2, 1, /unknown top-level key 'services'/));
    it("empty actor", () => fails("__b:\n", 1, 1, /empty actor name/));
    it("empty instance", () => fails("x: 1\na__:\n", 1, 1, /unknown top-level key 'x'/));
    it("empty instance 2", () => fails("a__:\n", 1, 1, /empty instance name/));
    it("bad instance characters", () => fails("a__b!c:\n", 1, 1, /may not contain/));
    it("service value not a mapping", () =>
      fails("a__b: 5\n", 1, 7, /must be a mapping of attributes/));
    it("service value a list", () =>
      fails("a__b:\n  - 1\n", 2, 3, /must be a mapping of attributes/));
    it("actions not a list", () =>
      fails("actions:\n  action: x\n", 2, 3, /'actions' must be a list/));
    it("actions entry not a mapping", () =>
      fails("actions:\n  - install\n", 2, 5, /must be a mapping/));
    it("actions entry without action", () =>
      fails("actions:\n  - actor: x\n", 2, 5, /needs 'action: NAME/));
    it("actions entry with an unknown key", () =>
      fails("actions:\n  - action: x\n    when: now\n", 3, 5, /unknown key 'when'/));
    it("empty action name", () =>
      fails("actions:\n  - action: 'install,'\n", 2, 13, /action names/));
    it("bad actor regex", () =>
      fails(
        "actions:\n  - action: x\n    actor: 'node.('\n",
        3,
        12,
        /invalid actor regex 'node\.\('/,
      ));
    it("bad service regex", () =>
      fails("actions:\n  - action: x\n    service: '*'\n", 3, 14, /invalid service regex/));
    it("bad recurring period", () =>
      fails(
        "actions:\n  - action: x\n    recurring: soon\n",
        3,
        16,
        /'recurring': bad period "soon"/,
      ));
    it("force not a boolean", () =>
      fails("actions:\n  - action: x\n    force: 'yes'\n", 3, 12, /'force' must be true or false/));
    it("eventfilters with an unknown key", () =>
      fails("eventfilters:\n  - actor: x\n    color: red\n", 3, 5, /unknown key 'color'/));
    it("eventfilters not a list", () => fails("eventfilters: 3\n", 1, 15, /must be a list/));
    it("several YAML documents", () => fails("a__b:\n---\nc__d:\n", 2, 1, /YAML syntax error/));
    it("duplicate key inside a dict value", () =>
      fails("a__b:\n  conf:\n    x: 1\n    x: 2\n", 4, 5, /duplicate key 'x'/));
    it("merge of something that is not a mapping", () =>
      fails("node__a:\n  x: &v 1\nnode__b:\n  <<: *v\n", 4, 7, /'<<' must merge a mapping/));
    it("two merge keys in one mapping", () =>
      fails("n__a: &a\n  x: 1\nn__b:\n  <<: *a\n  <<: *a\n", 5, 3, /duplicate key '<<'/));
    it("binary content", () =>
      fails(
        new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0xff]),
        1,
        1,
        /not a text file/,
      ));
    it("NUL bytes in valid UTF-8", () => fails("a__b:\n  x: \0\n", 1, 1, /NUL bytes/));
    it("non-UTF-8 text", () =>
      fails(new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a]), 1, 1, /not valid UTF-8/));
    it("columns after a tab indent point into the original line", () =>
      fails("a__b:\n\tx: [1\n", 3, 1, /YAML syntax error/));
    it("a tab-indented duplicate reports its original column", () =>
      fails("a__b:\n\tx: 1\n\tx: 2\n", 3, 2, /duplicate key 'x'/));
  });
});
