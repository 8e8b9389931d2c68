import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { remainingPaths } from "../../src/run/critical_path.ts";
import { CycleError, Graph } from "../../src/run/graph.ts";

/** Nodes valued by their weight; edges [from, to]: from waits for to. */
function graphOf(nodes: Record<string, number>, edges: [string, string][]): Graph<number> {
  const g = new Graph<number>();
  for (const [id, w] of Object.entries(nodes)) g.addNode(id, w);
  for (const [a, b] of edges) g.addEdge(a, b);
  return g;
}

describe("remainingPaths", () => {
  it("is each node's weight plus the heaviest path of the nodes waiting for it", () => {
    // top → (m1: 5, m2: 1) → bottom; lone stands apart.
    const g = graphOf({ top: 2, m1: 5, m2: 1, bottom: 3, lone: 4 }, [
      ["m1", "top"],
      ["m2", "top"],
      ["bottom", "m1"],
      ["bottom", "m2"],
    ]);
    const paths = remainingPaths(g, (_id, w) => w);
    assert.deepEqual(Object.fromEntries(paths), {
      top: 2 + 5 + 3,
      m1: 5 + 3,
      m2: 1 + 3,
      bottom: 3,
      lone: 4,
    });
  });

  it("counts nodes with unit weights, and takes the layers the caller has", () => {
    const g = graphOf({ c0: 0, c1: 0, c2: 0, a: 0 }, [["c1", "c0"], ["c2", "c1"]]);
    const layers = g.layers();
    const paths = remainingPaths(g, () => 1, { layers });
    assert.deepEqual(Object.fromEntries(paths), { c0: 3, c1: 2, c2: 1, a: 1 });
  });

  it("refuses a weight that is negative or not finite, and a cycle", () => {
    const g = graphOf({ a: 0 }, []);
    assert.throws(() => remainingPaths(g, () => -1), /weight of a must be a finite number/);
    assert.throws(() => remainingPaths(g, () => Infinity), /weight of a/);
    const cyclic = graphOf({ a: 0, b: 0 }, [["a", "b"], ["b", "a"]]);
    assert.throws(() => remainingPaths(cyclic, () => 1), CycleError);
  });
});
