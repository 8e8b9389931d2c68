/**
 * The error of a message that is not valid Cap'n Proto, shared by the unpacker and the reader.
 *
 * @module
 */
import { InputError } from "../errors.ts";

/** Throws the {@link InputError} of a malformed message, saying what is wrong with it. */
export function malformed(message: string): never {
  throw new InputError(`malformed Cap'n Proto message: ${message}`);
}
