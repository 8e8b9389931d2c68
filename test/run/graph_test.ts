import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CycleError, Graph } from "../../src/run/graph.ts";

function graphOf(edges: [string, string][], nodes: string[] = []): Graph<string> {
  const g = new Graph<string>();
  for (const n of nodes) g.addNode(n, n);
  for (const [a, b] of edges) {
    if (!g.hasNode(a)) g.addNode(a, a);
    if (!g.hasNode(b)) g.addNode(b, b);
    g.addEdge(a, b);
  }
  return g;
}

describe("Graph", () => {
  it("keeps nodes, values, dependencies and dependents", () => {
    const g = graphOf([["c", "a"], ["c", "b"], ["d", "c"]]);
    assert.equal(g.size, 4);
    assert.deepEqual(g.dependencies("c"), ["a", "b"]);
    assert.deepEqual(g.dependents("a"), ["c"]);
    assert.deepEqual(g.dependencies("a"), []);
    assert.equal(g.value("d"), "d");
    assert.ok(g.hasEdge("c", "a"));
    assert.ok(!g.hasEdge("a", "c"));
    assert.deepEqual([...g.transitiveDependents("a")].sort(), ["c", "d"]);
    assert.deepEqual(g.edges(), [["c", "a"], ["c", "b"], ["d", "c"]]);
    assert.throws(() => g.addEdge("x", "a"), /no node x/);
    assert.throws(() => g.value("x"), /no node x/);
  });

  it("layers with Kahn's algorithm, each layer sorted", () => {
    const g = graphOf([["b", "a"], ["c", "a"], ["d", "b"], ["d", "c"], ["e", "a"]], ["z", "y"]);
    assert.deepEqual(g.layers(), [["a", "y", "z"], ["b", "c", "e"], ["d"]]);
  });

  it("is deterministic whatever the insertion order", () => {
    const edges: [string, string][] = [["b", "a"], ["c", "a"], ["d", "b"], ["e", "c"]];
    const reversed = graphOf([...edges].reverse());
    assert.deepEqual(graphOf(edges).layers(), reversed.layers());
  });

  it("uses a custom order", () => {
    const g = new Graph<number>({ compare: (a, b) => b.localeCompare(a) });
    for (const n of ["a", "b", "c"]) g.addNode(n, 0);
    assert.deepEqual(g.layers(), [["c", "b", "a"]]);
  });

  it("finds a cycle as a path and refuses to layer it", () => {
    const g = graphOf([["a", "b"], ["b", "c"], ["c", "a"], ["d", "a"]]);
    assert.deepEqual(g.findCycle(), ["a", "b", "c", "a"]);
    assert.throws(() => g.layers(), (error: unknown) => {
      assert.ok(error instanceof CycleError);
      assert.deepEqual(error.cycle, ["a", "b", "c", "a"]);
      assert.equal(error.message, "dependency cycle: a → b → c → a");
      return true;
    });
  });

  it("reports a self-edge as a cycle and an acyclic graph as none", () => {
    assert.deepEqual(graphOf([["a", "a"]]).findCycle(), ["a", "a"]);
    assert.equal(graphOf([["b", "a"], ["c", "b"]]).findCycle(), null);
  });

  it("handles long chains without deep recursion", () => {
    const g = new Graph<null>();
    const n = 50_000;
    for (let i = 0; i < n; i++) g.addNode(`n${i}`, null);
    for (let i = 1; i < n; i++) g.addEdge(`n${i}`, `n${i - 1}`);
    assert.equal(g.findCycle(), null);
    assert.equal(g.layers().length, n);
  });
});
