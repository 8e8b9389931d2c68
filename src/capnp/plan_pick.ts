/**
 * Decoding only some fields of a struct (docs/capnp.md, "Codec"): a copy of a struct's plan
 * with the fields asked for, so the reader never visits the others — their pointers are not
 * followed, their texts and data not copied. `ays list` reads a service's name, actor,
 * relations and action states, not its data.
 *
 * @module
 */
import { InputError } from "../errors.ts";
import { LIST, STRUCT, type StructPlan, type TypePlan } from "./type_plan.ts";

/**
 * The fields a decode reads: `true` reads the field whole; an object reads those fields of a
 * struct field, or of each struct of a list-of-structs field.
 */
export interface FieldPick {
  readonly [field: string]: true | FieldPick;
}

/** The plan of `plan` reduced to the fields `pick` names (in declaration order). */
export function pickPlan(plan: StructPlan, pick: FieldPick): StructPlan {
  for (const name of Object.keys(pick)) {
    if (!plan.fieldNames.has(name)) {
      throw new InputError(`pick: struct ${plan.name} has no field ${name}`);
    }
  }
  const fields = plan.fields.filter((f) => Object.hasOwn(pick, f.name)).map((f) => {
    const inner = pick[f.name];
    return inner === true ? f : { ...f, type: pickType(f.type, inner, f.name) };
  });
  return { ...plan, fields };
}

/** The type of a struct or list-of-structs field whose struct is reduced to `pick`. */
function pickType(type: TypePlan, pick: FieldPick, name: string): TypePlan {
  if (type.code === STRUCT) return { ...type, struct: pickPlan(type.struct!, pick) };
  if (type.code === LIST && type.element?.code === STRUCT) {
    return { ...type, element: pickType(type.element, pick, name) };
  }
  throw new InputError(`pick: field ${name} is no struct or list of structs`);
}
