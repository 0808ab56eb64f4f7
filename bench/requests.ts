// The request sets of the bench's rotating scenarios (run.ts), shared with the seed's
// EXPLAIN (seed.ts) and the WordPress side by side (wordpress-peer.ts): each request a
// URL drawn at random, as crawlers and readers ask them.

/** the fields of the list-miss-fields row: what an index page shows */
export const MISS_FIELDS = 'title,slug,excerpt,url,publishedAt';

/** words the seeded articles use (bench/content.ts); two of them make a search */
const WORDS =
  'database postgres index query cache latency server request response schema migration transaction replica backup deploy container frontend browser javascript typescript node markdown feed search ranking keyset pagination cursor benchmark memory compiler parser runtime socket header compression domain newsletter writing publishing archive photography travel coffee garden bicycle music camera mountain river kitchen bread recipe library history museum'.split(
    ' ',
  );

/** A deterministic pseudo-random sequence in [0, 1): the same requests in every run. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

export function shuffle<T>(xs: T[], random = seeded(42)): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Every two-word query in both orders, shuffled, as `a+b` (a query string's spelling). */
export function twoWordQueries(): string[] {
  const out: string[] = [];
  for (const a of WORDS) for (const b of WORDS) if (a !== b) out.push(`${a}+${b}`);
  return shuffle(out);
}

/** `n` draws from 1…pages. */
export function randomPages(pages: number, n: number, random = seeded(7)): number[] {
  return Array.from({ length: n }, () => 1 + Math.floor(random() * Math.max(1, pages)));
}

/** `n` draws from `items`. */
export function draw<T>(items: readonly T[], n: number, random = seeded(11)): T[] {
  return Array.from({ length: n }, () => items[Math.floor(random() * items.length)]);
}
