/**
 * Parsing a YAML file for ays' readers (blueprints, `actor.yaml`, `.ays/config.yaml`): one
 * place that turns the parser's problems into {@link InputError}s with `file:line:column` and
 * refuses documents nested too deeply to walk (docs/blueprints.md, "YAML limits").
 *
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLMap,
} from "yaml";
import { InputError, type SourceLocation } from "../errors.ts";
import { YamlData } from "./yaml_data.ts";

/**
 * How deep lists and mappings may nest. Deeper documents are refused, so that every reader can
 * walk the nodes recursively: the parser itself runs out of stack at a few thousand levels, at
 * a depth that differs between runtimes.
 */
export const MAX_YAML_DEPTH = 256;

/** Options of {@link parseYaml}. */
export interface ParseYamlOptions {
  /** The file name used in locations. */
  file: string;
  /** Counts the lines of the text; pass one to locate offsets yourself. */
  lineCounter?: LineCounter;
  /** Where an offset of the text is (default: its line and column in `file`). */
  locate?: (offset: number) => SourceLocation;
  /** YAML version of the document (default "1.2"). */
  version?: "1.1" | "1.2";
  /** Whether a repeated key of a mapping is a syntax error (default true). */
  uniqueKeys?: boolean;
  /** Whether `<<: *anchor` merges a mapping into the one holding it (default false). */
  merge?: boolean;
  /** Keep the parser's tokens on the nodes (default false). */
  keepSourceTokens?: boolean;
}

/** A parsed YAML file: its document, where its offsets are, and its data. */
export interface YamlText {
  /** The parsed document, free of errors. */
  readonly doc: Document.Parsed;
  /** The location of an offset of the text. */
  at(offset: number): SourceLocation;
  /** Converts nodes to plain data, resolving aliases; see {@link YamlData}. */
  readonly data: YamlData;
}

/**
 * Parses YAML text. A syntax error, a document nested deeper than {@link MAX_YAML_DEPTH}
 * levels, or one too deep for the parser, is an {@link InputError} at its position. Aliases
 * are checked when the data is read ({@link YamlData}).
 */
export function parseYaml(text: string, options: ParseYamlOptions): YamlText {
  const {
    file,
    lineCounter = new LineCounter(),
    version = "1.2",
    uniqueKeys = true,
    merge = false,
    keepSourceTokens = false,
  } = options;
  if (typeof file !== "string") throw new TypeError("parseYaml: options.file must be a string");
  const at = options.locate ?? ((offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  });
  const doc = parseDocument(text, {
    lineCounter,
    version,
    // The parser's own check compares every key with every other: quadratic, a minute for
    // 40,000 keys. The walk below uses a set.
    uniqueKeys: false,
    merge,
    keepSourceTokens,
    prettyErrors: false,
  });
  for (const error of doc.errors) {
    // The parser catches its own stack overflow and reports it as a syntax error. Where it
    // ran out depends on the runtime's stack, so only the line is told.
    if (/call stack/i.test(error.message)) {
      const { file: where, line } = at(error.pos[0]);
      throw tooDeep({ file: where, line });
    }
  }
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new InputError(`YAML syntax error: ${first.message}`, { location: at(first.pos[0]) });
  }
  const anchors = walk(doc, { at, uniqueKeys });
  return { doc, at, data: new YamlData(doc, { at, anchors, merge, maxDepth: MAX_YAML_DEPTH }) };
}

function tooDeep(location: SourceLocation): InputError {
  return new InputError(
    `nested too deeply: more than ${MAX_YAML_DEPTH} levels of lists and mappings`,
    { location },
  );
}

/**
 * Walks every node once, in document order and without recursion: refuses nesting deeper than
 * {@link MAX_YAML_DEPTH} and repeated keys (when they must be unique), and finds the node each
 * alias refers to (the closest anchor of its name before it, as YAML says), so that resolving
 * aliases is not a search of the document. Returns the target of each alias.
 */
function walk(
  doc: Document.Parsed,
  options: { at: (offset: number) => SourceLocation; uniqueKeys: boolean },
): Map<unknown, unknown> {
  const { at, uniqueKeys } = options;
  const targets = new Map<unknown, unknown>();
  const anchors = new Map<string, unknown>();
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      targets.set(node, anchors.get(node.source));
      continue;
    }
    if (isPair(node)) {
      stack.push([node.value, depth], [node.key, depth]);
      continue;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node);
    if (isMap(node) || isSeq(node)) {
      if (depth > MAX_YAML_DEPTH) throw tooDeep(at(node.range?.[0] ?? 0));
      if (uniqueKeys && isMap(node)) checkUniqueKeys(node, at);
      for (let i = node.items.length - 1; i >= 0; i--) stack.push([node.items[i], depth + 1]);
    }
  }
  return targets;
}

/** Refuses a scalar key that repeats an earlier one of the same mapping (1 and "1" differ). */
function checkUniqueKeys(map: YAMLMap, at: (offset: number) => SourceLocation): void {
  const seen = new Set<unknown>();
  for (const { key } of map.items) {
    if (!isScalar(key)) continue;
    if (seen.has(key.value)) {
      throw new InputError(
        `YAML syntax error: duplicate key '${String(key.value)}' (map keys must be unique)`,
        { location: at(key.range?.[0] ?? 0) },
      );
    }
    seen.add(key.value);
  }
}
