/**
 * A child for the kill test of `mirror_rewrite_test.ts`: rewrites one file in place, again and
 * again, with a long and a short JSON text in turn, until it is killed. Prints "ready" once the
 * first rewrite is done. Usage: `rewrite_child.ts PATH`.
 *
 * @module
 */
import process from "node:process";
import { rewriteInPlace } from "../../src/store/mirror_rewrite.ts";
import { REWRITE_TEXTS } from "./rewrite_texts.ts";

const path = process.argv[process.argv.length - 1];
let turn = 0;
let announced = false;
// Bounded: the test kills it long before; a child left behind stops by itself.
for (let i = 0; i < 5_000_000; i++) {
  if (!(await rewriteInPlace(path, REWRITE_TEXTS[turn]))) throw new Error(`not in place: ${path}`);
  turn = 1 - turn;
  if (!announced) {
    announced = true;
    process.stdout.write("ready\n");
  }
}
