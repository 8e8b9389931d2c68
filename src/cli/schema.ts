/**
 * `ays schema FILE`: shows the Cap'n Proto schema of a `schema.hrd` or `schema.capnp` (told by
 * the extension), its layout, and encodes or decodes messages with it (docs/cli.md). Needs no
 * repository.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { readFile } from "node:fs/promises";
import { basename, dirname, extname, resolve } from "node:path";
import {
  compileCodec,
  emitCapnp,
  findStruct,
  formatPosition,
  formatStructSize,
  layoutSchema,
  parseCapnp,
  type SchemaFile,
  schemaFromFields,
  typeName,
} from "../capnp/mod.ts";
import { InputError, type SourceLocation } from "../errors.ts";
import { type FieldSpec, fromStorable, toStorable, validateData } from "../model/mod.ts";
import { readSchemaHrd } from "../hrd/mod.ts";
import type { CliContext } from "./context.ts";
import { globalsOf } from "./global_options.ts";
import type { CliIo } from "./io.ts";
import { printJson, warner } from "./session.ts";

/**
 * Binary standard streams. The CLI's io speaks text; a test may add these to capture bytes,
 * otherwise the process's own streams are used.
 */
export interface BinaryIo {
  stdoutBytes?(bytes: Uint8Array): void | Promise<void>;
  readStdin?(): Promise<Uint8Array>;
}

/** A schema file read for `ays schema`. */
export interface LoadedSchema {
  file: SchemaFile;
  /** The HRD field specs when the file is a `schema.hrd` (validation and dict fields). */
  fields?: FieldSpec[];
  warnings: string[];
}

/**
 * Reads a `.hrd` or `.capnp` schema. An HRD schema's file id comes from the folder name, as for
 * a schema outside a repository (docs/capnp.md).
 */
export async function loadSchemaFile(path: string): Promise<LoadedSchema> {
  const ext = extname(path).toLowerCase();
  if (ext !== ".hrd" && ext !== ".capnp") {
    throw new InputError(`cannot tell the schema format of ${path}: expected .hrd or .capnp`, {
      location: { file: path },
    });
  }
  let source: Uint8Array;
  try {
    source = await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`, {
      location: { file: path },
      cause: error,
    });
  }
  if (ext === ".capnp") {
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(source);
    return { file: parseCapnp(text, { file: path }), warnings: [] };
  }
  // Bytes, so that content that is not UTF-8 is refused where it is (docs/hrd.md).
  const hrd = readSchemaHrd(source, { file: path });
  const actor = basename(dirname(resolve(path)));
  return {
    file: { ...schemaFromFields(hrd.fields, { actor }), file: path },
    fields: hrd.fields,
    warnings: hrd.warnings,
  };
}

/** The layout of every struct (or just `only`) as data, for `--layout --json`. */
export function layoutReport(file: SchemaFile, only?: string) {
  const layouts = [...layoutSchema(file).values()].filter((l) =>
    !only || l.struct.fullName === only
  );
  return layouts.map((l) => ({
    struct: l.struct.fullName,
    dataWords: l.dataWords,
    pointerCount: l.pointerCount,
    size: formatStructSize(l),
    fields: l.fields.map(({ field, position }) => ({
      name: field.name,
      ordinal: field.ordinal,
      type: typeName(field.type),
      position: formatPosition(position),
      ...(position.section === "pointer"
        ? { pointer: position.index }
        : { offsetBits: position.offsetBits, sizeBits: position.sizeBits }),
    })),
  }));
}

function layoutText(report: ReturnType<typeof layoutReport>): string {
  const lines: string[] = [];
  for (const s of report) {
    lines.push(`struct ${s.struct}  # ${s.size}`);
    for (const f of s.fields) lines.push(`  ${f.name} @${f.ordinal} :${f.type};  # ${f.position}`);
  }
  return lines.join("\n") + "\n";
}

/** JSON text of a decoded value: non-finite floats as capnp's JSON writes them. */
function toJsonText(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "number" && !Number.isFinite(v)
        ? (Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity")
        : v,
    2,
  ) + "\n";
}

/** Parses JSON input, turning a syntax error into an InputError at its line and column. */
export function parseJsonInput(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Runtimes differ in whether their message has a position; find it ourselves.
    const at = jsonErrorOffset(text);
    const before = text.slice(0, at);
    const location: SourceLocation = {
      file,
      line: before.split("\n").length,
      column: before.length - before.lastIndexOf("\n"),
    };
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { location, cause: error });
  }
}

/** Offset of the first JSON syntax error in `text` (a small recursive-descent scan). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      while (true) {
        ws();
        string();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") return void i++;
        fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      while (true) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") return void i++;
        fail();
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (offset) {
    return offset as number;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk as Uint8Array);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function stdinOf(io: CliIo & BinaryIo): Promise<Uint8Array> {
  return io.readStdin ? io.readStdin() : readAll(process.stdin);
}

async function writeBytes(io: CliIo & BinaryIo, bytes: Uint8Array): Promise<void> {
  if (io.stdoutBytes) return await io.stdoutBytes(bytes);
  // Waiting for the write keeps the bytes from being cut off by the process's exit.
  await new Promise<void>((done, fail) =>
    process.stdout.write(bytes, (error) => (error ? fail(error) : done()))
  );
}

/** Adds `ays schema FILE` to the program. */
export function registerSchema(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("schema")
    .description("print the Cap'n Proto schema of a schema.hrd or schema.capnp; encode/decode")
    .argument("<file>", "a .hrd or .capnp schema")
    .option("--layout", "print each field's ordinal, type and position, and struct sizes")
    .option("--encode <data>", "write DATA.json (or - for stdin) as a message to stdout")
    .option("--decode", "read a message on stdin and print it as JSON")
    .option("--packed", "the message is packed (with --encode / --decode)")
    .option("--struct <name>", "the root struct (default Schema)")
    .action(async (path, options, command) => {
      const io = ctx.io as CliIo & BinaryIo;
      const globals = globalsOf(command, io.env);
      const loaded = await loadSchemaFile(relativeOrAbsolute(path, io));
      loaded.warnings.forEach(warner(ctx, globals));
      const modes = [options.layout, options.encode !== undefined, options.decode].filter(Boolean);
      if (modes.length > 1) {
        throw new InputError("use only one of --layout, --encode and --decode");
      }
      const structName = options.struct ?? "Schema";
      if (options.struct && !findStruct(loaded.file, options.struct)) {
        throw new InputError(`no struct ${options.struct} in ${path}`, {
          location: { file: path },
        });
      }
      if (options.layout) {
        const only = options.struct ? findStruct(loaded.file, options.struct)!.fullName : undefined;
        const report = layoutReport(loaded.file, only);
        if (globals.json) printJson(ctx, report);
        else io.stdout(layoutText(report));
        return;
      }
      if (options.encode !== undefined) {
        const codec = compileCodec(loaded.file, { struct: structName });
        const dataFile = options.encode;
        const text = dataFile === "-"
          ? new TextDecoder().decode(await stdinOf(io))
          : await readFile(resolve(io.cwd, dataFile), "utf8").catch((error) => {
            throw new InputError(`cannot read ${dataFile}: ${(error as Error).message}`, {
              location: { file: dataFile },
            });
          });
        const input = parseJsonInput(text, dataFile);
        let value: Record<string, unknown>;
        if (loaded.fields && !options.struct) {
          value = toStorable(loaded.fields, validateData(loaded.fields, input, { file: dataFile }));
        } else {
          if (typeof input !== "object" || input === null || Array.isArray(input)) {
            throw new InputError("expected a JSON object", { location: { file: dataFile } });
          }
          value = input as Record<string, unknown>;
        }
        let bytes: Uint8Array;
        try {
          bytes = codec.encode(value, { packed: options.packed, strict: true });
        } catch (error) {
          if (error instanceof InputError && !error.location) {
            throw new InputError(error.message, { location: { file: dataFile } });
          }
          throw error;
        }
        await writeBytes(io, bytes);
        return;
      }
      if (options.decode) {
        const codec = compileCodec(loaded.file, { struct: structName });
        const decoded = codec.decode(await stdinOf(io), { packed: options.packed });
        const value = loaded.fields && !options.struct
          ? fromStorable(loaded.fields, decoded)
          : decoded;
        io.stdout(toJsonText(value));
        return;
      }
      if (options.packed) throw new InputError("--packed goes with --encode or --decode");
      io.stdout(emitCapnp(loaded.file));
    });
}

/** The path as the user wrote it when it means the same from here, else made absolute. */
function relativeOrAbsolute(path: string, io: CliIo): string {
  return resolve(io.cwd, path) === resolve(path) ? path : resolve(io.cwd, path);
}
