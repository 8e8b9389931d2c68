/**
 * A child for the kill tests of `mirror_rewrite_test.ts`. `rewrite_child.ts PATH` rewrites one
 * file in place, again and again, with a long and a short JSON text in turn, until it is killed,
 * and prints "ready" once the first rewrite is done. `rewrite_child.ts PATH --kill-before-cut`
 * rewrites the file (holding the long text) with the short one and kills itself between the
 * write and the cut.
 *
 * @module
 */
import process from "node:process";
import { rewriteInPlace } from "../../src/store/mirror_rewrite.ts";
import { REWRITE_TEXTS } from "./rewrite_texts.ts";

const killBeforeCut = process.argv.includes("--kill-before-cut");
const path = process.argv.filter((arg) => arg !== "--kill-before-cut").at(-1)!;

if (killBeforeCut) {
  await rewriteInPlace(path, REWRITE_TEXTS[1], {
    beforeCut: () => process.kill(process.pid, "SIGKILL"),
  });
  throw new Error("still alive after the cut");
}

let turn = 1;
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
