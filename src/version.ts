/**
 * The version of ays, taken from package.json at build time (bundlers inline the JSON).
 *
 * @module
 */
import pkg from "../package.json" with { type: "json" };

/** The ays version, e.g. `0.1.0`. */
export const VERSION: string = pkg.version;
