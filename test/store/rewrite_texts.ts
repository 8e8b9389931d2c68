/** The two texts `rewrite_child.ts` writes in turn: a long one and a much shorter one. */
export const REWRITE_TEXTS = [
  JSON.stringify({ state: "scheduled", tail: "x".repeat(2_000) }, null, 2) + "\n",
  JSON.stringify({ state: "ok" }, null, 2) + "\n",
] as const;
