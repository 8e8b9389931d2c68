/**
 * What a unit of blueprints gives one declared service, field by field (`resolve.ts`), kept
 * small (docs/blueprints.md, "Memory"): the fields and their attributes in two arrays, the
 * {@link GivenValue} of one made when asked for. A Map of one object per attribute was about
 * 1 KB per service, alive through the whole resolve — 100 MB at 100,000 services.
 *
 * @module
 */
import type { FieldSpec } from "../model/mod.ts";
import type { BlueprintAttribute } from "./read_types.ts";

/** A blueprint's attribute for one field, with where it was written. */
export interface GivenValue {
  field: FieldSpec;
  value: unknown;
  attribute: BlueprintAttribute;
}

/** The attributes given for one service, by field, in the order they were first given. */
export class GivenValues {
  readonly #fields: FieldSpec[] = [];
  readonly #attributes: BlueprintAttribute[] = [];

  /**
   * The value given for `field`, or undefined. A linear search: a service is given a few
   * attributes, and each is looked up once or twice.
   */
  get(field: FieldSpec): GivenValue | undefined {
    const i = this.#fields.indexOf(field);
    if (i === -1) return undefined;
    const attribute = this.#attributes[i];
    return { field, value: attribute.value, attribute };
  }

  /** Gives `field` the value of `attribute` (replacing what was given for it). */
  set(field: FieldSpec, attribute: BlueprintAttribute): void {
    const i = this.#fields.indexOf(field);
    if (i === -1) {
      this.#fields.push(field);
      this.#attributes.push(attribute);
    } else {
      this.#attributes[i] = attribute;
    }
  }

  /** Every value given, in the order the fields were first given. */
  values(): GivenValue[] {
    return this.#fields.map((field, i) => {
      const attribute = this.#attributes[i];
      return { field, value: attribute.value, attribute };
    });
  }
}
