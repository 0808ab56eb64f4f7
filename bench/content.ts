// Deterministic, realistic-looking blog content for the benchmarks: titles, Markdown
// bodies of a few hundred words with headings, lists, emphasis and code, tags,
// authors and reader responses. Same seed → same site, so runs are comparable.

/** mulberry32: small, fast, good enough for test data */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

/** Zipf-like: early words far more common than late ones, as in real prose. */
const zipf = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(list.length * r() ** 2.2)];

const COMMON = `the of and to a in is that it for on with as was this be by are from at or an but not have they which one you all were we when there can been has more if will would what so about out up into them some could time than other its then only like also over new after first two way even most because these may such through where much before good very just those well should work people any many back year same how get use make know take see come think look want give find tell ask feel try leave call`.split(' ');

const TOPIC = `database postgres index query cache latency throughput server request response schema migration transaction replica backup deploy container kubernetes docker frontend browser javascript typescript node fastify react astro markdown feed rss atom webmention pingback blog article editor comment moderation spam search ranking vector keyset pagination cursor benchmark memory garbage compiler parser runtime thread event loop socket http header etag compression encryption certificate domain newsletter writing publishing archive photography travel coffee garden bicycle music vinyl camera lens mountain river kitchen bread sourdough recipe weekend library history museum`.split(' ');

const TAGS = [
  'PostgreSQL', 'Node.js', 'TypeScript', 'Performance', 'Caching', 'Web', 'IndieWeb', 'Open Source', 'Databases', 'DevOps',
  'Security', 'Writing', 'Design', 'Accessibility', 'Frontend', 'Testing', 'Photography', 'Travel', 'Cooking', 'Music',
  'Books', 'Cycling', 'Gardening', 'History', 'Science', 'Productivity', 'Career', 'Tutorials', 'Notes', 'Weeknotes',
  'Linux', 'Networking', 'Search', 'Feeds', 'Architecture', 'Rust', 'Go', 'Python', 'CSS', 'HTML',
] as const;

export const AUTHORS = [
  { slug: 'ada-lovelace', name: 'Ada Lovelace' },
  { slug: 'grace-hopper', name: 'Grace Hopper' },
  { slug: 'alan-kay', name: 'Alan Kay' },
  { slug: 'barbara-liskov', name: 'Barbara Liskov' },
  { slug: 'ken-thompson', name: 'Ken Thompson' },
  { slug: 'margaret-hamilton', name: 'Margaret Hamilton' },
  { slug: 'edsger-dijkstra', name: 'Edsger Dijkstra' },
  { slug: 'frances-allen', name: 'Frances Allen' },
] as const;

/** an article is about a few things: most topic words come from its focus */
let focus: string[] = [];
const word = (r: () => number) => (r() < 0.85 ? zipf(r, COMMON) : r() < 0.85 && focus.length ? pick(r, focus) : pick(r, TOPIC));
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function sentence(r: () => number, min = 8, max = 22): string {
  const n = min + Math.floor(r() * (max - min));
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    let w = word(r);
    if (r() < 0.04) w = `*${w}*`;
    else if (r() < 0.03) w = `\`${w}\``;
    words.push(w);
  }
  return `${cap(words.join(' '))}${pick(r, ['.', '.', '.', '?', '!'])}`;
}

const paragraph = (r: () => number) => Array.from({ length: 3 + Math.floor(r() * 4) }, () => sentence(r)).join(' ');

export function title(r: () => number, n: number): string {
  const words = Array.from({ length: 3 + Math.floor(r() * 5) }, () => (r() < 0.5 ? pick(r, TOPIC) : zipf(r, COMMON)));
  return `${cap(words.join(' '))} (${n})`;
}

/** About 250–600 words: paragraphs, a heading or two, sometimes a list or a code block. No external links (they would queue outgoing pings). */
export function markdownBody(r: () => number): string {
  focus = Array.from({ length: 4 }, () => zipf(r, TOPIC));
  const blocks: string[] = [];
  const n = 4 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    if (i > 0 && r() < 0.25) blocks.push(`## ${cap(sentence(r, 2, 6).replace(/[.?!]$/, ''))}`);
    if (r() < 0.15) blocks.push(Array.from({ length: 3 + Math.floor(r() * 3) }, () => `- ${sentence(r, 4, 10)}`).join('\n'));
    else if (r() < 0.08) blocks.push('```ts\nconst answer = await db.query(sql`select 42`);\nconsole.log(answer);\n```');
    blocks.push(paragraph(r));
  }
  return blocks.join('\n\n');
}

/** 1–3 distinct tags, popular ones more often. */
export function tagsFor(r: () => number): string[] {
  const out = new Set<string>();
  const n = 1 + Math.floor(r() * 3);
  while (out.size < n) out.add(zipf(r, TAGS));
  return [...out];
}

export const FIRST_NAMES = ['Sam', 'Alex', 'Robin', 'Kim', 'Jo', 'Chris', 'Pat', 'Lee', 'Dana', 'Noor', 'Mika', 'Ravi', 'Lena', 'Tom', 'Ines'];
export const LAST_NAMES = ['Smith', 'Garcia', 'Müller', 'Rossi', 'Nguyen', 'Kowalski', 'Silva', 'Dubois', 'Jensen', 'Tanaka'];

export function commentText(r: () => number): string {
  return Array.from({ length: 1 + Math.floor(r() * 3) }, () => sentence(r, 5, 16)).join(' ');
}
