/**
 * Field layout exactly as the official capnp compiler computes it (`StructLayout` in
 * `src/capnp/compiler/node-translator.c++`): fields are placed in ordinal order; pointers take
 * the next pointer slot; a data field of 2^n bits takes the smallest free hole of that size,
 * splitting a bigger hole when needed, or else a new word at the end of the data section whose
 * rest becomes holes of sizes 2^n, 2^(n+1), … 32 bits.
 *
 * @module
 */
import {
  type CapnpType,
  type FieldModel,
  indexSchema,
  type SchemaFile,
  type StructModel,
} from "./model.ts";

/** Where one field lives inside its struct. */
export type FieldPosition =
  | { section: "data"; /** First bit. */ offsetBits: number; sizeBits: number }
  | { section: "pointer"; index: number };

/** One field with its position. */
export interface FieldLayout {
  field: FieldModel;
  position: FieldPosition;
}

/** The layout of one struct. */
export interface StructLayout {
  struct: StructModel;
  dataWords: number;
  pointerCount: number;
  /** In the struct's declaration order. */
  fields: FieldLayout[];
}

/** log2 of a data type's size in bits, or -1 for Void (no room), or null for pointers. */
export function lgSizeOf(type: CapnpType): number | null {
  switch (type.kind) {
    case "Void":
      return -1;
    case "Bool":
      return 0;
    case "Int8":
    case "UInt8":
      return 3;
    case "Int16":
    case "UInt16":
    case "enum":
      return 4;
    case "Int32":
    case "UInt32":
    case "Float32":
      return 5;
    case "Int64":
    case "UInt64":
    case "Float64":
      return 6;
    default:
      return null;
  }
}

/**
 * Free holes in the data section: `holes[n]` is the offset, in units of 2^n bits, of a free
 * 2^n-bit hole, or 0 for none (offset 0 is never a hole: the first field always lands there).
 */
class HoleSet {
  holes: number[] = [0, 0, 0, 0, 0, 0];

  tryAllocate(lgSize: number): number | null {
    if (lgSize >= this.holes.length) return null;
    if (this.holes[lgSize] !== 0) {
      const result = this.holes[lgSize];
      this.holes[lgSize] = 0;
      return result;
    }
    const next = this.tryAllocate(lgSize + 1);
    if (next === null) return null;
    const result = next * 2;
    this.holes[lgSize] = result + 1;
    return result;
  }

  addHolesAtEnd(lgSize: number, offset: number): void {
    while (lgSize < this.holes.length) {
      this.holes[lgSize] = offset;
      lgSize++;
      offset = (offset + 1) / 2;
    }
  }
}

/** Computes the layout of one struct. */
export function layoutStruct(struct: StructModel): StructLayout {
  const holes = new HoleSet();
  let dataWords = 0;
  let pointerCount = 0;
  const positions = new Map<FieldModel, FieldPosition>();
  const byOrdinal = [...struct.fields].sort((a, b) => a.ordinal - b.ordinal);
  for (const field of byOrdinal) {
    const lgSize = lgSizeOf(field.type);
    if (lgSize === null) {
      positions.set(field, { section: "pointer", index: pointerCount++ });
    } else if (lgSize < 0) {
      positions.set(field, { section: "data", offsetBits: 0, sizeBits: 0 });
    } else {
      let offset = holes.tryAllocate(lgSize);
      if (offset === null) {
        offset = dataWords++ * (1 << (6 - lgSize));
        holes.addHolesAtEnd(lgSize, offset + 1);
      }
      positions.set(field, {
        section: "data",
        offsetBits: offset * (1 << lgSize),
        sizeBits: 1 << lgSize,
      });
    }
  }
  return {
    struct,
    dataWords,
    pointerCount,
    fields: struct.fields.map((field) => ({ field, position: positions.get(field)! })),
  };
}

/** Layouts of every struct of a file (nested included) by full name. */
export function layoutSchema(file: SchemaFile): Map<string, StructLayout> {
  const result = new Map<string, StructLayout>();
  for (const [name, struct] of indexSchema(file).structs) result.set(name, layoutStruct(struct));
  return result;
}

/** The compiler's spelling of a position: `bits[48, 64)` or `ptr[2]`. */
export function formatPosition(position: FieldPosition): string {
  return position.section === "pointer"
    ? `ptr[${position.index}]`
    : `bits[${position.offsetBits}, ${position.offsetBits + position.sizeBits})`;
}

/** The compiler's spelling of a struct's size: `24 bytes, 3 ptrs`. */
export function formatStructSize(layout: StructLayout): string {
  return `${layout.dataWords * 8} bytes, ${layout.pointerCount} ptrs`;
}
