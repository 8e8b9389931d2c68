/**
 * Plain data from a parsed YAML document, in time linear in the data: aliases are looked up in
 * an index made once, not searched for in the whole document each (which made 4,000 aliases
 * take half a minute), and what aliases expand to is bounded, so that an alias bomb is an
 * {@link InputError} at the alias instead of exhausting memory (docs/blueprints.md, "YAML limits").
 *
 * @module
 */
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
} from "yaml";
import { InputError, type SourceLocation } from "../errors.ts";

/**
 * How many values aliases may add to a document when expanded. A legitimate file stays far
 * below; nine levels of nine aliases ("billion laughs") are far above.
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;

/** Options of {@link YamlData}. */
export interface YamlDataOptions {
  /** The location of an offset of the text. */
  at(offset: number): SourceLocation;
  /** For each alias node, the node it refers to (undefined: no anchor of its name before it). */
  anchors: ReadonlyMap<unknown, unknown>;
  /** Whether `<<` keys merge mappings. */
  merge: boolean;
  /** How deep converted data may nest, aliases expanded. */
  maxDepth: number;
}

/** Converts the nodes of one document to plain data; made by `parseYaml`. */
export class YamlData {
  readonly #doc: Document.Parsed;
  readonly #options: YamlDataOptions;
  /** Values added by expanding aliases so far, across every conversion of the document. */
  #expanded = 0;
  /** The anchored nodes being expanded now: an alias to one of them is a cycle. */
  readonly #expanding = new Set<unknown>();

  constructor(doc: Document.Parsed, options: YamlDataOptions) {
    this.#doc = doc;
    this.#options = options;
  }

  /**
   * The plain data of a node (default: the whole document): mappings become objects with own
   * properties (`__proto__` included), lists arrays, scalars their values; every alias gets a
   * copy of what it refers to. An unresolved alias, an alias inside the node it refers to, too
   * many aliases or too deep a result is an {@link InputError} at the alias.
   */
  toJS(node: unknown = this.#doc.contents): unknown {
    return this.#convert(node, 1, null);
  }

  /** The node an alias refers to; an unresolved alias is an {@link InputError} at it. */
  target(alias: Alias): Node {
    const target = this.#options.anchors.get(alias) as Node | undefined;
    if (target === undefined) {
      throw new InputError(
        `unresolved alias *${alias.source}: no anchor &${alias.source} before it`,
        { location: this.#of(alias) },
      );
    }
    return target;
  }

  #of(node: unknown): SourceLocation {
    return this.#options.at((node as Node | null)?.range?.[0] ?? 0);
  }

  /** `via` is the outermost alias being expanded, where errors of the expansion point. */
  #convert(node: unknown, depth: number, via: Alias | null): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.#expand(node, depth, via);
    if (via !== null && ++this.#expanded > MAX_ALIAS_EXPANSION) {
      throw new InputError(
        `too many aliases: they expand to more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?)`,
        { location: this.#of(via) },
      );
    }
    if (isScalar(node)) return node.value;
    if (depth > this.#options.maxDepth) {
      throw new InputError(
        `nested too deeply: more than ${this.#options.maxDepth} levels of lists and mappings`,
        { location: this.#of(via ?? node) },
      );
    }
    if (isSeq(node)) return node.items.map((item) => this.#convert(item, depth + 1, via));
    if (isPair(node)) {
      const single: Record<string, unknown> = {};
      this.#addPair(single, node.key, node.value, depth, via);
      return single;
    }
    if (isMap(node)) {
      const map: Record<string, unknown> = {};
      for (const pair of node.items) {
        if (this.#options.merge && isMergeKey(pair.key)) {
          this.#mergeInto(map, pair.value, depth, via);
        } else {
          this.#addPair(map, pair.key, pair.value, depth, via);
        }
      }
      return map;
    }
    throw new InputError("unsupported YAML node", { location: this.#of(node) });
  }

  #expand(alias: Alias, depth: number, via: Alias | null): unknown {
    const target = this.target(alias);
    if (this.#expanding.has(target)) {
      throw new InputError(`alias *${alias.source} is inside the node it refers to`, {
        location: this.#of(alias),
      });
    }
    this.#expanding.add(target);
    try {
      return this.#convert(target, depth, via ?? alias);
    } finally {
      this.#expanding.delete(target);
    }
  }

  #addPair(
    map: Record<string, unknown>,
    key: unknown,
    value: unknown,
    depth: number,
    via: Alias | null,
  ): void {
    const name = keyName(this.#convert(key, depth + 1, via));
    defineOwn(map, name, this.#convert(value, depth + 1, via));
  }

  /** YAML's merge: keys of the merged mappings that the mapping does not have yet. */
  #mergeInto(
    map: Record<string, unknown>,
    value: unknown,
    depth: number,
    via: Alias | null,
  ): void {
    const sources = isSeq(value) ? value.items : [value];
    for (const source of sources) {
      const node = isAlias(source) ? this.target(source) : source;
      if (!isMap(node)) {
        throw new InputError("'<<' must merge a mapping (an alias like *name of a mapping)", {
          location: this.#of(source),
        });
      }
      const merged = this.#convert(source, depth, via) as Record<string, unknown>;
      for (const name of Object.keys(merged)) {
        if (!Object.hasOwn(map, name)) defineOwn(map, name, merged[name]);
      }
    }
  }
}

/** Whether a key is YAML's merge key `<<` (the parser gives it a symbol as its value). */
function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === "symbol";
}

/** A mapping key as an object property name, as the yaml package names them. */
function keyName(key: unknown): string {
  if (key === null || key === undefined) return "";
  if (typeof key !== "object") return String(key);
  return JSON.stringify(key);
}

/** Sets an own property, even `__proto__`, which plain assignment would take as the prototype. */
function defineOwn(map: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(map, name, { value, writable: true, enumerable: true, configurable: true });
}
