// "did you mean" for misspelt keys: the closest known key by optimal string alignment distance
// (Levenshtein plus swaps of neighbours, so `runcmnd` and `wirte_files` both find their key).

/**
 * Edit distance with insertions, deletions, substitutions and adjacent transpositions, computed
 * only up to `limit`: any distance above it is reported as limit + 1. Only the diagonal band of
 * width 2 * limit + 1 is filled, and a row whose cells all exceed the limit ends the search.
 */
export function editDistance(a: string, b: string, limit: number = Math.max(a.length, b.length)): number {
  const over = limit + 1;
  if (Math.abs(a.length - b.length) > limit) return over;
  const cols = b.length + 1;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: cols }, (_, j) => (j <= limit ? j : over));
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = new Array<number>(cols).fill(over);
    if (i <= limit) row[0] = i;
    let rowMin = row[0] ?? over;
    for (let j = Math.max(1, i - limit); j <= Math.min(b.length, i + limit); j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? over) + 1, (row[j - 1] ?? over) + 1, (prev[j - 1] ?? over) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prev2[j - 2] ?? over) + 1);
      row[j] = Math.min(v, over);
      rowMin = Math.min(rowMin, row[j] ?? over);
    }
    if (rowMin > limit) return over;
    prev2 = prev;
    prev = row;
  }
  return Math.min(prev[b.length] ?? over, over);
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/-/g, '_');
}

/** Suggestions from a fixed set of candidates, normalized once for many lookups. */
export class Suggester {
  private readonly candidates: readonly (readonly [string, string])[];

  constructor(candidates: Iterable<string>) {
    this.candidates = [...candidates].map((c) => [c, normalize(c)] as const);
  }

  /**
   * The candidate closest to `word`, compared case-insensitively with `-` and `_` alike, if it is
   * close enough to be a typo: one edit for short words, two from 6 characters, three from 12.
   */
  suggest(word: string): string | undefined {
    const w = normalize(word);
    if (w.length > 64) return undefined;
    const limit = w.length >= 12 ? 3 : w.length >= 6 ? 2 : 1;
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const [c, n] of this.candidates) {
      if (c === word) continue;
      const dist = editDistance(w, n, Math.min(limit, bestDistance));
      if (dist < bestDistance) {
        best = c;
        bestDistance = dist;
      }
    }
    return bestDistance <= limit ? best : undefined;
  }
}

/** One-off form of Suggester.suggest. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  return new Suggester(candidates).suggest(word);
}
