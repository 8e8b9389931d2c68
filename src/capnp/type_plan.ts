/**
 * The type plans of the codec (docs/capnp.md, "Codec"): for every struct reachable from a root,
 * once per compiled codec, each field's offset, bit mask, pointer index, XOR mask of its default
 * and element sizes, so that encoding and decoding do no schema work.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { layoutStruct, type StructLayout } from "./layout.ts";
import {
  type CapnpType,
  indexSchema,
  type SchemaFile,
  type SchemaIndex,
  type StructModel,
} from "./model.ts";

// Type codes of plans; numbers keep the hot switches of the reader and writer cheap.
/** Type code of `Void`. */
export const VOID = 0;
/** Type code of `Bool`. */
export const BOOL = 1;
/** Type code of `Int8`. */
export const INT8 = 2;
/** Type code of `Int16`. */
export const INT16 = 3;
/** Type code of `Int32`. */
export const INT32 = 4;
/** Type code of `Int64`. */
export const INT64 = 5;
/** Type code of `UInt8`. */
export const UINT8 = 6;
/** Type code of `UInt16`. */
export const UINT16 = 7;
/** Type code of `UInt32`. */
export const UINT32 = 8;
/** Type code of `UInt64`. */
export const UINT64 = 9;
/** Type code of `Float32`. */
export const FLOAT32 = 10;
/** Type code of `Float64`. */
export const FLOAT64 = 11;
/** Type code of `Text`. */
export const TEXT = 12;
/** Type code of `Data`. */
export const DATA = 13;
/** Type code of `List(T)`. */
export const LIST = 14;
/** Type code of a struct type. */
export const STRUCT = 15;
/** Type code of an enum type. */
export const ENUM = 16;

const KIND_CODES: ReadonlyMap<CapnpType["kind"], number> = new Map([
  ["Void", VOID],
  ["Bool", BOOL],
  ["Int8", INT8],
  ["Int16", INT16],
  ["Int32", INT32],
  ["Int64", INT64],
  ["UInt8", UINT8],
  ["UInt16", UINT16],
  ["UInt32", UINT32],
  ["UInt64", UINT64],
  ["Float32", FLOAT32],
  ["Float64", FLOAT64],
  ["Text", TEXT],
  ["Data", DATA],
  ["List", LIST],
  ["struct", STRUCT],
  ["enum", ENUM],
]);

// ListElementSize codes of the encoding spec.
/** List element size: void (no content). */
export const SIZE_VOID = 0;
/** List element size: one bit. */
export const SIZE_BIT = 1;
/** List element size: one byte. */
export const SIZE_BYTE = 2;
/** List element size: two bytes. */
export const SIZE_BYTE2 = 3;
/** List element size: four bytes. */
export const SIZE_BYTE4 = 4;
/** List element size: eight bytes. */
export const SIZE_BYTE8 = 5;
/** List element size: a pointer. */
export const SIZE_POINTER = 6;
/** List element size: composite (structs after a tag word). */
export const SIZE_COMPOSITE = 7;

/** An enum's enumerants by name and by ordinal. */
export interface EnumPlan {
  name: string;
  byName: Map<string, number>;
  byOrdinal: string[];
}

/** How values of one type are stored. */
export interface TypePlan {
  /** One of the type codes ({@link VOID} … {@link ENUM}). */
  code: number;
  /** What the type looks like in messages, for errors. */
  label: string;
  element?: TypePlan;
  struct?: StructPlan;
  enumPlan?: EnumPlan;
  /** ListElementSize of a list of this type. */
  listSize: number;
  /** Bytes per element in a list (0 for bits, void, composite). */
  listBytes: number;
}

/** Where and how one field is stored. */
export interface FieldPlan {
  name: string;
  /**
   * The name is also a property of every object (`constructor`, `toString`, …): a value's own
   * property must be told from the inherited one.
   */
  inherited: boolean;
  type: TypePlan;
  /** Data fields: byte offset in the data section. Pointer fields: -1. */
  byteOffset: number;
  /** Bool fields: the bit mask within its byte. */
  bitMask: number;
  /** Pointer fields: the pointer index. */
  ptrIndex: number;
  /** Raw default bits XOR-ed into the stored value (low and high 32 bits). */
  defLo: number;
  defHi: number;
  /** The default of a pointer field in JSON form, or undefined (set by the reader's module). */
  defJson: unknown;
  /** The default of a pointer field in native form (from the schema), or undefined. */
  defNative: unknown;
}

/** How one struct is stored. */
export interface StructPlan {
  name: string;
  fieldNames: Set<string>;
  dataWords: number;
  pointerCount: number;
  dataBytes: number;
  /** In declaration order: the order of keys in decoded objects. */
  fields: FieldPlan[];
  /**
   * In ordinal order, so pointer targets are laid out in pointer order as capnp's own writer
   * does (our packed bytes then equal the tool's).
   */
  writeOrder: FieldPlan[];
  layout: StructLayout;
  /**
   * The struct contains itself through struct fields (at any depth): its struct of defaults
   * would never end, so a null pointer of this type reads as null.
   */
  recursive: boolean;
}

/** The plans of a root struct and of every struct reachable from it. */
export interface CodecPlans {
  root: StructPlan;
  /** Every struct plan, the root's included. */
  structs: StructPlan[];
}

/**
 * Plans `model` (a struct of `file`) and every struct and enum it reaches. Recursive types are
 * planned once: a struct's plan is registered before its fields are planned.
 */
export function planStructs(file: SchemaFile, model: StructModel): CodecPlans {
  const planner = new Planner(indexSchema(file));
  const root = planner.structPlan(model);
  const structs = [...planner.structs.values()];
  for (const plan of structs) plan.recursive = reaches(plan, plan, new Set());
  return { root, structs };
}

/**
 * Whether a struct field of `from` (or of a struct in a struct field of it, at any depth) is of
 * type `target`. Lists do not count: a null list reads as an empty one.
 */
function reaches(from: StructPlan, target: StructPlan, seen: Set<StructPlan>): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  for (const f of from.fields) {
    const inner = f.type.struct;
    if (inner && (inner === target || reaches(inner, target, seen))) return true;
  }
  return false;
}

/** Builds (once) the plans of every struct reachable from the root. */
class Planner {
  readonly structs = new Map<string, StructPlan>();
  private readonly enums = new Map<string, EnumPlan>();

  constructor(private readonly index: SchemaIndex) {}

  structPlan(model: StructModel): StructPlan {
    const existing = this.structs.get(model.fullName);
    if (existing) return existing;
    const layout = layoutStruct(model);
    const plan: StructPlan = {
      name: model.fullName,
      fieldNames: new Set(model.fields.map((f) => f.name)),
      dataWords: layout.dataWords,
      pointerCount: layout.pointerCount,
      dataBytes: layout.dataWords * 8,
      fields: [],
      writeOrder: [],
      layout,
      recursive: false,
    };
    // Registered before its fields so recursive types find it.
    this.structs.set(model.fullName, plan);
    const ordinals = new Map<FieldPlan, number>();
    for (const { field, position } of layout.fields) {
      const type = this.typePlan(field.type);
      const fp: FieldPlan = {
        name: field.name,
        inherited: field.name in Object.prototype,
        type,
        byteOffset: -1,
        bitMask: 0,
        ptrIndex: -1,
        defLo: 0,
        defHi: 0,
        defJson: undefined,
        defNative: undefined,
      };
      if (position.section === "pointer") {
        fp.ptrIndex = position.index;
        if (field.default !== undefined) {
          // Turned into JSON form once every struct it may contain is planned.
          fp.defNative = field.default;
        }
      } else {
        fp.byteOffset = position.offsetBits >> 3;
        fp.bitMask = 1 << (position.offsetBits & 7);
        if (field.default !== undefined) {
          const [lo, hi] = defaultBits(type, field.default);
          fp.defLo = lo;
          fp.defHi = hi;
        }
      }
      plan.fields.push(fp);
      ordinals.set(fp, field.ordinal);
    }
    plan.writeOrder = [...plan.fields].sort((a, b) => ordinals.get(a)! - ordinals.get(b)!);
    return plan;
  }

  typePlan(type: CapnpType): TypePlan {
    const code = KIND_CODES.get(type.kind)!;
    const plan: TypePlan = { code, label: type.kind, listSize: SIZE_POINTER, listBytes: 8 };
    switch (code) {
      case VOID:
        plan.listSize = SIZE_VOID;
        plan.listBytes = 0;
        break;
      case BOOL:
        plan.listSize = SIZE_BIT;
        plan.listBytes = 0;
        break;
      case INT8:
      case UINT8:
        plan.listSize = SIZE_BYTE;
        plan.listBytes = 1;
        break;
      case INT16:
      case UINT16:
      case ENUM:
        plan.listSize = SIZE_BYTE2;
        plan.listBytes = 2;
        break;
      case INT32:
      case UINT32:
      case FLOAT32:
        plan.listSize = SIZE_BYTE4;
        plan.listBytes = 4;
        break;
      case INT64:
      case UINT64:
      case FLOAT64:
        plan.listSize = SIZE_BYTE8;
        plan.listBytes = 8;
        break;
    }
    if (type.kind === "List") {
      plan.element = this.typePlan(type.element);
      plan.label = `List(${plan.element.label})`;
    } else if (type.kind === "struct") {
      const model = this.index.structs.get(type.name);
      if (!model) throw new InputError(`unknown struct ${type.name}`);
      plan.label = type.name;
      plan.listSize = SIZE_COMPOSITE;
      plan.listBytes = 0;
      // structPlan registers a plan before planning its fields, so recursion ends.
      plan.struct = this.structPlan(model);
    } else if (type.kind === "enum") {
      plan.enumPlan = this.enumPlan(type.name);
      plan.label = type.name;
    }
    return plan;
  }

  private enumPlan(name: string): EnumPlan {
    const existing = this.enums.get(name);
    if (existing) return existing;
    const model = this.index.enums.get(name);
    if (!model) throw new InputError(`unknown enum ${name}`);
    const plan: EnumPlan = { name, byName: new Map(), byOrdinal: [] };
    for (const e of model.enumerants) {
      plan.byName.set(e.name, e.ordinal);
      plan.byOrdinal[e.ordinal] = e.name;
    }
    this.enums.set(name, plan);
    return plan;
  }
}

/** The raw bits of a data-section default, as two 32-bit halves. */
function defaultBits(type: TypePlan, value: unknown): [number, number] {
  switch (type.code) {
    case BOOL:
      return [value ? 1 : 0, 0];
    case INT8:
    case UINT8:
      return [Number(value) & 0xff, 0];
    case INT16:
    case UINT16:
      return [Number(value) & 0xffff, 0];
    case ENUM:
      return [type.enumPlan!.byName.get(String(value)) ?? 0, 0];
    case INT32:
    case UINT32:
      return [Number(value) >>> 0, 0];
    case FLOAT32: {
      const bits = new DataView(new ArrayBuffer(4));
      bits.setFloat32(0, Number(value), true);
      return [bits.getUint32(0, true), 0];
    }
    case FLOAT64: {
      const bits = new DataView(new ArrayBuffer(8));
      bits.setFloat64(0, Number(value), true);
      return [bits.getUint32(0, true), bits.getUint32(4, true)];
    }
    case INT64:
    case UINT64: {
      const n = BigInt.asUintN(64, BigInt(value as bigint));
      return [Number(n & 0xffffffffn), Number(n >> 32n)];
    }
    default:
      return [0, 0];
  }
}
