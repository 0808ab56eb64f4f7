// What public article answers are made of, kept between requests so that a URL never
// asked before (a crawler's ?page=N, a new search, the first read after a publish)
// is not computed from scratch:
//  - each public article as its response schema serialises it, under its id and
//    version, and that JSON deflated (http/cache/stitched-gzip.ts). A list or search
//    page is then one small query for the page's ids and versions, and the page's JSON
//    is those bytes joined, its gzip those pieces stitched;
//  - each public article's id and version under its slug (its stamp), so that reading
//    an article kept is no query at all;
//  - the number of articles each list filter matches (X-Total-Count, the pagination's
//    `total`), which PostgreSQL can only count row by row, or for a broad search the
//    planner's estimate of it (articles.reads.ts).
// Both are exact by the response cache's rules (http/cache/response-cache.ts): every
// committed change public reads can see is a content event, on which what it shows in is
// dropped, in this process and, through the same NOTIFY, in the others (`changeOf` in
// events/content-events.ts: a response or an announcement drops its article alone, so a
// site's comments do not empty the cache; a publish or an edit drops its article, the
// page orders and the totals, and keeps every other article; anything else drops
// everything); a read that began before a change stores nothing it computed (the
// generation check); and no page order, total or slug's stamp is served older than
// SAFETY_TTL_MS. The article version is checked on every hit too, against the stamp the
// page or the slug gave: read with the page for a search or a keyset page (an article
// edited by another process is then never served in its old form, even before the
// notification arrives), kept like the page orders for a page by number or an article
// (dropped by the notification, ~1 ms after the edit). An article's JSON is kept up to
// ARTICLE_TTL_MS: long enough for a crawler's walk of every page to find the site it
// walked before.
import { EVERYTHING, type Change } from '../events/content-events.ts';
import { SAFETY_TTL_MS } from '../http/cache/response-cache.ts';
import type { Piece } from '../http/cache/stitched-gzip.ts';
import type { ArticleStamp } from './articles.repository.ts';

interface ArticleEntry {
  version: number;
  /**
   * UTF-8 as sent, then deflated, in one buffer of their own (`split` bytes of JSON): a page is
   * these bytes copied side by side, never a string to encode again
   */
  bytes: Buffer;
  split: number;
  at: number;
}

/** A filter's total: counted, or the planner's estimate (a broad search, which is not counted) */
export interface Total {
  n: number;
  estimated: boolean;
}

const sizeOf = (p: Piece) => p.json.length + p.deflated.length;

/**
 * A piece's two parts copied into one buffer of their own. A slice keeps its whole backing
 * store alive: zlib's output is a slice of a 16 kB chunk and `Buffer.from` of a short string
 * a slice of an 8 kB pool slab, so a kept ~1.4 kB piece held 16 kB, and the process grew to
 * 2.6 GB under a 1 GB budget (100k articles held). One buffer, not two: every major GC
 * visits each kept ArrayBuffer, and with 100k articles held that sweep was a fifth of the
 * GC threads' time under load.
 */
function own(p: Piece): Buffer {
  // outside Buffer's pool: what Node's documentation advises for bytes kept indefinitely
  const bytes = Buffer.allocUnsafeSlow(sizeOf(p));
  p.json.copy(bytes);
  p.deflated.copy(bytes, p.json.length);
  return bytes;
}

/**
 * How long an article's JSON is kept, at most. Its version is checked on every use, so
 * what this bounds is only what shows in the JSON without changing the version and sends
 * no event (a hand-made change in psql to its author or tags, a process killed between
 * COMMIT and NOTIFY). At SAFETY_TTL_MS (30 s) a site larger than a crawler's 30 s walk was
 * serialised again on every page, whatever the budget (100k articles: 207–267 pages/s
 * against ~1.1k held).
 */
export const ARTICLE_TTL_MS = 10 * 60_000;

/** filters counted at most (a search is a filter: each new query adds one) */
const MAX_COUNTS = 10_000;
/** articles held in page orders at most, all filters together (16 bytes each) */
const MAX_ORDERED = 2_000_000;
/** slugs whose stamp is kept at most (~150 bytes each) */
const MAX_STAMPS = 200_000;

/**
 * Every article a list filter matches, in the list's order: a page by number is then a
 * slice, whatever its depth (PostgreSQL walks an OFFSET row by row: 30 ms for page
 * 2,500 of 100k articles).
 */
export interface ArticleOrder {
  ids: Int32Array;
  versions: Int32Array;
  /** ms since the epoch (NaN: none), for the keyset cursor of a page's last article */
  publishedAt: Float64Array;
}

export class ArticleReadCache {
  private generation = 0;
  private readonly articles = new Map<number, ArticleEntry>();
  private readonly counts = new Map<string, { value: Total; at: number }>();
  private readonly orders = new Map<string, { order: ArticleOrder; at: number }>();
  private readonly stamps = new Map<string, { value: ArticleStamp; at: number }>();
  private ordered = 0;
  private bytes = 0;

  /**
   * `maxBytes`: the serialised articles and their deflated pieces kept (least recently used
   * out first); 0 keeps nothing, counts neither. `ttlMs`: page orders and totals;
   * `articleTtlMs`: an article's JSON.
   */
  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs = SAFETY_TTL_MS,
    private readonly now: () => number = Date.now,
    private readonly articleTtlMs = ARTICLE_TTL_MS,
  ) {}

  /** The generation a read starts in: what it computed is kept only if nothing changed meanwhile. */
  get currentGeneration(): number {
    return this.generation;
  }

  /**
   * Public content changed: drop what it shows in (`change`: an article's JSON, the page
   * orders and totals, or everything), and refuse whatever reads started before now computed.
   */
  invalidate(change: Change = EVERYTHING): void {
    this.generation++;
    if (change.article === 'all') {
      this.articles.clear();
      this.bytes = 0;
    } else if (change.article !== null) {
      const e = this.articles.get(change.article);
      if (e) this.bytes -= e.bytes.length;
      this.articles.delete(change.article);
    }
    if (change.lists) {
      // a publish, an edit (a new version, maybe a new slug), an unpublish or a delete: what slugs name too
      this.counts.clear();
      this.orders.clear();
      this.ordered = 0;
      this.stamps.clear();
    }
  }

  /** An article's JSON and its deflated piece, if kept for this version. */
  article(id: number, version: number): Piece | undefined {
    const e = this.articles.get(id);
    if (!e || e.version !== version || this.now() - e.at > this.articleTtlMs) return undefined;
    // least recently used order: Map iteration order is insertion order
    this.articles.delete(id);
    this.articles.set(id, e);
    return { json: e.bytes.subarray(0, e.split), deflated: e.bytes.subarray(e.split) };
  }

  keepArticle(generation: number, id: number, version: number, made: Piece): void {
    if (generation !== this.generation || sizeOf(made) > this.maxBytes) return;
    const bytes = own(made);
    const old = this.articles.get(id);
    if (old) {
      this.articles.delete(id);
      this.bytes -= old.bytes.length;
    }
    this.articles.set(id, { version, bytes, split: made.json.length, at: this.now() });
    this.bytes += bytes.length;
    for (const [k, e] of this.articles) {
      if (this.bytes <= this.maxBytes) break;
      this.articles.delete(k);
      this.bytes -= e.bytes.length;
    }
  }

  /** How many articles a filter matches, if counted (or estimated) since the last change. */
  count(key: string): Total | undefined {
    return this.fresh(this.counts, key);
  }

  keepCount(generation: number, key: string, total: Total): void {
    this.keepSmall(generation, this.counts, key, total, MAX_COUNTS);
  }

  /** A list filter's articles in order, if listed since the last change. */
  order(key: string): ArticleOrder | undefined {
    const e = this.orders.get(key);
    if (!e || this.now() - e.at > this.ttlMs) return undefined;
    this.orders.delete(key);
    this.orders.set(key, e);
    return e.order;
  }

  keepOrder(generation: number, key: string, order: ArticleOrder): void {
    const n = order.ids.length;
    if (generation !== this.generation || this.maxBytes === 0 || n > MAX_ORDERED) return;
    const old = this.orders.get(key);
    if (old) this.ordered -= old.order.ids.length;
    this.orders.delete(key);
    this.orders.set(key, { order, at: this.now() });
    this.ordered += n;
    for (const [k, e] of this.orders) {
      if (this.ordered <= MAX_ORDERED) break;
      this.orders.delete(k);
      this.ordered -= e.order.ids.length;
    }
  }

  /** The id and version of the published article at this slug, if read since the last change. */
  stamp(slug: string): ArticleStamp | undefined {
    return this.fresh(this.stamps, slug);
  }

  keepStamp(generation: number, slug: string, stamp: ArticleStamp): void {
    this.keepSmall(generation, this.stamps, slug, stamp, MAX_STAMPS);
  }

  private fresh<T>(map: Map<string, { value: T; at: number }>, key: string): T | undefined {
    const e = map.get(key);
    return e && this.now() - e.at <= this.ttlMs ? e.value : undefined;
  }

  /** a small entry (a total, a stamp), the oldest kept out past `max` */
  private keepSmall<T>(generation: number, map: Map<string, { value: T; at: number }>, key: string, value: T, max: number): void {
    if (generation !== this.generation || this.maxBytes === 0) return;
    map.delete(key);
    map.set(key, { value, at: this.now() });
    if (map.size <= max) return;
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }

  /** For diagnostics and tests. */
  snapshot(): { articles: number; bytes: number; counts: number; orders: number; stamps: number; generation: number } {
    return { articles: this.articles.size, bytes: this.bytes, counts: this.counts.size, orders: this.orders.size, stamps: this.stamps.size, generation: this.generation };
  }
}
