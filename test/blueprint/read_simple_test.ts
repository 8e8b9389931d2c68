/**
 * The fast path of reading blueprints (src/blueprint/read_simple.ts) against the full YAML
 * reader: whenever the fast path reads a document, the result — values and every position —
 * is the full reader's; whatever it does not read exactly, it leaves to the full reader.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BlueprintDoc, readBlueprint, readWithSections } from "../../src/blueprint/read.ts";
import { readSimpleBlueprint } from "../../src/blueprint/read_simple.ts";

const FILE = "blueprints/b.yaml";

/** The full reader's result, or its error message. */
function full(text: string): unknown {
  try {
    return readBlueprint(text, { file: FILE, simple: false });
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/**
 * A document's attributes as plain objects of their key, value and locations: the fast path
 * keeps its positions as numbers and makes the locations when asked (its own class), the full
 * reader keeps location objects.
 */
function plainDoc(doc: unknown): unknown {
  if (doc === null || typeof doc !== "object") return doc;
  const { services, ...rest } = doc as BlueprintDoc;
  return {
    ...rest,
    services: services.map((service) => ({
      ...service,
      attributes: service.attributes.map((a) => ({
        key: a.key,
        value: a.value,
        keyLocation: a.keyLocation,
        valueLocation: a.valueLocation,
        ...(a.itemLocations ? { itemLocations: a.itemLocations } : {}),
      })),
    })),
  };
}

/** Asserts that the fast path reads `text` and gives exactly what the full reader gives. */
function same(text: string): void {
  const fast = readSimpleBlueprint(text, FILE);
  assert.ok(fast, `the fast path should read:\n${text}`);
  assert.deepEqual(plainDoc(fast), plainDoc(full(text)), text);
}

/** Asserts that the fast path leaves `text` to the full reader. */
function left(text: string): void {
  assert.equal(readSimpleBlueprint(text, FILE), null, text);
}

/** Every value the fast path resolves itself, in YAML 1.2's core schema. */
const SCALARS = [
  "plain",
  "two words",
  "10.0.0.1",
  "a:b",
  "it's",
  "x,y",
  "<<",
  "=",
  "é ü",
  "-.",
  "1",
  "-1",
  "+1",
  "-0",
  "007",
  "0",
  "12345678901234567890",
  "1_000",
  "0o17",
  "0o8",
  "0x1F",
  "0xg",
  "1.5",
  "-1.5",
  ".5",
  "1.",
  "1.0",
  "1e3",
  "1.5E-3",
  "-.5e+2",
  "1e",
  ".inf",
  "-.Inf",
  "+.INF",
  ".nan",
  ".NaN",
  ".NAN",
  "nan",
  "inf",
  "~",
  "null",
  "Null",
  "NULL",
  "nULL",
  "true",
  "True",
  "TRUE",
  "tRUE",
  "false",
  "False",
  "FALSE",
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "'quoted'",
  "'it''s'",
  "''",
  '"double"',
  '""',
  "'a' ",
  '"x y"',
  "[]",
  "[a, b]",
  "[bench, g7]",
  "[1, 2.5, true, null, ~]",
  "[ a ,b]",
  "[two words, x]",
  "[-1, .5]",
  "[0x10, 0o7]",
  // Told apart by their first character (read_simple.ts, coreScalar): each form's edges.
  "+.5e3",
  "1.e5",
  ".e5",
  "1e+",
  "1e+5",
  "-1E-0",
  "+",
  "++1",
  "1..2",
  "1.2.3",
  "0o",
  "0x",
  "-0o7",
  "+0x1",
  "0o17x",
  "0b101",
  "~x",
  "nulls",
  "n1",
  "NaN",
  "truex",
  "f",
  "-.inf",
  "+.nan",
  ".infinity",
  "[+.5, 1.e5, 0o, +, nulls]",
];

describe("reading blueprints: the fast path", () => {
  it("reads the plain shape exactly as the full reader does", () => {
    same("");
    same("# only a comment\n\n");
    same("node__a:\n");
    same("node__a:\nnode__b:   \n  x: 1\n");
    same(
      "# fleet\nsshkey__k0:\n  key.pub: 'ssh-ed25519 K0'\n\nnode.ssh__n0:\n" +
        "  ssh.addr: 10.0.0.1\n  ssh.port: 1000\n  tags: [bench, g0]\n  password: pw0\n" +
        "  # a comment line\n  sshkey: k0\n",
    );
    same("app__a:\n    deep: 4\n    indent: yes\napp__b:\n x: 1\n");
    same("app__a:\n  x: trailing   \n  y: 'q'   \n");
    same("a.b-c__x-1.2:\n  _k: v\n  k.-: v\n");
  });

  it("resolves every scalar as YAML's core schema does", () => {
    for (const value of SCALARS) same(`app__a:\n  v: ${value}\n  w: 1\n`);
  });

  it("leaves everything else to the full reader", () => {
    const others = [
      "app__a:\n  v: 1 # comment\n",
      "app__a:\n\tv: 1\n",
      "app__a:\r\n  v: 1\r\n",
      "app__a:\n  v:\n",
      "app__a:\n  v:\n    - 1\n",
      "app__a:\n  v: |\n    text\n",
      "app__a:\n  v: >\n    text\n",
      "app__a:\n  v: &x 1\n  w: *x\n",
      "app__a:\n  v: !!str 1\n",
      "app__a:\n  v: {a: 1}\n",
      "app__a:\n  v: [a, [b]]\n",
      "app__a:\n  v: [a, b,]\n",
      "app__a:\n  v: [a: 1]\n",
      "app__a:\n  v: ['a']\n",
      "app__a:\n  v: a: b\n",
      "app__a:\n  v: 'a\n    b'\n",
      '"app__a":\n  v: 1\n',
      'app__a:\n  v: "a\\tb"\n',
      "app__a:\n  v: 'a'b'\n",
      "app__a:\n  v: - 1\n",
      "app__a:\n  v: -\n",
      "app__a:\n  v: 1\n   w: 2\n",
      "app__a:\n  v: 1\n  v: 2\n",
      "app__a:\napp__a:\n",
      "app__a: {}\n",
      "app__a: null\n",
      "actions:\n  - action: install\n",
      "eventfilters:\n  - action: x\n",
      "nounderscore:\n",
      "__x:\n",
      "app__:\n",
      "  app__a:\n",
      "---\napp__a:\n",
      "%YAML 1.2\n---\napp__a:\n",
      "app__a:\n  true: 1\n",
      "app__a:\n  null: 1\n",
      "app__a:\n  1: 1\n",
      "app__a:\n  <<: *base\n",
      "app__a:\n  v: ?x\n",
      "app__a:\n  v: @x\n",
      "app__a:\n  v: %x\n",
      "app__a:\n  v: `x\n",
    ];
    for (const text of others) left(text);
    // The full reader still reads (or refuses) them: the fast path changed nothing there.
    for (const text of others) full(text);
  });

  it("agrees with the full reader on generated documents", () => {
    // A fixed pseudo-random sequence (no clock): documents mixing every scalar above.
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let doc = 0; doc < 200; doc++) {
      const lines: string[] = [];
      for (let s = 0; s < 1 + next(4); s++) {
        lines.push(`role${next(3)}__i${doc}x${s}:${" ".repeat(next(2))}`);
        const indent = " ".repeat(1 + next(4));
        for (let a = 0; a < next(5); a++) {
          if (next(6) === 0) lines.push(`${indent}# note ${a}`);
          if (next(8) === 0) lines.push("");
          lines.push(`${indent}k${a}.x: ${SCALARS[next(SCALARS.length)]}`);
        }
      }
      same(lines.join("\n") + (next(2) ? "\n" : ""));
    }
  });

  it("readBlueprint takes the fast path for the plain shape and the full one otherwise", () => {
    const plain = readBlueprint("app__a:\n  v: 1\n", { file: FILE });
    assert.deepEqual(plainDoc(plain), plainDoc(full("app__a:\n  v: 1\n")));
    // Read line by line: its attributes keep their positions as numbers, not location objects.
    const attribute = plain.services[0].attributes[0];
    assert.notEqual(Object.getPrototypeOf(attribute), Object.prototype);
    assert.deepEqual(Object.keys(attribute).sort(), ["key", "value"]);
    // An error in a file the fast path leaves still has its position.
    assert.throws(
      () => readBlueprint("app__a:\n  v: 1\n  v: 2\n", { file: FILE }),
      /duplicate key 'v'/,
    );
  });
});

describe("plain entries followed by an actions: or eventfilters: section", () => {
  /** readBlueprint's result (fast head, parsed tail) or its error, against the full reader. */
  function sameAsFull(text: string): void {
    let split: unknown;
    try {
      split = readBlueprint(text, { file: FILE });
    } catch (error) {
      split = `error: ${(error as Error).message}`;
    }
    assert.deepEqual(plainDoc(split), plainDoc(full(text)), text);
  }

  const head = "app__a:\n  v: 1\n  tags: [x, y]\n\napp__b:\n  v: two\n";

  it("reads the entries line by line and the section with the parser, at the file's positions", () => {
    for (
      const tail of [
        "actions:\n  - action: install\n",
        "actions:\n  - action: install\n    service: 'a|b'\n    force: true\n",
        "eventfilters:\n  - channel: email\n",
        "actions:\n  - action: install\napp__c:\n  v: 3\neventfilters:\n  - cmd: x\n",
        "actions:\n\t- action: install\n",
        "actions: # the installs\n  - {action: install, actor: app}\n",
        "actions:\n",
      ]
    ) {
      assert.ok(readWithSections(head + tail, FILE), `read in two parts:\n${tail}`);
      sameAsFull(head + tail);
    }
  });

  it("leaves whatever the section does wrong to the parser of the whole file", () => {
    for (
      const tail of [
        "actions:\n  - action: 'no such'\n",
        "actions:\n  - action: install\napp__a:\n  v: again\n",
        "actions:\n  - action: install\nactions:\n  - action: start\n",
        "actions:\n  - action: install\n---\napp__z:\n",
        "actions:\n  - [\n",
      ]
    ) {
      assert.equal(readWithSections(head + tail, FILE), null, `left to the parser:\n${tail}`);
      sameAsFull(head + tail);
    }
  });
});
