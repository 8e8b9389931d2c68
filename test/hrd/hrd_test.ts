import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "../../src/errors.ts";
import {
  hrdLocation,
  readHrd,
  splitHrdDict,
  splitHrdList,
  splitHrdTokens,
  unquote,
} from "../../src/hrd/hrd.ts";

/** Runs `fn`, expects an InputError, returns it. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected InputError, got ${error}`);
    return error;
  }
  assert.fail("expected an InputError");
}

describe("readHrd", () => {
  it("reads key = value lines with their positions, skipping comments and blank lines", () => {
    const text = "# header\n\na = 1\n  b.c   =   two words  \n# end\n";
    const entries = readHrd(text, { file: "x.hrd" });
    assert.equal(entries.length, 2);
    assert.deepEqual(entries.map((e) => [e.key, e.raw, e.value, e.quoted]), [
      ["a", "1", "1", false],
      ["b.c", "two words", "two words", false],
    ]);
    assert.deepEqual(entries[0].location, { file: "x.hrd", line: 3, column: 1 });
    assert.deepEqual(entries[0].valueLocation, { file: "x.hrd", line: 3, column: 5 });
    assert.deepEqual(entries[1].location, { file: "x.hrd", line: 4, column: 3 });
    assert.deepEqual(entries[1].valueLocation, { file: "x.hrd", line: 4, column: 13 });
  });

  it("strips a whole-value quote of either kind and keeps # and = inside quotes", () => {
    const entries = readHrd(`a = 'x # y = z'\nb = "it's"\nc = ''\nd = 'a', 'b'`);
    assert.deepEqual(entries.map((e) => [e.value, e.quoted]), [
      ["x # y = z", true],
      ["it's", true],
      ["", true],
      ["'a', 'b'", false],
    ]);
  });

  it("cuts a comment after whitespace, not a # inside a word", () => {
    const entries = readHrd("a = x # comment\nb = re:^#\\d+$ # more\nc = v#1");
    assert.deepEqual(entries.map((e) => e.raw), ["x", "re:^#\\d+$", "v#1"]);
  });

  it("keeps an apostrophe inside a word as text", () => {
    const [entry] = readHrd("descr = descr:it's fine");
    assert.equal(entry.raw, "descr:it's fine");
  });

  it("continues an empty value on deeper-indented lines (the actor.hrd form)", () => {
    const text = "recurring.monitor =\n    period: 1m,\n    log: True,\nnext = 1\n";
    const entries = readHrd(text, { file: "actor.hrd" });
    assert.equal(entries.length, 2);
    assert.equal(entries[0].raw, "period: 1m,\nlog: True,");
    assert.deepEqual(entries[0].valueLocation, { file: "actor.hrd", line: 2, column: 5 });
    assert.equal(entries[1].key, "next");
  });

  it("continues a non-empty value on deeper lines that have no '='", () => {
    const entries = readHrd("a = period: 1m,\n      log: True\nb = 2");
    assert.equal(entries[0].raw, "period: 1m,\nlog: True");
    assert.equal(entries[1].raw, "2");
  });

  it("reads deeper lines with '=' as new entries after a non-empty value", () => {
    const entries = readHrd("a = 1\n  b = 2\n");
    assert.deepEqual(entries.map((e) => [e.key, e.raw]), [["a", "1"], ["b", "2"]]);
  });

  it("does not let an empty value swallow lines at the same indentation", () => {
    const entries = readHrd("  a =\n  b = type:int\n");
    assert.deepEqual(entries.map((e) => [e.key, e.raw]), [["a", ""], ["b", "type:int"]]);
  });

  it("ends a continued value at a blank line, skips comment lines inside it", () => {
    const entries = readHrd("a =\n    x,\n    # not this\n    y,\n\nb = 1");
    assert.equal(entries[0].raw, "x,\ny,");
    assert.equal(entries[1].key, "b");
  });

  it("handles CRLF, a BOM, tabs and a file without a final newline", () => {
    const entries = readHrd("\uFEFFa = 1\r\nb =\r\n\tx: 1,\r\n\ty: 2,");
    assert.deepEqual(entries.map((e) => [e.key, e.raw]), [["a", "1"], ["b", "x: 1,\ny: 2,"]]);
    assert.deepEqual(entries[1].spans.map((s) => [s.line, s.column]), [[3, 2], [4, 2]]);
  });

  it("reads an empty file as no entries", () => {
    assert.deepEqual(readHrd(""), []);
    assert.deepEqual(readHrd("# only a comment\n\n"), []);
  });

  it("rejects a line without '=' at its first character", () => {
    const error = inputError(() => readHrd("a = 1\n  b = 2\n  just words\n", { file: "s.hrd" }));
    assert.deepEqual(error.location, { file: "s.hrd", line: 3, column: 3 });
    assert.match(error.message, /expected "key = value"/);
  });

  it("rejects an empty key and a key with spaces", () => {
    const empty = inputError(() => readHrd("a = 1\n  = 2", { file: "s.hrd" }));
    assert.deepEqual(empty.location, { file: "s.hrd", line: 2, column: 3 });
    const spaced = inputError(() => readHrd("my key = 2", { file: "s.hrd" }));
    assert.deepEqual(spaced.location, { file: "s.hrd", line: 1, column: 1 });
  });

  it("rejects an unterminated quote at the quote", () => {
    const error = inputError(() => readHrd("a = 1\nb = type:str descr:'open", { file: "s.hrd" }));
    assert.deepEqual(error.location, { file: "s.hrd", line: 2, column: 20 });
    assert.match(error.message, /unterminated quote/);
  });

  it("uses <hrd> as the file name when none is given", () => {
    assert.equal(readHrd("a = 1")[0].location.file, "<hrd>");
  });
});

describe("HRD items", () => {
  it("splits tags at whitespace outside quotes, with columns", () => {
    const [entry] = readHrd("f = type:str descr:'two words' @ask", { file: "s.hrd" });
    const tokens = splitHrdTokens(entry);
    assert.deepEqual(tokens.map((t) => [t.raw, t.location.column]), [
      ["type:str", 5],
      ["descr:'two words'", 14],
      ["@ask", 32],
    ]);
  });

  it("splits a list at commas, unquoting items, dropping empty ones", () => {
    const [entry] = readHrd("l = a, 'b, c' ,\"d\",,");
    assert.deepEqual(splitHrdList(entry).map((i) => [i.text, i.quoted, i.location.column]), [
      ["a", false, 5],
      ["b, c", true, 8],
      ["d", true, 16],
    ]);
  });

  it("splits a continued dict with the line and column of each key and value", () => {
    const [entry] = readHrd("r =\n    period: 1m,\n    log:  'True',\n", { file: "a.hrd" });
    const pairs = splitHrdDict(entry);
    assert.deepEqual(
      pairs.map((p) => [p.key, p.value.text, p.keyLocation.line, p.keyLocation.column]),
      [["period", "1m", 2, 5], ["log", "True", 3, 5]],
    );
    assert.deepEqual(pairs[0].value.location, { file: "a.hrd", line: 2, column: 13 });
    assert.deepEqual(pairs[1].value.location, { file: "a.hrd", line: 3, column: 11 });
  });

  it("rejects a dict item without ':' at the item", () => {
    const [entry] = readHrd("r = period: 1m, oops", { file: "a.hrd" });
    const error = inputError(() => splitHrdDict(entry));
    assert.deepEqual(error.location, { file: "a.hrd", line: 1, column: 17 });
  });

  it("maps offsets of the joined value back to lines", () => {
    const [entry] = readHrd("k =\n  ab,\n     cd");
    assert.deepEqual(hrdLocation(entry, 0), { file: "<hrd>", line: 2, column: 3 });
    assert.deepEqual(hrdLocation(entry, 4), { file: "<hrd>", line: 3, column: 6 });
  });

  it("unquotes only a single whole quoted run", () => {
    assert.deepEqual(unquote("'a'"), { text: "a", quoted: true });
    assert.deepEqual(unquote('"a b"'), { text: "a b", quoted: true });
    assert.deepEqual(unquote("'a','b'"), { text: "'a','b'", quoted: false });
    assert.deepEqual(unquote("'"), { text: "'", quoted: false });
  });
});

describe("readHrd: bytes", () => {
  const bytes = (...parts: Array<string | number[]>): Uint8Array => {
    const out: number[] = [];
    for (const p of parts) out.push(...(typeof p === "string" ? new TextEncoder().encode(p) : p));
    return Uint8Array.from(out);
  };

  it("reads UTF-8 bytes as the same text, a BOM skipped", () => {
    const text = "# c\nname = café ü\nother = 'x'\n";
    assert.deepEqual(readHrd(bytes(text), { file: "a.hrd" }), readHrd(text, { file: "a.hrd" }));
    assert.deepEqual(
      readHrd(bytes([0xef, 0xbb, 0xbf], text), { file: "a.hrd" }),
      readHrd(text, { file: "a.hrd" }),
    );
  });

  it("refuses bytes that are not UTF-8 at the line and column of the first bad byte", () => {
    const cases: Array<[string, Uint8Array, number, number, RegExp]> = [
      ["a stray byte", bytes("a = 1\nb = x", [0xff], "y\n"), 2, 6, /byte 0xff is not valid UTF-8/],
      ["after a two-byte character", bytes("k = é", [0xfe]), 1, 6, /0xfe/],
      ["a cut-off sequence at the end", bytes("k = ", [0xe2, 0x82]), 1, 5, /0xe2/],
      ["an overlong form", bytes("k = ", [0xc0, 0xaf]), 1, 5, /0xc0/],
      ["an encoded surrogate", bytes("a = 1\n\nk = ", [0xed, 0xa0, 0x80]), 3, 5, /0xed/],
      ["a lone continuation byte", bytes("k = a", [0x80]), 1, 6, /0x80/],
      ["after a BOM", bytes([0xef, 0xbb, 0xbf], "k = ", [0xff]), 1, 5, /0xff/],
    ];
    for (const [label, source, line, column, message] of cases) {
      const error = inputError(() => readHrd(source, { file: "a.hrd" }));
      assert.match(error.message, /^not a text file: /, label);
      assert.match(error.message, message, label);
      assert.deepEqual(error.location, { file: "a.hrd", line, column }, label);
    }
  });

  it("refuses a NUL character at its line and column, in bytes and in text", () => {
    for (const source of [bytes("a = 1\nb = x\0y\n"), "a = 1\nb = x\0y\n"]) {
      const error = inputError(() => readHrd(source, { file: "a.hrd" }));
      assert.match(error.message, /NUL/);
      assert.deepEqual(error.location, { file: "a.hrd", line: 2, column: 6 });
    }
    const error = inputError(() => readHrd("\uFEFF# c\0", { file: "a.hrd" }));
    assert.deepEqual(error.location, { file: "a.hrd", line: 1, column: 4 });
  });
});
