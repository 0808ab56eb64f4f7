// Public reads of articles: lists, search, a single article. The default shape is
// assembled from the article read cache (articles.read-cache.ts): a page's ids and
// versions come from the filter's page order (pages by number) or from one prepared
// index query (searches, keyset pages), its total from the count cache or the same
// query, and only the articles not kept yet are read whole and serialised, each once
// per version, through the Article response schema, and deflated then (its gzip piece: a
// page's gzip is stitched from them, http/cache/stitched-gzip.ts). Sparse reads (`fields=`) and the
// feeds take the object path: the columns the fields need, then views.
import fastJsonStringify from 'fast-json-stringify';
import type { Db } from '../db/client.ts';
import { piece, stitch, type Piece } from '../http/cache/stitched-gzip.ts';
import { PaginationMeta } from '../http/schemas.ts';
import type { Serialized } from '../http/serialized.ts';
import { encodeCursor, pageMeta, type PageMeta } from '../lib/pagination.ts';
import { parseFields, parsePublicListQuery, type PublicListQuery } from './articles.query.ts';
import type { ArticleOrder, ArticleReadCache, Total } from './articles.read-cache.ts';
import * as repo from './articles.repository.ts';
import { Article, type ArticleView, type ListArticlesParams } from './articles.schemas.ts';
import type { ArticleViews } from './articles.views.ts';

export interface ArticleList {
  data: ArticleView[];
  meta: { pagination: PageMeta };
}

/** A list as its JSON (UTF-8) and gzip, ready to send, and its pagination (for the Link and X-Total-Count headers). */
export interface SerializedList extends Serialized {
  pagination: PageMeta;
}

// the serialisers Fastify would compile for these schemas (plain JSON Schema: TypeBox's own keys dropped)
const plain = (schema: object) => JSON.parse(JSON.stringify(schema)) as object;
const articleJson = fastJsonStringify(plain(Article)) as (a: ArticleView) => string;
const metaJson = fastJsonStringify(plain(PaginationMeta)) as (m: ArticleList['meta']) => string;
const DATA_OPEN = piece(Buffer.from('{"data":['));
const COMMA = piece(Buffer.from(','));
const NOTHING = Buffer.alloc(0);

/** The count cache's key: the filter (not the order, the page or the keyset position). */
const countKey = (filter: PublicListQuery['filter']) => JSON.stringify(filter);

/**
 * How searches are answered (SEARCH_EXACT_UP_TO, SEARCH_RANK_WINDOW). A search the planner
 * expects to match at most `exactUpTo` articles is ranked whole and counted. A broader one
 * ranks its newest `window` matches, then lists the older ones newest first, and its total
 * is the planner's estimate: ranking and counting every match reads each one's row
 * (33–53 ms of PostgreSQL for a common pair of words among 100k articles), where a
 * window of 100 is one walk down the date index (1–3 ms; 200 cost twice that under load,
 * for 10 ranked pages instead of 5). Among thousands of matches ts_rank
 * saturates anyway (1,394 articles within 2 % of the 20th score for a common pair: the
 * date tie-break chose the page). bench/results/2026-12-01-search-designs-postgres-100000.md
 */
export interface SearchPolicy {
  exactUpTo: number;
  window: number;
}

export class ArticleReads {
  constructor(
    private readonly db: Db,
    private readonly views: ArticleViews,
    private readonly cache: ArticleReadCache,
    private readonly search: SearchPolicy,
  ) {}

  /** page orders being listed: one query per filter however many requests wait for it */
  private readonly listing = new Map<string, Promise<ArticleOrder>>();

  /** A page as objects: sparse reads (`fields=`) and the feeds. */
  async list(params: ListArticlesParams): Promise<ArticleList> {
    const q = parsePublicListQuery(params);
    const generation = this.cache.currentGeneration;
    if (q.filter.q) {
      // a search: the page's articles as the default shape finds them (a broad search's window)
      const { stamps, total } = await this.fromQuery(q, generation);
      const shown = stamps.slice(0, q.limit);
      const records = shown.length ? await repo.listArticles(this.db, { filter: { status: 'published', ids: shown.map((s) => s.id) }, order: '-publishedAt', limit: shown.length, fields: q.fields }) : [];
      const byId = new Map(records.map((r) => [r.id, r]));
      return {
        data: await this.views.public(this.db, shown.flatMap((s) => byId.get(s.id) ?? []), q.fields),
        meta: { pagination: this.pagination(q, total, shown.at(-1), stamps.length > q.limit) },
      };
    }
    const [records, n] = await Promise.all([repo.listArticles(this.db, { ...this.page(q), fields: q.fields }), this.count(q.filter, generation)]);
    const shown = records.slice(0, q.limit);
    return {
      data: await this.views.public(this.db, shown, q.fields),
      meta: { pagination: this.pagination(q, { n, estimated: false }, shown.at(-1), records.length > q.limit) },
    };
  }

  /** A page of the default shape, as JSON. */
  async listJson(params: ListArticlesParams): Promise<SerializedList> {
    const q = parsePublicListQuery(params);
    const generation = this.cache.currentGeneration;
    const { stamps, total } = q.page !== null && !q.filter.q ? await this.fromOrder(q, generation) : await this.fromQuery(q, generation);
    const shown = stamps.slice(0, q.limit);
    const pagination = this.pagination(q, total, shown.at(-1), stamps.length > q.limit);
    const items = await this.articlesJson(shown, generation);
    // the page's bytes: each article's, copied side by side (and their gzip pieces alike)
    return { ...stitch(items, { open: DATA_OPEN, separator: COMMA, tail: Buffer.from(`],"meta":${metaJson({ pagination })}}`) }), pagination };
  }

  /** A page by number of a date-ordered list: a slice of the filter's order, listed once between two changes. */
  private async fromOrder(q: PublicListQuery, generation: number): Promise<{ stamps: repo.ArticleStamp[]; total: Total }> {
    const key = JSON.stringify([q.filter, q.order]);
    let order = this.cache.order(key);
    if (!order) {
      // concurrent misses of one filter in one generation wait for the same listing
      const flight = `${generation} ${key}`;
      let pending = this.listing.get(flight);
      if (!pending) {
        pending = repo.listArticleOrder(this.db, q.filter, q.order).finally(() => this.listing.delete(flight));
        this.listing.set(flight, pending);
      }
      order = await pending;
      this.cache.keepOrder(generation, key, order);
    }
    const start = ((q.page ?? 1) - 1) * q.limit;
    const stamps: repo.ArticleStamp[] = [];
    for (let i = start; i < Math.min(order.ids.length, start + q.limit + 1); i++) {
      const at = order.publishedAt[i];
      stamps.push({ id: order.ids[i], version: order.versions[i], publishedAt: Number.isNaN(at) ? null : new Date(at) });
    }
    return { stamps, total: { n: order.ids.length, estimated: false } };
  }

  /** A search, or a page after a keyset cursor: the page's stamps from PostgreSQL, with the total when not counted yet. */
  private async fromQuery(q: PublicListQuery, generation: number): Promise<{ stamps: repo.ArticleStamp[]; total: Total }> {
    const key = countKey(q.filter);
    let total = this.cache.count(key);
    if (!total && q.filter.q) {
      const estimate = await this.broadEstimate(q, generation);
      if (estimate !== null) total = { n: estimate, estimated: true };
    }
    if (total?.estimated) {
      // a broad search: never counted (its estimate kept for its next pages), and in relevance order its window ranked
      if (q.order !== 'relevance') {
        this.cache.keepCount(generation, key, total);
        return { stamps: (await repo.listArticleStamps(this.db, this.page(q), false)).stamps, total };
      }
      const page = await repo.listSearchWindow(this.db, this.page(q), this.search.window);
      // a window not full holds every match: ranked whole and counted after all
      const seen: Total = page.candidates < this.search.window ? { n: page.candidates, estimated: false } : { n: Math.max(total.n, this.search.window), estimated: true };
      this.cache.keepCount(generation, key, seen);
      return { stamps: page.stamps, total: seen };
    }
    // a total not counted yet comes with the page, from the same scan (one round trip); not
    // with a keyset cursor, whose condition narrows the scan to the articles after it
    const page = await repo.listArticleStamps(this.db, this.page(q), total === undefined && !q.after);
    if (total === undefined && page.total !== null) {
      total = { n: page.total, estimated: false };
      this.cache.keepCount(generation, key, total);
    }
    return { stamps: page.stamps, total: total ?? { n: await this.count(q.filter, generation), estimated: false } };
  }

  /**
   * A search broader than SEARCH_EXACT_UP_TO: the planner's estimate of its matches, or
   * null to count them. Without asking when the filter without the words is no broader
   * (every search of a site that small is counted).
   */
  private async broadEstimate(q: PublicListQuery, generation: number): Promise<number | null> {
    const { q: words, ...rest } = q.filter;
    if (!words || (await this.count(rest, generation)) <= this.search.exactUpTo) return null;
    const estimate = await repo.estimateArticles(this.db, q.filter);
    return estimate > this.search.exactUpTo ? estimate : null;
  }

  /** A published article (as JSON in the default shape, else as the fields asked for), or `{ redirect }` to its current slug, or null. */
  async get(slug: string, q: { fields?: string } = {}): Promise<Serialized | { article: ArticleView } | { redirect: string } | null> {
    const fields = parseFields(q.fields);
    if (fields) {
      const record = await repo.findPublicArticleBySlug(this.db, slug, fields);
      if (record) return { article: (await this.views.public(this.db, [record], fields))[0] };
    } else {
      const generation = this.cache.currentGeneration;
      let stamp = this.cache.stamp(slug);
      if (!stamp) {
        stamp = (await repo.findPublicArticleStamp(this.db, slug)) ?? undefined;
        if (stamp) this.cache.keepStamp(generation, slug, stamp);
      }
      const [kept] = stamp ? await this.articlesJson([stamp], generation) : [];
      if (kept) return stitch([kept], { tail: NOTHING });
    }
    const redirect = await repo.findRedirect(this.db, slug);
    return redirect ? { redirect } : null;
  }

  private page(q: PublicListQuery): repo.ListPage {
    // one more than shown: whether a next page exists, without counting
    return { filter: q.filter, order: q.order, limit: q.limit + 1, offset: q.page ? (q.page - 1) * q.limit : 0, after: q.after };
  }

  private pagination(q: PublicListQuery, total: Total, last: { id: number; publishedAt: Date | null } | undefined, hasMore: boolean): PageMeta {
    const nextCursor = last && q.order !== 'relevance' && last.publishedAt ? encodeCursor([last.publishedAt.toISOString(), last.id], q.fingerprint) : null;
    return pageMeta({ page: q.page, limit: q.limit, total: total.n, nextCursor, hasMore, estimated: total.estimated });
  }

  /** The articles a filter matches in all pages: counted once per filter between two changes. */
  private async count(filter: PublicListQuery['filter'], generation: number): Promise<number> {
    const key = countKey(filter);
    const kept = this.cache.count(key);
    if (kept !== undefined) return kept.n;
    const n = await repo.countArticles(this.db, filter);
    this.cache.keepCount(generation, key, { n, estimated: false });
    return n;
  }

  /**
   * The JSON of these articles and its deflated pieces, in their order: kept ones as they
   * are, the others read in one query (their announcements in a second, alongside),
   * serialised and deflated once. An article that stopped being public between the two
   * queries is left out.
   */
  private async articlesJson(stamps: repo.ArticleStamp[], generation: number): Promise<Piece[]> {
    const json = new Map<number, Piece>();
    const missing: number[] = [];
    for (const s of stamps) {
      const kept = this.cache.article(s.id, s.version);
      if (kept !== undefined) json.set(s.id, kept);
      else missing.push(s.id);
    }
    if (missing.length) {
      const [records, announcements] = await Promise.all([repo.findPublicArticlesByIds(this.db, missing), this.views.announcements(this.db, missing)]);
      const views = await this.views.public(this.db, records, undefined, announcements);
      records.forEach((r, i) => {
        const p: Piece = piece(Buffer.from(articleJson(views[i])));
        this.cache.keepArticle(generation, r.id, r.version, p);
        json.set(r.id, p);
      });
    }
    return stamps.flatMap((s) => json.get(s.id) ?? []);
  }
}
