import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import type { FieldSpec } from "../../src/model/field_spec.ts";
import { type FieldTags, newFieldSpec } from "../../src/model/fields.ts";
import { readSchemaHrd } from "../../src/hrd/schema_hrd.ts";
import { HRD_TYPES } from "../../src/model/fields.ts";

function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/hrd/${name}`, import.meta.url)), "utf8");
}

/** Field specs without their locations, as plain objects. */
function specs(text: string, file = "schema.hrd"): Array<Omit<FieldSpec, "location">> {
  return readSchemaHrd(text, { file }).fields.map(({ location: _location, ...rest }) => rest);
}

/** A field spec with the defaults of an untagged line. */
function field(name: string, camelName: string, extra: FieldTags = {}): FieldSpec {
  return newFieldSpec(name, { camelName, ...extra });
}

function one(line: string): Omit<FieldSpec, "location"> {
  return specs(line)[0];
}

/** Expects an InputError at line:column whose message matches. */
function rejects(
  text: string | Uint8Array,
  line: number,
  column: number,
  message: RegExp,
): void {
  assert.throws(() => readSchemaHrd(text, { file: "bad.hrd" }), (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${error}`);
    assert.match(error.message, message);
    assert.deepEqual(error.location, { file: "bad.hrd", line, column });
    return true;
  });
}

describe("readSchemaHrd: the fixture corpus", () => {
  it("node_ssh.schema.hrd", () => {
    assert.deepEqual(specs(fixture("node_ssh.schema.hrd")), [
      field("ssh.addr", "sshAddr", {
        type: "ipaddr",
        default: "127.0.0.1",
        description: "address to connect to",
        aliases: ["ip", "address"],
      }),
      field("ssh.port", "sshPort", {
        type: "int",
        default: 22,
        minval: 1,
        maxval: 65535,
        aliases: ["port"],
      }),
      field("login", "login", { default: "root", regex: "[a-z_][a-z0-9_-]*" }),
      field("password", "password", { type: "password", secret: true, ask: true }),
      field("sshkey", "sshkey", { auto: true, consume: { roles: ["sshkey"], min: 1, max: 1 } }),
      field("tags", "tags", { list: true, default: ["web", "prod"] }),
    ]);
  });

  it("all_types.schema.hrd uses every type and parses each default per type", () => {
    const fields = specs(fixture("all_types.schema.hrd"));
    assert.deepEqual(new Set(fields.map((f) => f.type)), new Set(HRD_TYPES));
    const byName = Object.fromEntries(fields.map((f) => [f.camelName, f]));
    const defaults = Object.fromEntries(fields.map((f) => [f.camelName, f.default]));
    assert.deepEqual(defaults, {
      name: "my app",
      notes: "line one\nline two",
      contact: "ops@example.com",
      phone: "+32 475 99 99 99",
      listenIp: "10.0.0.1",
      listenPort: "8080",
      gateway: "fe80::1",
      created: Date.UTC(2024, 0, 2, 3, 4, 5) / 1000,
      started: 1700000000,
      home: "/opt/app",
      uid: "123e4567-e89b-12d3-a456-426614174000",
      settings: { debug: false, workers: 4 },
      secretKey: "changeme",
      ratio: 0.75,
      enabled: true,
      replicas: 3,
      big: -9007199254740991,
      count: undefined,
      plain: undefined,
      emptyStr: "",
      untouchedInt: undefined,
      untouchedFloat: undefined,
      untouchedBool: undefined,
      untouchedDict: undefined,
      untouchedDate: undefined,
    });
    assert.equal(byName.count.type, "int", "minval/maxval on an untyped field make it int");
    assert.equal(byName.replicas.type, "int", "integer is int");
    assert.equal(byName.secretKey.secret, true, "type:password is secret");
    assert.equal(byName.plain.type, "str", "str is the default type");
    assert.ok(!("default" in byName.plain), "no default: the key is absent");
  });

  it("lists.schema.hrd: comma-separated defaults of every list type", () => {
    const fields = specs(fixture("lists.schema.hrd"));
    assert.ok(fields.every((f) => f.list));
    assert.deepEqual(Object.fromEntries(fields.map((f) => [f.camelName, f.default])), {
      names: ["a", "b", "c"],
      ports: [80, 443],
      weights: [0.5, 1.5],
      flags: [true, false],
      dates: [0, 1700000000],
      emails: ["a@example.com", "b@example.com"],
      ips: ["10.0.0.1", "10.0.0.2"],
      endpoints: ["80", "443"],
      docs: undefined,
      paths: ["/a", "/b"],
      ids: undefined,
      phones: undefined,
      addrs: ["::1"],
      dicts: [{ a: 1 }, { b: 2 }],
      keys: undefined,
      empty: [],
      langs: ["en", "nl"],
      legacy: ["x", "y"],
    });
    const byName = Object.fromEntries(fields.map((f) => [f.camelName, f]));
    assert.equal(byName.legacy.type, "str", "type:list is a list of str");
    assert.deepEqual(byName.langs.multichoice, ["en", "fr", "nl"]);
    assert.equal(byName.keys.secret, true);
  });

  it("links.schema.hrd: parent, consume with counts and several roles, auto, optional", () => {
    assert.deepEqual(specs(fixture("links.schema.hrd")), [
      field("node", "node", {
        parent: "node",
        auto: true,
        optional: true,
        description: "hosting node",
      }),
      field("sshkey", "sshkey", { consume: { roles: ["sshkey"], min: 1, max: 1 } }),
      field("dbs", "dbs", {
        list: true,
        auto: true,
        consume: { roles: ["mysql", "postgres"], min: 0, max: 5 },
      }),
      field("monitor", "monitor", { consume: { roles: ["prometheus"], min: 0, max: 100 } }),
    ]);
  });

  it("constraints.schema.hrd: choices, regex, @ASK, secret, any order and case", () => {
    assert.deepEqual(specs(fixture("constraints.schema.hrd")), [
      field("size", "size", { singlechoice: ["small", "medium", "large"], default: "medium" }),
      field("color", "color", { singlechoice: ["red", "green", "blue"], default: "green" }),
      field("features", "features", {
        list: true,
        multichoice: ["ssl", "http2", "gzip"],
        default: ["ssl", "gzip"],
      }),
      field("hostname", "hostname", {
        regex: "[a-z0-9]([a-z0-9-]*[a-z0-9])?",
        default: "web1",
        ask: true,
      }),
      field("token", "token", { secret: true, description: "api token" }),
      field("version", "version", { default: "1.0" }),
      field("weight", "weight", { type: "float", minval: 0.5, maxval: 100, default: 1.5 }),
      field("since", "since", {
        type: "date",
        minval: Date.UTC(2020, 0, 1) / 1000,
        default: Date.UTC(2021, 5, 1) / 1000,
      }),
    ]);
  });

  it("duplicate.schema.hrd: first position, later tags, one warning with the location", () => {
    const result = readSchemaHrd(fixture("duplicate.schema.hrd"), { file: "dup.hrd" });
    assert.deepEqual(result.fields.map((f) => [f.name, f.default]), [
      ["description", "described"],
      ["datacenter", undefined],
    ]);
    assert.deepEqual(result.fields[0].location, { file: "dup.hrd", line: 4, column: 1 });
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /^dup\.hrd:4:1: field "description" is defined again/);
  });

  it("field locations point at the field's line", () => {
    const fields = readSchemaHrd(fixture("node_ssh.schema.hrd"), { file: "n.hrd" }).fields;
    assert.deepEqual(fields.map((f) => f.location?.line), [2, 3, 4, 5, 6, 7]);
  });
});

describe("readSchemaHrd: tags", () => {
  it("type: every spelling, case-insensitive", () => {
    const cases: Array<[string, string]> = [
      ["str", "str"],
      ["string", "str"],
      ["STRING", "str"],
      ["int", "int"],
      ["integer", "int"],
      ["Integer", "int"],
      ["boolean", "bool"],
      ["'float'", "float"],
      ...HRD_TYPES.map((t): [string, string] => [t, t]),
    ];
    for (const [spelled, type] of cases) assert.equal(one(`f = type:${spelled}`).type, type);
  });

  it("a field without tags is a str without default", () => {
    assert.deepEqual(one("f ="), field("f", "f"));
  });

  it("camelCase names from dots and underscores", () => {
    assert.deepEqual(specs("a.b_c = \nfield_with_underscore =\nx.y.z =").map((f) => f.camelName), [
      "aBC",
      "fieldWithUnderscore",
      "xYZ",
    ]);
  });

  it("descr: __ and \\n", () => {
    assert.equal(one("f = descr:a__b\\nc").description, "a b\nc");
    assert.equal(one(`f = descr:"quoted text" type:int`).description, "quoted text");
  });

  it("defaults per type", () => {
    assert.equal(one("f = type:int default:-5").default, -5);
    assert.equal(one("f = type:float default:1e3").default, 1000);
    assert.equal(one("f = type:float default:3").default, 3);
    for (const word of ["true", "True", "yes", "1"]) {
      assert.equal(one(`f = type:bool default:${word}`).default, true);
    }
    for (const word of ["false", "FALSE", "no", "0"]) {
      assert.equal(one(`f = type:bool default:${word}`).default, false);
    }
    assert.deepEqual(one("f = type:dict default:{}").default, {});
    assert.deepEqual(one(`f = type:dict default:{"a":[1,2]}`).default, { a: [1, 2] });
    assert.equal(one("f = type:date default:2024-01-01").default, 1704067200);
    assert.equal(one("f = type:date default:'2024-01-01 01:00+01:00'").default, 1704067200);
    assert.equal(one("f = type:ipport default:22").default, "22");
    assert.equal(one("f = default:'a:b c'").default, "a:b c");
    assert.equal(one("f = default:").default, "");
    assert.deepEqual(one("f = type:int list default:'[1, 2]'").default, [1, 2]);
    assert.deepEqual(one("f = list default:'x','y'").default, ["x", "y"]);
    assert.deepEqual(one("f = type:dict list default:[]").default, []);
  });

  it("consume: role, role:min, role:min:max, several roles", () => {
    assert.deepEqual(one("f = consume:db").consume, { roles: ["db"], min: 0, max: 100 });
    assert.deepEqual(one("f = consume:db:2").consume, { roles: ["db"], min: 2, max: 100 });
    assert.deepEqual(one("f = consume:db:2:3").consume, { roles: ["db"], min: 2, max: 3 });
    assert.deepEqual(one("f = consume:a,b").consume, { roles: ["a", "b"], min: 0, max: 100 });
    assert.deepEqual(one("f = consume:a:1,b:1").consume, { roles: ["a", "b"], min: 1, max: 100 });
  });

  it("labels: list, auto (and v8.1's parentauto/consumeauto), optional, secret, @ask", () => {
    const f = one("f = LIST Auto optional Secret @Ask");
    assert.deepEqual([f.list, f.auto, f.optional, f.secret, f.ask], [true, true, true, true, true]);
    assert.equal(one("f = parent:x parentauto").auto, true);
    assert.equal(one("f = consume:x consumeauto").auto, true);
  });

  it("alias: one or several", () => {
    assert.deepEqual(one("f = alias:g").aliases, ["g"]);
    assert.deepEqual(one("f = alias:'g, h.i'").aliases, ["g", "h.i"]);
  });

  it("regex, minval, maxval, singlechoice, multichoice", () => {
    const f = one("f = type:str regex:[a-z]+ singlechoice:'ab,cd'");
    assert.equal(f.regex, "[a-z]+");
    assert.deepEqual(f.singlechoice, ["ab", "cd"]);
    assert.deepEqual(one("f = minval:-3").minval, -3);
    assert.deepEqual(one("f = type:float maxval:2.5").maxval, 2.5);
    const multi = one("f = multichoice:a,b");
    assert.deepEqual([multi.list, multi.multichoice], [true, ["a", "b"]]);
  });

  it("a regex with spaces and quotes inside quotes", () => {
    assert.equal(one(`f = regex:"[a-z ]+'s"`).regex, "[a-z ]+'s");
  });
});

describe("readSchemaHrd: errors at line and column", () => {
  it("unknown tag, unknown label, unknown type", () => {
    rejects("a =\nf = type:str colour:red", 2, 14, /unknown tag "colour"/);
    rejects("f = type:str shiny", 1, 14, /unknown label "shiny"/);
    rejects("f = type:number", 1, 5, /unknown type "number"/);
  });

  it("a label with a value and a tag without one", () => {
    rejects("f = list:yes", 1, 5, /"list" is a label/);
    rejects("f = type", 1, 5, /tag "type" needs a value/);
  });

  it("a tag given twice", () => {
    rejects("f = type:int TYPE:str", 1, 14, /tag "type" given twice/);
  });

  it("bad field names", () => {
    rejects("Field = type:str", 1, 1, /must start with a lowercase letter/);
    rejects("f-x = type:str", 1, 1, /field name "f-x"/);
  });

  it("malformed defaults per type, at the default tag", () => {
    rejects("f = type:int default:abc", 1, 14, /default "abc" of field "f" is not an integer/);
    rejects("f = type:int default:1.5", 1, 14, /is not an integer/);
    rejects("f = type:int default:", 1, 14, /is not an integer/);
    rejects("f = type:float default:x", 1, 16, /is not a number/);
    rejects("f = type:bool default:maybe", 1, 15, /is not true or false/);
    rejects("f = type:dict default:[1]", 1, 15, /is not a JSON object/);
    rejects("f = type:dict default:'{bad'", 1, 15, /is not a JSON object/);
    rejects("f = type:date default:yesterday", 1, 15, /is not epoch seconds or an ISO 8601/);
    rejects("f = type:date default:2023-02-29", 1, 15, /is not epoch seconds/);
    rejects("f = type:int list default:1,x", 1, 19, /default "x"/);
    rejects("f = type:dict list default:{}", 1, 20, /is not a JSON object/);
    rejects("f = type:int default:99999999999999999999", 1, 14, /does not fit a safe integer/);
  });

  it("defaults that break the field's constraints", () => {
    rejects("f = type:int minval:1 maxval:5 default:9", 1, 32, /9 is above maxval 5/);
    rejects("f = type:int minval:1 default:0", 1, 23, /0 is below minval 1/);
    rejects("f = regex:[a-z]+ default:ABC", 1, 18, /"ABC" does not match regex \[a-z\]\+/);
    rejects("f = singlechoice:a,b default:c", 1, 22, /"c" is not one of a, b \(singlechoice\)/);
    rejects("f = multichoice:a,b default:a,c", 1, 21, /\[1\]: "c" is not one of a, b/);
    rejects("f = type:email default:nope", 1, 16, /"nope" is not an email address/);
    rejects("f = type:ipaddr default:300.1.1.1", 1, 17, /is not an IP address/);
    rejects("f = type:ipport default:70000", 1, 17, /is not a port number/);
    rejects("f = type:guid default:1234", 1, 15, /is not a GUID/);
    rejects("f = type:password minval:1 default:x", 1, 19, /minval needs type int/);
  });

  it("a secret default is not shown in the error", () => {
    assert.throws(
      () => readSchemaHrd("f = secret regex:[a-z]+ default:TopSecret1"),
      (error: unknown) => error instanceof InputError && !error.message.includes("TopSecret1"),
    );
  });

  it("constraints on the wrong type", () => {
    rejects("f = type:int regex:x", 1, 14, /regex needs a text type, not int/);
    rejects("f = type:bool minval:1", 1, 15, /minval needs type int, float or date/);
    rejects("f = type:int singlechoice:1,2", 1, 14, /singlechoice needs a text type/);
    rejects("f = singlechoice:a multichoice:b", 1, 20, /not both/);
    rejects("f = singlechoice:''", 1, 5, /needs at least one choice/);
  });

  it("malformed bounds, regexes, consume, parent and alias", () => {
    rejects("f = minval:x", 1, 5, /minval "x" of field "f" is not an integer/);
    rejects("f = minval:5 maxval:1", 1, 5, /minval 5 is above maxval 1/);
    rejects("f = regex:'[a-'", 1, 5, /does not compile/);
    rejects("f = consume:a:x", 1, 5, /consume count "x"/);
    rejects("f = consume:a:1:2:3", 1, 5, /role\[:min\[:max\]\]/);
    rejects("f = consume:a:5:1", 1, 5, /min 5 is above max 1/);
    rejects("f = consume:a:1,b:2", 1, 5, /different counts/);
    rejects("f = consume:,", 1, 5, /needs a role/);
    rejects("f = parent:'a b'", 1, 5, /parent expects one role/);
    rejects("f = alias:'a b'", 1, 5, /alias "a b" is not a field name/);
  });

  it("quotes inside link tags are dropped as v8.1 did: consume:'disk':0, consume:'sshkey':1:3", () => {
    assert.deepEqual(one("disk = consume:'disk':0").consume, { roles: ["disk"], min: 0, max: 100 });
    assert.deepEqual(one("k = type:str consume:'sshkey':1:3").consume, {
      roles: ["sshkey"],
      min: 1,
      max: 3,
    });
    assert.deepEqual(one('k = consume:"a","b":2').consume, { roles: ["a", "b"], min: 2, max: 100 });
    assert.equal(one("p = parent:'node'").parent, "node");
  });

  it("dotted actor names in consume: and parent: link to the role before the first dot", () => {
    assert.deepEqual(one("os = consume:'os.ssh.ubuntu':1").consume, {
      roles: ["os"],
      min: 1,
      max: 100,
      actors: ["os.ssh.ubuntu"],
    });
    assert.deepEqual(one("n = consume:node.ovc,sshkey").consume, {
      roles: ["node", "sshkey"],
      min: 0,
      max: 100,
      actors: ["node.ovc", "sshkey"],
    });
    const parent = one("n = parent:node.ovc auto");
    assert.equal(parent.parent, "node");
    assert.equal(parent.parentActor, "node.ovc");
    assert.equal(one("n = parent:node").parentActor, undefined);
    rejects("n = parent:.x", 1, 5, /parent expects one role/);
  });

  it("two parents: the first wins, the second is a plain text field, with a warning naming both lines", () => {
    const result = readSchemaHrd("vdc = type:string parent:vdc\nos = type:string parent:os\n", {
      file: "s.hrd",
    });
    assert.equal(result.fields[0].parent, "vdc");
    assert.equal(result.fields[1].parent, undefined);
    assert.equal(result.fields[1].type, "str");
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /^s\.hrd:2:18: field "os" names a second parent/);
    assert.match(result.warnings[0], /"vdc" at line 1 already names one/);
  });

  it("an alias that is another field's name", () => {
    rejects(
      "a.b = type:str\nc = alias:a_b",
      2,
      5,
      /alias "a_b" of field "c" is also the name of field "a.b"/,
    );
    rejects(
      "a = alias:x\nb = alias:x",
      2,
      5,
      /alias "x" of field "b" is also the name of field "a"/,
    );
  });

  it("HRD syntax errors come through with their position", () => {
    rejects("f = type:str\nno equals here", 2, 1, /expected "key = value"/);
    rejects("f = descr:'open", 1, 11, /unterminated quote/);
  });

  it("a field redefined under another spelling of the same camelCase name", () => {
    const result = readSchemaHrd("ssh.port = type:int\nssh_port = type:int default:22");
    assert.deepEqual(result.fields.map((f) => [f.name, f.camelName, f.default]), [
      ["ssh.port", "sshPort", 22],
    ]);
    assert.match(result.warnings[0], /first as "ssh\.port"/);
  });
});

describe("readSchemaHrd: bytes and names JavaScript objects have", () => {
  it("reads UTF-8 bytes; refuses bytes that are not UTF-8 and NUL at line and column", () => {
    const text = "name = type:str descr:'café'\nport = type:int default:22\n";
    assert.deepEqual(
      readSchemaHrd(new TextEncoder().encode(text), { file: "bad.hrd" }),
      readSchemaHrd(text, { file: "bad.hrd" }),
    );
    const utf8 = new TextEncoder().encode("name = type:str\nport = type:int descr:");
    rejects(Uint8Array.from([...utf8, 0xc3, 0x28]), 2, 23, /not a text file: byte 0xc3/);
    rejects("name = type:str\nport = type:int\0\n", 2, 16, /NUL/);
  });

  it("takes constructor, toString, prototype, hasOwnProperty as plain field names", () => {
    const names = ["constructor", "to_string", "prototype", "has_own_property", "value_of"];
    const fields = readSchemaHrd(names.map((n) => `${n} = type:str default:${n}`).join("\n"))
      .fields;
    assert.deepEqual(fields.map((f) => [f.name, f.camelName, f.default]), [
      ["constructor", "constructor", "constructor"],
      ["to_string", "toString", "to_string"],
      ["prototype", "prototype", "prototype"],
      ["has_own_property", "hasOwnProperty", "has_own_property"],
      ["value_of", "valueOf", "value_of"],
    ]);
    // Given twice under two spellings: the second redefines the first, as for any name.
    const twice = readSchemaHrd("to_string = type:str\ntoString = type:int\n");
    assert.deepEqual(twice.fields.map((f) => [f.name, f.type]), [["to_string", "int"]]);
    assert.equal(twice.warnings.length, 1);
  });

  it("prototype names as types, labels and tags are refused; as values they are kept", () => {
    for (const n of ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]) {
      rejects(`a = type:${n}`, 1, 5, /unknown type/);
      rejects(`a = ${n}`, 1, 5, /unknown label/);
      rejects(`a = ${n}:x`, 1, 5, /unknown tag/);
      const [f] = readSchemaHrd(`a = type:str consume:${n} singlechoice:${n},b default:${n}`)
        .fields;
      assert.deepEqual([f.consume?.roles, f.singlechoice, f.default], [[n], [n, "b"], n]);
    }
  });

  it("refuses __proto__ as a field name at its position", () => {
    rejects("a = type:str\n__proto__ = type:str\n", 2, 1, /field name "__proto__"/);
  });
});
