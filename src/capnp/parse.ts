/**
 * Parser for the subset of the Cap'n Proto schema language that actor schemas need
 * (docs/capnp.md, "The supported capnp subset"): the file id, structs, nested structs, enums,
 * `List(T)`, primitive types, `Text`, `Data`, default values and comments. Everything else (unions, groups, interfaces, imports,
 * annotations, generics, constants, `using`) is refused with an {@link InputError} that names
 * the construct and says where it is.
 *
 * @module
 */
import { InputError, type SourceLocation } from "../errors.ts";
import {
  type CapnpType,
  type EnumModel,
  type FieldModel,
  PRIMITIVE_KINDS,
  type PrimitiveKind,
  type SchemaFile,
  type StructModel,
} from "./model.ts";

/** Options of {@link parseCapnp}. */
export interface ParseCapnpOptions {
  /** The file name used in error locations (default `schema.capnp`). */
  file?: string;
}

type TokenKind = "ident" | "number" | "string" | "hexdata" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of string and hex data literals. */
  bytes?: Uint8Array;
  line: number;
  column: number;
}

const PUNCT = "{}()[];:=,.$@-";

/** Splits schema text into tokens, dropping comments and white space. */
function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (message: string, at: number): never => {
    throw new InputError(message, { location: { file, line, column: at - lineStart + 1 } });
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    const start = i;
    const column = i - lineStart + 1;
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      tokens.push({ kind: "ident", text: text.slice(start, i), line, column });
      continue;
    }
    if (c === "0" && text[i + 1] === "x" && text[i + 2] === '"') {
      i += 3;
      let hex = "";
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\n") fail("unterminated hex data literal", start);
        if (!/\s/.test(text[i])) hex += text[i];
        i++;
      }
      if (i >= text.length) fail("unterminated hex data literal", start);
      i++;
      if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
        fail("hex data literal needs an even number of hex digits", start);
      }
      const bytes = new Uint8Array(hex.length / 2);
      for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(hex.slice(2 * k, 2 * k + 2), 16);
      tokens.push({ kind: "hexdata", text: text.slice(start, i), bytes, line, column });
      continue;
    }
    if (/[0-9]/.test(c)) {
      const match = /^(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)/.exec(
        text.slice(i, i + 64),
      )!;
      i += match[0].length;
      if (i < text.length && /[A-Za-z0-9_]/.test(text[i])) fail("malformed number", start);
      tokens.push({ kind: "number", text: match[0], line, column });
      continue;
    }
    if (c === '"' || c === "'") {
      const { bytes, end } = readString(text, i, (message, at) => fail(message, at));
      i = end;
      tokens.push({ kind: "string", text: text.slice(start, i), bytes, line, column });
      continue;
    }
    if (PUNCT.includes(c) || /[!-~]/.test(c)) {
      // Symbols of constructs ays does not support (`->` of methods) become tokens too, so
      // the parser can name the construct instead of the character.
      i++;
      tokens.push({ kind: "punct", text: c, line, column });
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ kind: "eof", text: "end of file", line, column: i - lineStart + 1 });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  "'": 39,
  '"': 34,
  "?": 63,
};

/** Reads a C-style string literal starting at the quote; returns its UTF-8 bytes. */
function readString(
  text: string,
  start: number,
  fail: (message: string, at: number) => never,
): { bytes: Uint8Array; end: number } {
  const quote = text[start];
  const out: number[] = [];
  const encoder = new TextEncoder();
  let i = start + 1;
  let plain = "";
  const flush = (): void => {
    if (plain) out.push(...encoder.encode(plain));
    plain = "";
  };
  while (true) {
    if (i >= text.length || text[i] === "\n") fail("unterminated string literal", start);
    const c = text[i];
    if (c === quote) break;
    if (c !== "\\") {
      plain += c;
      i++;
      continue;
    }
    flush();
    const e = text[i + 1];
    if (e in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[e]);
      i += 2;
    } else if (e === "x") {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, i + 4));
      if (!hex) fail("malformed \\x escape", i);
      out.push(parseInt(hex![0], 16));
      i += 2 + hex![0].length;
    } else if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))!;
      out.push(parseInt(oct[0], 8) & 0xff);
      i += 1 + oct[0].length;
    } else {
      fail(`unknown escape \\${e}`, i);
    }
  }
  flush();
  return { bytes: Uint8Array.from(out), end: i + 1 };
}

/** Type references before resolution: the dotted name as written and where. */
interface PendingType {
  field: FieldModel;
  /** Scope (full name of the struct) the name was written in. */
  scope: string;
  /** The unresolved type with dotted names in `struct` entries. */
  raw: RawType;
  rawDefault?: RawValue;
  at: Token;
}

type RawType =
  | { kind: "named"; path: string[]; at: Token }
  | { kind: "List"; element: RawType };

type RawValue =
  | { kind: "ident"; name: string; at: Token }
  | { kind: "number"; text: string; negative: boolean; at: Token }
  | { kind: "bytes"; bytes: Uint8Array; string: boolean; at: Token }
  | { kind: "list"; items: RawValue[]; at: Token }
  | { kind: "struct"; entries: { name: string; value: RawValue; at: Token }[]; at: Token };

class Parser {
  private pos = 0;
  private pending: PendingType[] = [];

  constructor(private tokens: Token[], private file: string) {}

  private get token(): Token {
    return this.tokens[this.pos];
  }

  private loc(t: Token): SourceLocation {
    return { file: this.file, line: t.line, column: t.column };
  }

  private fail(message: string, t: Token = this.token): never {
    throw new InputError(message, { location: this.loc(t) });
  }

  private unsupported(construct: string, t: Token = this.token): never {
    return this.fail(`${construct} are not supported in ays schemas`, t);
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  private isPunct(text: string, t: Token = this.token): boolean {
    return t.kind === "punct" && t.text === text;
  }

  private expectPunct(text: string): Token {
    if (!this.isPunct(text)) this.fail(`expected "${text}", found ${describe(this.token)}`);
    return this.next();
  }

  private expectIdent(what: string): Token {
    if (this.token.kind !== "ident") this.fail(`expected ${what}, found ${describe(this.token)}`);
    return this.next();
  }

  /** Refuses `$annotation` where one could appear. */
  private refuseAnnotation(): void {
    if (this.isPunct("$")) this.unsupported("annotations");
  }

  parseFile(): SchemaFile {
    let id: bigint | undefined;
    const structs: StructModel[] = [];
    const enums: EnumModel[] = [];
    while (this.token.kind !== "eof") {
      const t = this.token;
      if (this.isPunct("@")) {
        this.next();
        if (id !== undefined) this.fail("the file id is given twice", t);
        id = this.parseId(t);
        this.refuseAnnotation();
        this.expectPunct(";");
        continue;
      }
      if (this.isPunct("$")) this.unsupported("annotations");
      if (t.kind !== "ident") this.fail(`expected a declaration, found ${describe(t)}`);
      switch (t.text) {
        case "struct":
          structs.push(this.parseStruct(""));
          break;
        case "enum":
          enums.push(this.parseEnum(""));
          break;
        default:
          this.refuseKeyword(t);
          this.fail(`expected a declaration, found ${describe(t)}`);
      }
    }
    if (id === undefined) {
      this.fail("the file has no id: add a line like `@0xbf5147cbbecf40c1;`", this.tokens[0]);
    }
    checkUnique(
      [...structs, ...enums].map((d) => ({ name: d.name, location: d.location })),
      "declaration",
    );
    const result: SchemaFile = { id: id!, structs, enums, file: this.file };
    this.resolve(result);
    return result;
  }

  private refuseKeyword(t: Token): void {
    const refused: Record<string, string> = {
      interface: "interfaces",
      import: "imports",
      using: "`using` declarations",
      const: "constants",
      annotation: "annotations",
      union: "unions",
      group: "groups",
      generic: "generics",
    };
    if (t.text in refused) this.unsupported(refused[t.text], t);
  }

  private parseId(at: Token): bigint {
    const n = this.token;
    if (n.kind !== "number" || !/^0[xX]/.test(n.text)) {
      this.fail(`expected a 64-bit hex id after "@", found ${describe(n)}`, at);
    }
    this.next();
    const id = BigInt(n.text);
    if (id >= 1n << 64n) this.fail("the id does not fit in 64 bits", n);
    if (id < 1n << 63n) {
      this.fail("an id must have its top bit set (at least 0x8000000000000000)", n);
    }
    return id;
  }

  private parseStruct(outer: string): StructModel {
    const keyword = this.next();
    const nameToken = this.expectIdent("a struct name");
    const name = nameToken.text;
    if (this.isPunct("(")) this.unsupported("generics (parameterised structs)");
    let id: bigint | undefined;
    if (this.isPunct("@")) {
      const at = this.next();
      id = this.parseId(at);
    }
    this.refuseAnnotation();
    this.expectPunct("{");
    const fullName = outer ? `${outer}.${name}` : name;
    const struct: StructModel = {
      name,
      fullName,
      fields: [],
      structs: [],
      enums: [],
      location: this.loc(keyword),
    };
    if (id !== undefined) struct.id = id;
    while (!this.isPunct("}")) {
      const t = this.token;
      if (t.kind === "eof") this.fail(`struct ${name} is not closed with "}"`, keyword);
      if (t.kind !== "ident") this.fail(`expected a field or declaration, found ${describe(t)}`);
      if (t.text === "struct" && this.tokens[this.pos + 1]?.kind === "ident") {
        struct.structs.push(this.parseStruct(fullName));
        continue;
      }
      if (t.text === "enum" && this.tokens[this.pos + 1]?.kind === "ident") {
        struct.enums.push(this.parseEnum(fullName));
        continue;
      }
      const after = this.tokens[this.pos + 1];
      if (t.text === "union" && this.isPunct("{", after)) this.unsupported("unions", t);
      if (
        ["interface", "import", "using", "const", "annotation"].includes(t.text) &&
        after.kind === "ident"
      ) {
        this.refuseKeyword(t);
      }
      struct.fields.push(this.parseField(fullName));
    }
    this.next();
    checkUnique(
      [
        ...struct.fields.map((f) => ({ name: f.name, location: f.location })),
        ...struct.structs.map((s) => ({ name: s.name, location: s.location })),
        ...struct.enums.map((e) => ({ name: e.name, location: e.location })),
      ],
      "member",
    );
    checkOrdinals(struct.fields, `struct ${fullName}`, this.loc(keyword));
    return struct;
  }

  private parseField(scope: string): FieldModel {
    const nameToken = this.next();
    if (this.isPunct(":")) {
      // `name :union {` / `name :group {` have no ordinal.
      this.next();
      const kind = this.token;
      if (kind.kind === "ident" && (kind.text === "union" || kind.text === "group")) {
        this.unsupported(kind.text === "union" ? "unions" : "groups", kind);
      }
      this.fail(`field ${nameToken.text} needs an ordinal like @0`, nameToken);
    }
    if (!this.isPunct("@")) {
      this.fail(`expected "@" and an ordinal after ${nameToken.text}`, this.token);
    }
    this.next();
    const ordinalToken = this.token;
    if (ordinalToken.kind !== "number" || !/^[0-9]+$/.test(ordinalToken.text)) {
      this.fail(`expected an ordinal number after "@", found ${describe(ordinalToken)}`);
    }
    this.next();
    this.expectPunct(":");
    const typeStart = this.token;
    if (typeStart.kind === "ident" && (typeStart.text === "union" || typeStart.text === "group")) {
      this.unsupported(typeStart.text === "union" ? "unions" : "groups", typeStart);
    }
    const raw = this.parseType();
    const field: FieldModel = {
      name: nameToken.text,
      ordinal: Number(ordinalToken.text),
      type: { kind: "Void" },
      location: this.loc(nameToken),
    };
    let rawDefault: RawValue | undefined;
    if (this.isPunct("=")) {
      this.next();
      rawDefault = this.parseValue();
    }
    this.refuseAnnotation();
    this.expectPunct(";");
    if (!/^[a-z]/.test(field.name)) {
      this.fail(`field name ${field.name} must start with a lower-case letter`, nameToken);
    }
    this.pending.push({ field, scope, raw, rawDefault, at: typeStart });
    return field;
  }

  private parseType(): RawType {
    const first = this.expectIdent("a type");
    if (first.text === "List") {
      this.expectPunct("(");
      const element = this.parseType();
      this.expectPunct(")");
      return { kind: "List", element };
    }
    if (first.text === "AnyPointer" || first.text === "AnyStruct" || first.text === "AnyList") {
      this.unsupported("AnyPointer types", first);
    }
    if (first.text === "Capability") this.unsupported("interfaces", first);
    if (first.text === "import") this.unsupported("imports", first);
    const path = [first.text];
    while (this.isPunct(".")) {
      this.next();
      path.push(this.expectIdent('a name after "."').text);
    }
    if (this.isPunct("(")) this.unsupported("generics (type parameters)");
    return { kind: "named", path, at: first };
  }

  private parseValue(): RawValue {
    const t = this.token;
    if (this.isPunct("-")) {
      this.next();
      const n = this.token;
      if (n.kind === "number") {
        this.next();
        return { kind: "number", text: n.text, negative: true, at: t };
      }
      if (n.kind === "ident" && n.text === "inf") {
        this.next();
        return { kind: "number", text: "inf", negative: true, at: t };
      }
      this.fail(`expected a number after "-"`, n);
    }
    if (t.kind === "number") {
      this.next();
      return { kind: "number", text: t.text, negative: false, at: t };
    }
    if (t.kind === "string" || t.kind === "hexdata") {
      this.next();
      let bytes = t.bytes!;
      const isString = t.kind === "string";
      // Adjacent literals are concatenated, as in C.
      while (this.token.kind === t.kind) {
        const more = this.next().bytes!;
        const joined = new Uint8Array(bytes.length + more.length);
        joined.set(bytes);
        joined.set(more, bytes.length);
        bytes = joined;
      }
      return { kind: "bytes", bytes, string: isString, at: t };
    }
    if (t.kind === "ident") {
      this.next();
      if (this.isPunct(".")) this.unsupported("constants", t);
      return { kind: "ident", name: t.text, at: t };
    }
    if (this.isPunct("[")) {
      this.next();
      const items: RawValue[] = [];
      while (!this.isPunct("]")) {
        items.push(this.parseValue());
        if (!this.isPunct(",")) break;
        this.next();
      }
      this.expectPunct("]");
      return { kind: "list", items, at: t };
    }
    if (this.isPunct("(")) {
      this.next();
      const entries: { name: string; value: RawValue; at: Token }[] = [];
      while (!this.isPunct(")")) {
        const name = this.expectIdent("a field name");
        this.expectPunct("=");
        entries.push({ name: name.text, value: this.parseValue(), at: name });
        if (!this.isPunct(",")) break;
        this.next();
      }
      this.expectPunct(")");
      return { kind: "struct", entries, at: t };
    }
    if (this.isPunct("$")) this.unsupported("annotations");
    return this.fail(`expected a value, found ${describe(t)}`);
  }

  private parseEnum(outer: string): EnumModel {
    const keyword = this.next();
    const nameToken = this.expectIdent("an enum name");
    let id: bigint | undefined;
    if (this.isPunct("@")) {
      const at = this.next();
      id = this.parseId(at);
    }
    this.refuseAnnotation();
    this.expectPunct("{");
    const result: EnumModel = {
      name: nameToken.text,
      fullName: outer ? `${outer}.${nameToken.text}` : nameToken.text,
      enumerants: [],
      location: this.loc(keyword),
    };
    if (id !== undefined) result.id = id;
    const locations: SourceLocation[] = [];
    while (!this.isPunct("}")) {
      const t = this.token;
      if (t.kind === "eof") this.fail(`enum ${nameToken.text} is not closed with "}"`, keyword);
      const name = this.expectIdent("an enumerant");
      if (!/^[a-z]/.test(name.text)) {
        this.fail(`enumerant ${name.text} must start with a lower-case letter`, name);
      }
      this.expectPunct("@");
      const ordinalToken = this.token;
      if (ordinalToken.kind !== "number" || !/^[0-9]+$/.test(ordinalToken.text)) {
        this.fail(`expected an ordinal number after "@", found ${describe(ordinalToken)}`);
      }
      this.next();
      this.refuseAnnotation();
      this.expectPunct(";");
      result.enumerants.push({ name: name.text, ordinal: Number(ordinalToken.text) });
      locations.push(this.loc(name));
    }
    this.next();
    checkUnique(
      result.enumerants.map((e, i) => ({ name: e.name, location: locations[i] })),
      "enumerant",
    );
    checkOrdinals(
      result.enumerants.map((e, i) => ({ ...e, location: locations[i] })),
      `enum ${result.fullName}`,
      this.loc(keyword),
    );
    return result;
  }

  /** Resolves type names against the scopes they were written in, then parses defaults. */
  private resolve(file: SchemaFile): void {
    const declarations = new Map<string, "struct" | "enum">();
    const visit = (s: StructModel): void => {
      declarations.set(s.fullName, "struct");
      for (const e of s.enums) declarations.set(e.fullName, "enum");
      for (const n of s.structs) visit(n);
    };
    for (const s of file.structs) visit(s);
    for (const e of file.enums) declarations.set(e.fullName, "enum");
    const enums = new Map<string, EnumModel>();
    const structs = new Map<string, StructModel>();
    const collect = (s: StructModel): void => {
      structs.set(s.fullName, s);
      for (const e of s.enums) enums.set(e.fullName, e);
      for (const n of s.structs) collect(n);
    };
    for (const s of file.structs) collect(s);
    for (const e of file.enums) enums.set(e.fullName, e);

    const resolveType = (raw: RawType, scope: string): CapnpType => {
      if (raw.kind === "List") return { kind: "List", element: resolveType(raw.element, scope) };
      const [first, ...rest] = raw.path;
      if (rest.length === 0) {
        if ((PRIMITIVE_KINDS as readonly string[]).includes(first)) {
          return { kind: first as PrimitiveKind };
        }
        if (first === "Text" || first === "Data") return { kind: first };
      }
      // capnp looks the first name up from the innermost scope outwards.
      const scopes = scope.split(".");
      for (let depth = scopes.length; depth >= 0; depth--) {
        const prefix = scopes.slice(0, depth).join(".");
        const candidate = [prefix, ...raw.path].filter((p) => p).join(".");
        const kind = declarations.get(candidate);
        const head = [prefix, first].filter((p) => p).join(".");
        if (declarations.has(head)) {
          if (!kind) this.fail(`unknown type ${raw.path.join(".")}`, raw.at);
          return { kind: kind!, name: candidate };
        }
      }
      return this.fail(`unknown type ${raw.path.join(".")}`, raw.at);
    };

    for (const p of this.pending) {
      p.field.type = resolveType(p.raw, p.scope);
    }
    const converter = new DefaultConverter(this.file, structs, enums);
    for (const p of this.pending) {
      if (p.rawDefault) p.field.default = converter.convert(p.field.type, p.rawDefault);
    }
  }
}

/** Turns parsed literals into native default values, checking them against the type. */
class DefaultConverter {
  constructor(
    private file: string,
    private structs: Map<string, StructModel>,
    private enums: Map<string, EnumModel>,
  ) {}

  private fail(message: string, at: Token): never {
    throw new InputError(message, {
      location: { file: this.file, line: at.line, column: at.column },
    });
  }

  convert(type: CapnpType, value: RawValue): unknown {
    const at = value.at;
    switch (type.kind) {
      case "Void":
        if (value.kind === "ident" && value.name === "void") return null;
        return this.fail("a Void value must be `void`", at);
      case "Bool":
        if (value.kind === "ident" && (value.name === "true" || value.name === "false")) {
          return value.name === "true";
        }
        return this.fail("a Bool value must be true or false", at);
      case "Int8":
      case "Int16":
      case "Int32":
      case "Int64":
      case "UInt8":
      case "UInt16":
      case "UInt32":
      case "UInt64": {
        if (value.kind !== "number" || /[.eE]/.test(value.text) && !/^0[xX]/.test(value.text)) {
          return this.fail(`a ${type.kind} value must be an integer`, at);
        }
        let n = BigInt(
          value.text.startsWith("0") && /^0[0-7]+$/.test(value.text)
            ? "0o" + value.text.slice(1)
            : value.text,
        );
        if (value.negative) n = -n;
        const bits = BigInt(Number(type.kind.replace(/\D/g, "")));
        const signed = type.kind.startsWith("Int");
        const min = signed ? -(1n << (bits - 1n)) : 0n;
        const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
        if (n < min || n > max) this.fail(`${n} is out of range for ${type.kind}`, at);
        return bits === 64n ? n : Number(n);
      }
      case "Float32":
      case "Float64": {
        if (value.kind === "ident" && (value.name === "inf" || value.name === "nan")) {
          return value.name === "inf" ? Infinity : NaN;
        }
        if (value.kind !== "number") return this.fail(`a ${type.kind} value must be a number`, at);
        if (value.text === "inf") return value.negative ? -Infinity : Infinity;
        const n = Number(value.text);
        return value.negative ? -n : n;
      }
      case "Text":
        if (value.kind !== "bytes" || !value.string) {
          return this.fail("a Text value must be a string literal", at);
        }
        return new TextDecoder().decode(value.bytes);
      case "Data":
        if (value.kind !== "bytes") return this.fail('a Data value must be 0x"…" or a string', at);
        return value.bytes;
      case "enum": {
        const e = this.enums.get(type.name)!;
        if (value.kind !== "ident" || !e.enumerants.some((x) => x.name === value.name)) {
          return this.fail(`expected an enumerant of ${type.name}`, at);
        }
        return value.name;
      }
      case "List":
        if (value.kind !== "list") return this.fail("a List value must be written [a, b, …]", at);
        return value.items.map((item) => this.convert(type.element, item));
      case "struct": {
        const s = this.structs.get(type.name)!;
        if (value.kind !== "struct") return this.fail("a struct value must be written (a = …)", at);
        const out: Record<string, unknown> = {};
        for (const entry of value.entries) {
          const field = s.fields.find((f) => f.name === entry.name);
          if (!field) this.fail(`struct ${s.fullName} has no field ${entry.name}`, entry.at);
          if (Object.hasOwn(out, entry.name)) {
            this.fail(`field ${entry.name} is given twice`, entry.at);
          }
          out[entry.name] = this.convert(field!.type, entry.value);
        }
        return out;
      }
    }
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of file";
  return JSON.stringify(t.text);
}

function checkUnique(items: { name: string; location?: SourceLocation }[], what: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name)) {
      throw new InputError(`duplicate ${what} name ${item.name}`, { location: item.location });
    }
    seen.add(item.name);
  }
}

/** capnp requires ordinals 0…n-1 without gaps or repeats. */
function checkOrdinals(
  items: { name: string; ordinal: number; location?: SourceLocation }[],
  owner: string,
  location: SourceLocation,
): void {
  const seen = new Map<number, string>();
  for (const item of items) {
    const previous = seen.get(item.ordinal);
    if (previous !== undefined) {
      throw new InputError(
        `ordinal @${item.ordinal} of ${item.name} is already used by ${previous}`,
        {
          location: item.location,
        },
      );
    }
    seen.set(item.ordinal, item.name);
  }
  for (let i = 0; i < items.length; i++) {
    if (!seen.has(i)) {
      const after = items.find((x) => x.ordinal > i);
      throw new InputError(`${owner} skips ordinal @${i}`, {
        location: after?.location ?? location,
      });
    }
  }
}

/**
 * Parses a `.capnp` file of the supported subset into a {@link SchemaFile}.
 * Throws {@link InputError} with file, line and column for anything else.
 */
export function parseCapnp(text: string, options: ParseCapnpOptions = {}): SchemaFile {
  const file = options.file ?? "schema.capnp";
  return new Parser(tokenize(text, file), file).parseFile();
}
