import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { InputError } from "../../src/errors.ts";
import type { FieldSpec } from "../../src/model/field_spec.ts";
import { readSchemaHrd } from "../../src/hrd/schema_hrd.ts";
import {
  checkFieldValue,
  fromStorable,
  isIpAddress,
  isoToEpochSeconds,
  maskSecrets,
  toStorable,
  validateData,
  type ValidateOptions,
} from "../../src/model/validate.ts";

function schema(lines: string[]): FieldSpec[] {
  return readSchemaHrd(lines.join("\n")).fields;
}

/** Expects validateData to throw an InputError with exactly `message`; returns it. */
function rejects(
  fields: FieldSpec[],
  input: unknown,
  message: string | RegExp,
  options: ValidateOptions = {},
): InputError {
  let caught: unknown;
  try {
    validateData(fields, input, options);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InputError, `expected InputError, got ${caught}`);
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
}

const node = schema([
  "ssh.addr = type:ipaddr default:127.0.0.1 alias:ip",
  "ssh.port = type:int default:22 minval:1 maxval:65535",
  "login = regex:'[a-z]+' default:root",
  "password = type:password regex:'[A-Za-z0-9]{8,}'",
  "tags = list",
  "size = singlechoice:s,m,l",
  "features = multichoice:a,b,c",
]);

describe("validateData: defaults and keys", () => {
  it("returns the full object in schema order with defaults and zero values", () => {
    assert.deepEqual(validateData(node, { sshPort: 2222 }), {
      sshAddr: "127.0.0.1",
      sshPort: 2222,
      login: "root",
      password: "",
      tags: [],
      size: "",
      features: [],
    });
    assert.deepEqual(Object.keys(validateData(node, { features: ["a"], sshAddr: "::1" })), [
      "sshAddr",
      "sshPort",
      "login",
      "password",
      "tags",
      "size",
      "features",
    ]);
  });

  it("takes undefined, null and {} input as no values", () => {
    const all = validateData(node, {});
    assert.deepEqual(validateData(node, undefined), all);
    assert.deepEqual(validateData(node, null), all);
  });

  it("accepts keys with dots, underscores, camelCase and aliases", () => {
    assert.equal(validateData(node, { "ssh.port": 1 }).sshPort, 1);
    assert.equal(validateData(node, { ssh_port: 2 }).sshPort, 2);
    assert.equal(validateData(node, { sshPort: 3 }).sshPort, 3);
    assert.equal(validateData(node, { ip: "10.1.1.1" }).sshAddr, "10.1.1.1");
  });

  it("null means the default", () => {
    assert.equal(validateData(node, { sshPort: null }).sshPort, 22);
    assert.deepEqual(validateData(node, { sshPort: null }, { partial: true }), { sshPort: 22 });
  });

  it("partial validates and returns only the given keys", () => {
    assert.deepEqual(validateData(node, { ssh_port: 80, tags: "x" }, { partial: true }), {
      sshPort: 80,
      tags: ["x"],
    });
    assert.deepEqual(validateData(node, {}, { partial: true }), {});
    rejects(node, { sshPort: 0 }, "sshPort: 0 is below minval 1", { partial: true });
  });

  it("rejects unknown keys and two spellings of one field, at the key", () => {
    const locate = (key: string) => ({ line: key.length, column: 3 });
    const unknown = rejects(
      node,
      { sshPort: 1, colour: "red" },
      /^unknown field "colour" \(fields: sshAddr, sshPort/,
      {
        file: "bp.yaml",
        locate,
      },
    );
    assert.deepEqual(unknown.location, { file: "bp.yaml", line: 6, column: 3 });
    const twice = rejects(
      node,
      { "ssh.port": 1, sshPort: 2 },
      '"ssh.port" and "sshPort" both set field sshPort',
      {
        file: "bp.yaml",
        locate,
      },
    );
    assert.deepEqual(twice.location, { file: "bp.yaml", line: 7, column: 3 });
  });

  it("rejects input that is not a mapping", () => {
    rejects(node, [1], "expected a mapping of field values, got list");
    rejects(node, "x", "expected a mapping of field values, got string");
  });

  it("puts the located key's position on errors; no file and no locate: no location", () => {
    const error = rejects(node, { "ssh.port": 70000 }, "sshPort: 70000 is above maxval 65535", {
      file: "bp.yaml",
      locate: (key) => (key === "ssh.port" ? { line: 4, column: 13 } : undefined),
    });
    assert.deepEqual(error.location, { file: "bp.yaml", line: 4, column: 13 });
    assert.equal(rejects(node, { sshPort: 0 }, /below/).location, undefined);
    assert.deepEqual(rejects(node, { sshPort: 0 }, /below/, { file: "d.json" }).location, {
      file: "d.json",
    });
  });

  it("accepts the zero value of a field without default and is idempotent", () => {
    const strict = schema(["n = type:int minval:5", "s = regex:'[a-z]+'", "c = singlechoice:x,y"]);
    const full = validateData(strict, {});
    assert.deepEqual(full, { n: 0, s: "", c: "" });
    assert.deepEqual(validateData(strict, full), full);
    rejects(strict, { n: 1 }, "n: 1 is below minval 5");
  });
});

describe("validateData: types", () => {
  const typed = schema([
    "i = type:int",
    "f = type:float",
    "b = type:bool",
    "s = type:str",
    "m = type:multiline",
    "d = type:dict",
    "t = type:date",
    "p = type:ipport",
    "a = type:ipaddr",
    "a6 = type:ipaddress",
    "e = type:email",
    "g = type:guid",
    "tel = type:tel",
    "path = type:path",
    "li = type:int list",
    "ld = type:dict list",
  ]);
  const ok = (input: Record<string, unknown>) => validateData(typed, input, { partial: true });

  it("int: whole safe numbers; bigint in range; no strings", () => {
    assert.deepEqual(ok({ i: -42 }), { i: -42 });
    assert.deepEqual(ok({ i: 9007199254740991 }), { i: 9007199254740991 });
    assert.deepEqual(ok({ i: 12n }), { i: 12 });
    rejects(typed, { i: "22" }, 'i: expected an integer, got string "22"');
    rejects(typed, { i: 1.5 }, "i: expected an integer, got number 1.5");
    rejects(typed, { i: 2 ** 53 }, /^i: 9007199254740992 does not fit a safe integer/);
    rejects(typed, { i: 2n ** 70n }, /^i: 1180591620717411303424 does not fit a safe integer/);
    rejects(typed, { i: true }, "i: expected an integer, got boolean true");
  });

  it("float: finite numbers", () => {
    assert.deepEqual(ok({ f: 1 }), { f: 1 });
    assert.deepEqual(ok({ f: -0.25 }), { f: -0.25 });
    rejects(typed, { f: Number.NaN }, /^f: expected a number/);
    rejects(typed, { f: Infinity }, /^f: expected a number/);
    rejects(typed, { f: "1.5" }, 'f: expected a number, got string "1.5"');
  });

  it("bool: booleans only", () => {
    assert.deepEqual(ok({ b: false }), { b: false });
    rejects(typed, { b: "true" }, 'b: expected true or false, got string "true"');
    rejects(typed, { b: 1 }, "b: expected true or false, got number 1");
  });

  it("text types: strings only", () => {
    assert.deepEqual(ok({ s: "x", m: "a\nb", tel: "+32 1", path: "/x" }), {
      s: "x",
      m: "a\nb",
      tel: "+32 1",
      path: "/x",
    });
    rejects(typed, { s: 22 }, "s: expected a string, got number 22");
    rejects(typed, { m: ["a"] }, "m: expected a string, got a list");
    rejects(typed, { path: {} }, "path: expected a path (text), got a mapping");
  });

  it("dict: a mapping, not a list or null-ish", () => {
    assert.deepEqual(ok({ d: { a: [1, { b: null }] } }), { d: { a: [1, { b: null }] } });
    rejects(typed, { d: [1] }, "d: expected a mapping, got a list");
    rejects(typed, { d: "{}" }, 'd: expected a mapping, got string "{}"');
  });

  it("date: epoch seconds, ISO 8601 text (UTC unless a zone is given), Date objects", () => {
    assert.deepEqual(ok({ t: 1700000000 }), { t: 1700000000 });
    assert.deepEqual(ok({ t: -86400 }), { t: -86400 });
    assert.deepEqual(ok({ t: "2024-01-01" }), { t: 1704067200 });
    assert.deepEqual(ok({ t: "2024-01-01T10:00:00" }), { t: 1704103200 });
    assert.deepEqual(ok({ t: "2024-01-01T10:00:00.900Z" }), { t: 1704103200 });
    assert.deepEqual(ok({ t: "2024-01-01 12:00+0200" }), { t: 1704103200 });
    assert.deepEqual(ok({ t: new Date(1704103200500) }), { t: 1704103200 });
    rejects(typed, { t: "2024-13-01" }, /^t: expected a date/);
    rejects(typed, { t: "2023-02-29" }, /^t: expected a date/);
    rejects(typed, { t: "2024-01-01T25:00" }, /^t: expected a date/);
    rejects(
      typed,
      { t: "yesterday" },
      /^t: expected a date \(epoch seconds or ISO 8601 text\), got string "yesterday"/,
    );
    rejects(typed, { t: 1.5 }, /^t: expected a date/);
    rejects(typed, { t: false }, /^t: expected a date/);
  });

  it("ipport: a number or digit text 1-65535, stored as digit text", () => {
    assert.deepEqual(ok({ p: 22 }), { p: "22" });
    assert.deepEqual(ok({ p: "8080" }), { p: "8080" });
    rejects(typed, { p: 0 }, "p: 0 is not a port number (1-65535)");
    rejects(typed, { p: 65536 }, "p: 65536 is not a port number (1-65535)");
    rejects(typed, { p: "http" }, 'p: "http" is not a port number (1-65535)');
    rejects(typed, { p: true }, /^p: expected a port number/);
  });

  it("ipaddr / ipaddress: IPv4 or IPv6", () => {
    assert.deepEqual(ok({ a: "10.0.0.255", a6: "2001:db8::1" }), {
      a: "10.0.0.255",
      a6: "2001:db8::1",
    });
    assert.deepEqual(ok({ a: "::ffff:10.0.0.1" }), { a: "::ffff:10.0.0.1" });
    rejects(typed, { a: "10.0.0.256" }, 'a: "10.0.0.256" is not an IP address');
    rejects(typed, { a6: "host.example.com" }, /is not an IP address/);
    rejects(typed, { a6: "::1]:80/x[" }, /is not an IP address/);
    rejects(typed, { a6: "1:2:3:4:5:6:7:8:9" }, /is not an IP address/);
  });

  it("email and guid formats", () => {
    assert.deepEqual(ok({ e: "root@localhost", g: "123E4567-e89b-12d3-a456-426614174000" }), {
      e: "root@localhost",
      g: "123E4567-e89b-12d3-a456-426614174000",
    });
    rejects(typed, { e: "a b@c" }, 'e: "a b@c" is not an email address');
    rejects(typed, { e: "@c" }, /is not an email address/);
    rejects(typed, { g: "123e4567e89b12d3a456426614174000" }, /is not a GUID/);
  });

  it("the empty string is 'not set' for the format-checked text types", () => {
    assert.deepEqual(ok({ a: "", e: "", g: "", p: "" }), { a: "", e: "", g: "", p: "" });
  });

  it("lists: arrays of the type; a single value is a one-item list; errors name the index", () => {
    assert.deepEqual(ok({ li: [1, 2] }), { li: [1, 2] });
    assert.deepEqual(ok({ li: 7 }), { li: [7] });
    assert.deepEqual(ok({ ld: [{}, { a: 1 }] }), { ld: [{}, { a: 1 }] });
    rejects(typed, { li: [1, "2"] }, 'li[1]: expected an integer, got string "2"');
    rejects(typed, { ld: [{}, []] }, "ld[1]: expected a mapping, got a list");
  });
});

describe("validateData: constraints", () => {
  it("minval / maxval, named in the message", () => {
    rejects(node, { sshPort: 70000 }, "sshPort: 70000 is above maxval 65535");
    rejects(node, { sshPort: 0 }, "sshPort: 0 is below minval 1");
    const floats = schema(["r = type:float minval:0.5 maxval:1.5", "l = type:int list maxval:3"]);
    assert.deepEqual(validateData(floats, { r: 0.5, l: [3] }), { r: 0.5, l: [3] });
    rejects(floats, { r: 1.6 }, "r: 1.6 is above maxval 1.5");
    rejects(floats, { l: [1, 4] }, "l[1]: 4 is above maxval 3");
  });

  it("regex: a full match", () => {
    assert.equal(validateData(node, { login: "admin" }).login, "admin");
    rejects(node, { login: "admin1" }, 'login: "admin1" does not match regex [a-z]+');
    rejects(node, { login: "x admin" }, /does not match regex/);
    const alt = schema(["v = regex:'a|b'"]);
    rejects(alt, { v: "ab" }, 'v: "ab" does not match regex a|b');
  });

  it("singlechoice and multichoice", () => {
    assert.equal(validateData(node, { size: "m" }).size, "m");
    rejects(node, { size: "xl" }, 'size: "xl" is not one of s, m, l (singlechoice)');
    assert.deepEqual(validateData(node, { features: ["a", "c"] }).features, ["a", "c"]);
    assert.deepEqual(validateData(node, { features: "b" }).features, ["b"]);
    rejects(node, { features: ["a", "d"] }, 'features[1]: "d" is not one of a, b, c (multichoice)');
  });

  it("never shows a secret value", () => {
    const error = rejects(
      node,
      { password: "short" },
      "password: the value does not match regex [A-Za-z0-9]{8,}",
    );
    assert.ok(!error.message.includes("short"));
    const typeError = rejects(
      node,
      { password: 12345678 },
      "password: expected a string, got a number",
    );
    assert.ok(!typeError.message.includes("12345678"));
    assert.equal(validateData(node, { password: "LongEnough1" }).password, "LongEnough1");
  });
});

describe("checkFieldValue", () => {
  it("returns the stored value or the failed rule without the field name", () => {
    const [port] = schema(["p = type:ipport"]);
    assert.deepEqual(checkFieldValue(port, 22), { ok: true, value: "22" });
    assert.deepEqual(checkFieldValue(port, 0), {
      ok: false,
      message: "0 is not a port number (1-65535)",
    });
  });

  it("accepts plain values of plain types as they are, and checks their bounds and formats", () => {
    // These values take the quick path (no zod); the results are those zod gives.
    const [n, f, s, b, ip, tags] = schema([
      "n = type:int minval:1 maxval:10",
      "f = type:float maxval:1.5",
      "s = type:str",
      "b = type:bool",
      "ip = type:ipaddr",
      "tags = type:str list",
    ]);
    assert.deepEqual(checkFieldValue(n, 1), { ok: true, value: 1 });
    assert.deepEqual(checkFieldValue(n, 10), { ok: true, value: 10 });
    assert.deepEqual(checkFieldValue(n, 11), { ok: false, message: "11 is above maxval 10" });
    assert.deepEqual(checkFieldValue(n, 0), { ok: false, message: "0 is below minval 1" });
    assert.equal(checkFieldValue(n, 2.5).ok, false);
    assert.deepEqual(checkFieldValue(n, 3n), { ok: true, value: 3 }, "a bigint becomes a number");
    assert.deepEqual(checkFieldValue(f, 1.5), { ok: true, value: 1.5 });
    assert.equal(checkFieldValue(f, NaN).ok, false);
    assert.equal(checkFieldValue(f, 2).ok, false);
    assert.deepEqual(checkFieldValue(s, ""), { ok: true, value: "" });
    assert.deepEqual(checkFieldValue(s, 22), {
      ok: false,
      message: "expected a string, got number 22",
    });
    assert.deepEqual(checkFieldValue(b, false), { ok: true, value: false });
    assert.equal(checkFieldValue(b, "yes").ok, false);
    assert.deepEqual(checkFieldValue(ip, "10.0.0.255"), { ok: true, value: "10.0.0.255" });
    assert.deepEqual(checkFieldValue(ip, ""), { ok: true, value: "" });
    assert.deepEqual(checkFieldValue(ip, "::1"), { ok: true, value: "::1" }, "IPv6 through zod");
    assert.deepEqual(checkFieldValue(ip, "10.0.0.256"), {
      ok: false,
      message: '"10.0.0.256" is not an IP address',
    });
    const given = ["a", "b"];
    const stored = checkFieldValue(tags, given);
    assert.deepEqual(stored, { ok: true, value: ["a", "b"] });
    assert.notEqual((stored as { value: unknown }).value, given, "a list is stored as a copy");
    assert.deepEqual(checkFieldValue(tags, "a"), { ok: true, value: ["a"] });
    assert.deepEqual(checkFieldValue(tags, ["a", 1]), {
      ok: false,
      message: "[1]: expected a string, got number 1",
    });
  });
});

describe("helpers", () => {
  it("isIpAddress and isoToEpochSeconds", () => {
    assert.ok(isIpAddress("0.0.0.0") && isIpAddress("::") && !isIpAddress("1.2.3"));
    assert.equal(isoToEpochSeconds("1970-01-01T00:00:01Z"), 1);
    assert.equal(isoToEpochSeconds("not a date"), undefined);
  });
});

describe("toStorable / fromStorable", () => {
  const fields = schema(["d = type:dict", "ds = type:dict list", "n = type:int", "s = secret"]);

  it("turns dict values into JSON text and back; other fields are untouched", () => {
    const data = validateData(fields, { d: { a: [1, "x"] }, ds: [{ b: true }, {}], n: 3 });
    const stored = toStorable(fields, data);
    assert.deepEqual(stored, { d: '{"a":[1,"x"]}', ds: ['{"b":true}', "{}"], n: 3, s: "" });
    assert.deepEqual(fromStorable(fields, stored), data);
    assert.deepEqual(data.d, { a: [1, "x"] }, "the input is not changed");
  });

  it("reads empty text as {} and rejects text that is not a JSON object", () => {
    assert.deepEqual(fromStorable(fields, { d: "", ds: [""] }), { d: {}, ds: [{}] });
    assert.throws(() => fromStorable(fields, { d: "{" }), /d: stored dict is not JSON/);
    assert.throws(() => fromStorable(fields, { d: "[1]" }), /d: stored dict is not a JSON object/);
  });

  it("leaves out fields the data does not have (partial data)", () => {
    assert.deepEqual(toStorable(fields, { n: 1 }), { n: 1 });
    assert.deepEqual(fromStorable(fields, { n: 1 }), { n: 1 });
  });

  it("maskSecrets shows non-empty secrets as ***", () => {
    assert.deepEqual(maskSecrets(fields, { s: "pw", n: 1 }), { s: "***", n: 1 });
    assert.deepEqual(maskSecrets(fields, { s: "" }), { s: "" });
  });
});

describe("the fixture corpus", () => {
  const dir = fileURLToPath(new URL("../fixtures/hrd/", import.meta.url));
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".schema.hrd")).sort()) {
    it(`${name}: defaults validate, and validated data validates to itself`, () => {
      const { fields } = readSchemaHrd(readFileSync(dir + name, "utf8"), { file: name });
      const full = validateData(fields, {});
      for (const f of fields) {
        if (f.default !== undefined) assert.deepEqual(full[f.camelName], f.default, f.name);
      }
      assert.deepEqual(validateData(fields, full), full);
      assert.deepEqual(validateData(fields, structuredClone(full), { partial: true }), full);
      assert.deepEqual(fromStorable(fields, toStorable(fields, full)), full);
    });
  }
});
