/**
 * "Did you mean" suggestions for names a user typed (docs/cli.md, "Typos"): the nearest known
 * name by edit distance, when it is near enough to be a typo.
 *
 * @module
 */

/**
 * The optimal string alignment distance of `a` and `b`: insertions, deletions, substitutions
 * and transpositions of two neighbours each count 1 (`redsi` → `redis` is 1).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) rows[i].push(i === 0 ? j : 0);
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known name nearest to `word` when it is near enough to be a typo — at most a third of
 * the word's length apart, at least 1, ignoring case — or undefined. Ties go to the name that
 * sorts first, so the answer does not depend on the order given.
 */
export function nearestName(word: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of new Set(known)) {
    if (name === word) continue;
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance > limit) continue;
    if (
      !best || distance < best.distance || (distance === best.distance && name < best.name)
    ) {
      best = { name, distance };
    }
  }
  return best?.name;
}

/** ` (did you mean 'redis'?)` for the nearest known name, or `""` when none is near. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const name = nearestName(word, known);
  return name === undefined ? "" : ` (did you mean '${name}'?)`;
}
