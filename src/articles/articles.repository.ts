// SQL for articles. Every read is one query: the author, the tags and the response
// counts come along as joins and correlated aggregates (no N+1).
import { eq, sql, type SQL } from 'drizzle-orm';
import { intArray, prepared, queryRows, readRows, type Db } from '../db/client.ts';
import { articles, articleTags, slugRedirects, type ArticleStatus } from './articles.table.ts';
import type { MediaRef } from '../media/media.service.ts';
import type { ArticleOrder } from './articles.read-cache.ts';

export interface ArticleRecord {
  id: number;
  slug: string;
  title: string;
  excerpt: string;
  html: string;
  text: string;
  markdown: string | null;
  customExcerpt: boolean;
  status: ArticleStatus;
  publishAt: Date | null;
  publishedAt: Date | null;
  firstPublishedAt: Date | null;
  updatedAt: Date;
  createdAt: Date;
  readingTimeMinutes: number;
  commentsOpen: boolean;
  pingsOpen: boolean;
  announce: boolean;
  version: number;
  author: { slug: string; name: string } | null;
  tags: { slug: string; name: string }[];
  counts: ResponseCounts;
  featureImage: MediaRef | null;
}

/** approved responses by type; likes, reposts and replies are social responses of that kind (§13) */
const COUNTED = ['comments', 'pingbacks', 'webmentions', 'likes', 'reposts', 'replies'] as const;
type ResponseCounts = Record<(typeof COUNTED)[number], number>;

const TAGS = `coalesce((select json_agg(json_build_object('slug', t.slug, 'name', t.name) order by at.position, t.id)
            from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id), '[]'::json) as tags`;
const COUNTS = `(select json_build_object('comments', count(*) filter (where r.type = 'comment'),
                            'pingbacks', count(*) filter (where r.type = 'pingback'),
                            'webmentions', count(*) filter (where r.type = 'webmention'),
                            'likes', count(*) filter (where r.type = 'social' and r.kind = 'like'),
                            'reposts', count(*) filter (where r.type = 'social' and r.kind = 'repost'),
                            'replies', count(*) filter (where r.type = 'social' and r.kind = 'reply'))
   from responses r where r.article_id = a.id and r.status = 'approved') as counts`;
const FEATURE_IMAGE = `(select json_build_object('id', m.id, 'hash', m.hash, 'format', m.format, 'width', m.width, 'height', m.height, 'alt', m.alt, 'variants', m.variants)
   from media m where m.id = a.feature_image_id) as feature_image`;
/** Everything a public view shows: no Markdown source, no plain text (lists stay a third of the bytes). */
const PUBLIC_COLUMNS = sql.raw(`
  a.id, a.slug, a.title, a.excerpt, a.html, a.custom_excerpt, a.status, a.publish_at,
  a.published_at, a.first_published_at, a.updated_at, a.created_at, a.reading_time_minutes, a.comments_open,
  a.pings_open, a.announce, a.version, au.slug as author_slug, au.name as author_name,
  ${TAGS},
  ${COUNTS},
  ${FEATURE_IMAGE}`);
const FROM = sql`from articles a left join authors au on au.id = a.author_id`;

/**
 * The columns each field of the public shape needs, for sparse reads (`fields=`): an index
 * page that asks for no `html` reads no body. A field missing here (a new one) gets every column.
 */
const FIELD_COLUMNS: Record<string, string[]> = {
  id: [],
  slug: ['a.slug'],
  title: ['a.title'],
  excerpt: ['a.excerpt'],
  html: ['a.html'],
  status: ['a.status'],
  publishedAt: ['a.published_at'],
  updatedAt: [],
  url: ['a.slug', 'a.published_at'],
  author: ['au.slug as author_slug', 'au.name as author_name'],
  tags: [TAGS],
  readingTimeMinutes: ['a.reading_time_minutes'],
  commentsOpen: ['a.comments_open'],
  pingsOpen: ['a.pings_open'],
  counts: [COUNTS],
  featureImage: [FEATURE_IMAGE],
  announcement: [],
  syndication: [],
};

/** The select list for `fields` (all public columns when none are named or one is not mapped). */
function columnsFor(fields: readonly string[] | undefined): SQL {
  if (!fields || fields.some((f) => !(f in FIELD_COLUMNS))) return PUBLIC_COLUMNS;
  return sql.raw([...new Set(['a.id', 'a.updated_at', 'a.published_at', ...fields.flatMap((f) => FIELD_COLUMNS[f])])].join(', '));
}
/** the whole record: the editor's source and the plain text too */
const SELECT = sql`select ${PUBLIC_COLUMNS}, a.text, a.markdown ${FROM}`;
const SELECT_PUBLIC = sql`select ${PUBLIC_COLUMNS} ${FROM}`;

/** An article as public reads show it: without the Markdown source and the plain text. */
export type PublicArticleRecord = Omit<ArticleRecord, 'text' | 'markdown'>;

type Row = Record<string, unknown>;
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function toPublicRecord(r: Row): PublicArticleRecord {
  const counts = json<ResponseCounts | null>(r.counts);
  return {
    id: Number(r.id),
    slug: String(r.slug),
    title: String(r.title),
    excerpt: String(r.excerpt),
    html: String(r.html),
    customExcerpt: Boolean(r.custom_excerpt),
    status: r.status as ArticleStatus,
    publishAt: date(r.publish_at),
    publishedAt: date(r.published_at),
    firstPublishedAt: date(r.first_published_at),
    updatedAt: date(r.updated_at)!,
    createdAt: date(r.created_at)!,
    readingTimeMinutes: Number(r.reading_time_minutes),
    commentsOpen: Boolean(r.comments_open),
    pingsOpen: Boolean(r.pings_open),
    announce: Boolean(r.announce),
    version: Number(r.version),
    author: r.author_slug ? { slug: String(r.author_slug), name: String(r.author_name) } : null,
    tags: json(r.tags),
    // absent from a sparse read that did not ask for them
    counts: Object.fromEntries(COUNTED.map((k) => [k, Number(counts?.[k] ?? 0)])) as ResponseCounts,
    featureImage: r.feature_image ? json<MediaRef>(r.feature_image) : null,
  };
}

function toRecord(r: Row): ArticleRecord {
  return { ...toPublicRecord(r), text: String(r.text), markdown: (r.markdown as string | null) ?? null };
}

export async function findArticleById(db: Db, id: number, opts: { forUpdate?: boolean } = {}): Promise<ArticleRecord | null> {
  if (opts.forUpdate) await db.execute(sql`select 1 from articles where id = ${id} for update`);
  const rows = await queryRows(db, sql`${SELECT} where a.id = ${id}`);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** `fields`: a sparse read; the record then holds only what those fields need (the rest is filler). */
export async function findPublicArticleBySlug(db: Db, slug: string, fields?: readonly string[]): Promise<PublicArticleRecord | null> {
  const rows = await queryRows(db, sql`select ${columnsFor(fields)} ${FROM} where a.slug = ${slug} and a.status = 'published'`);
  return rows[0] ? toPublicRecord(rows[0]) : null;
}

/** What a response to an article needs checked: whether it is public, its date, whether it takes comments and pings. */
export interface ArticleRef {
  id: number;
  slug: string;
  status: ArticleStatus;
  publishedAt: Date | null;
  commentsOpen: boolean;
  pingsOpen: boolean;
}

/**
 * An article's reference by slug (published only, unless `anyStatus`) or id: one narrow indexed read for the
 * write paths (comments, pingbacks, webmentions), which need neither the body nor the
 * aggregates.
 */
export async function findArticleRef(
  db: Db,
  key: { slug: string; anyStatus?: boolean } | { id: number },
  opts: { mentionFrom?: string } = {},
): Promise<(ArticleRef & { mentioned: boolean }) | null> {
  const by = 'id' in key ? 'id' : key.anyStatus ? 'any-slug' : 'slug';
  const withMention = opts.mentionFrom !== undefined;
  const statement = prepared(db, `article-ref:${by}:${withMention}`, (d) =>
    d
      .select({
        id: articles.id,
        slug: articles.slug,
        status: articles.status,
        publishedAt: articles.publishedAt,
        commentsOpen: articles.commentsOpen,
        pingsOpen: articles.pingsOpen,
        // a pingback asks, in the same round trip, whether this source already mentions the article
        mentioned: withMention
          ? // (the column written out: Drizzle leaves select-list columns unqualified, and a bare "id" here would be r.id)
            sql<boolean>`exists (select 1 from responses r where r.article_id = articles.id and r.source_url = ${sql.placeholder('source')})`
          : sql<boolean>`false`,
      })
      .from(articles)
      .where(
        by === 'id'
          ? eq(articles.id, sql.placeholder('id'))
          : by === 'slug'
            ? sql`${articles.slug} = ${sql.placeholder('slug')} and ${articles.status} = 'published'`
            : eq(articles.slug, sql.placeholder('slug')),
      )
      .prepare(`article_ref_${by.replace('-', '_')}${withMention ? '_mention' : ''}`),
  );
  const [row] = await statement.execute({ ...key, source: opts.mentionFrom });
  return row ? { ...row, mentioned: Boolean(row.mentioned) } : null;
}

/** The current slug of a public article that used to be called `slug`. */
export async function findRedirect(db: Db, slug: string): Promise<string | null> {
  const rows = await queryRows<{ slug: string }>(
    db,
    sql`select a.slug from slug_redirects r join articles a on a.id = r.article_id where r.slug = ${slug} and a.status = 'published'`,
  );
  return rows[0]?.slug ?? null;
}

export interface ListFilter {
  status?: ArticleStatus | ArticleStatus[];
  tag?: string;
  author?: string;
  since?: Date;
  until?: Date;
  q?: string;
  /** only these ids */
  ids?: number[];
}

function whereOf(f: ListFilter, ...more: SQL[]): SQL {
  const parts: SQL[] = [];
  if (f.status) {
    const list = Array.isArray(f.status) ? f.status : [f.status];
    parts.push(sql`a.status in (${sql.join(list.map((s) => sql`${s}`), sql`, `)})`);
  }
  if (f.tag) parts.push(sql`exists (select 1 from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id and t.slug = ${f.tag})`);
  if (f.author) parts.push(sql`au.slug = ${f.author}`);
  if (f.since) parts.push(sql`a.published_at >= ${f.since.toISOString()}::timestamptz`);
  if (f.until) parts.push(sql`a.published_at < ${f.until.toISOString()}::timestamptz`);
  if (f.ids) parts.push(sql`a.id = any(${intArray(f.ids)})`);
  if (f.q) parts.push(sql`a.search @@ websearch_to_tsquery('english', inkwell_unaccent(${f.q}))`);
  parts.push(...more);
  return parts.length ? sql`where ${sql.join(parts, sql` and `)}` : sql``;
}

export type ListOrder = '-publishedAt' | 'publishedAt' | 'relevance' | '-updatedAt';

export interface ListPage {
  filter: ListFilter;
  order: ListOrder;
  limit: number;
  /** page mode */
  offset?: number;
  /** keyset mode: the (publishedAt, id) of the last item seen */
  after?: [string, number];
  /** a sparse public read: only the columns these fields need */
  fields?: readonly string[];
}

/**
 * A search's relevance: ts_rank over the weighted vector (title above excerpt above body).
 * Not ts_rank_cd: the same weights, but cover density cost 8x more (123 against 16 ms to
 * rank 4,851 matches among 100k articles).
 */
const rankOf = (q: string) => sql`ts_rank(a.search, websearch_to_tsquery('english', inkwell_unaccent(${q})))`;

/** The where clause, order and joins of a page (the same for its ids, its rows and its count). */
function pageQuery(p: ListPage): { from: SQL; where: SQL; order: SQL } {
  const cmp = p.order === 'publishedAt' ? sql`>` : sql`<`;
  // one where clause for the filter and the keyset, however many conditions each brings
  const where = whereOf(p.filter, ...(p.after ? [sql`(a.published_at, a.id) ${cmp} (${p.after[0]}::timestamptz, ${p.after[1]})`] : []));
  const from = p.filter.author ? sql`from articles a left join authors au on au.id = a.author_id` : sql`from articles a`;
  return { from, where, order: orderOf(p.order, p.filter.q) };
}

function orderOf(order: ListOrder, q: string | undefined): SQL {
  if (order === 'relevance' && q) return sql`${rankOf(q)} desc, a.published_at desc, a.id desc`;
  if (order === 'publishedAt') return sql`a.published_at asc, a.id asc`;
  if (order === '-updatedAt') return sql`a.updated_at desc, a.id desc`;
  return sql`a.published_at desc nulls first, a.id desc`;
}

/** A page of articles; with `source`, whole records (the admin list), else what public reads show. */
export async function listArticles(db: Db, p: ListPage & { source: true }): Promise<ArticleRecord[]>;
export async function listArticles(db: Db, p: ListPage): Promise<PublicArticleRecord[]>;
export async function listArticles(db: Db, p: ListPage & { source?: boolean }): Promise<PublicArticleRecord[]> {
  const { from, where, order } = pageQuery(p);
  // the page's ids first, then the columns and aggregates for those rows only: a deep OFFSET
  // page skips index entries, not thousands of tag and count aggregates
  const ids = sql`select a.id ${from} ${where} order by ${order} limit ${p.limit} offset ${p.offset ?? 0}`;
  const query = sql`${p.source ? SELECT : p.fields ? sql`select ${columnsFor(p.fields)} ${FROM}` : SELECT_PUBLIC} join unnest(array(${ids})) with ordinality as page(id, n) on page.id = a.id order by page.n`;
  // sparse reads come in as many shapes as field lists: not kept as prepared statements
  const rows = await (p.fields ? queryRows(db, query) : readRows(db, query));
  return rows.map(p.source ? toRecord : toPublicRecord);
}

/** What the article JSON cache needs of a page: its articles' ids and versions, in order, and their dates (the cursor). */
export interface ArticleStamp {
  id: number;
  version: number;
  publishedAt: Date | null;
}

interface StampRow {
  id: number;
  version: number;
  published_at: unknown;
  total?: number | string;
}
const toStamp = (r: StampRow): ArticleStamp => ({ id: Number(r.id), version: Number(r.version), publishedAt: date(r.published_at) });

/**
 * A page's stamps: an index walk, no body, no aggregates. `withTotal`: the matching
 * articles in all pages too, counted by the same scan (a search ranks every match
 * anyway); null when the page is past the end.
 */
export async function listArticleStamps(db: Db, p: ListPage, withTotal: boolean): Promise<{ stamps: ArticleStamp[]; total: number | null }> {
  const { from, where, order } = pageQuery(p);
  const range = sql`limit ${p.limit} offset ${p.offset ?? 0}`;
  let query = sql`select a.id, a.version, a.published_at ${withTotal ? sql`, count(*) over () as total` : sql``} ${from} ${where} order by ${order} ${range}`;
  if (withTotal && p.order === 'relevance' && p.filter.q) {
    // each match ranked once, its rank kept beside three narrow columns: counted and sorted without
    // carrying the search vectors (~900 bytes each) into the count, which spilled them to disk
    query = sql`with m as materialized (select a.id, a.version, a.published_at, ${rankOf(p.filter.q)} as rank ${from} ${where})
      select id, version, published_at, count(*) over () as total from m order by rank desc, published_at desc, id desc ${range}`;
  }
  // a search by date walks the date index or sorts its matches, as its words are common or
  // rare: planned for them each time (readRows); by relevance it reads every match either way
  const rows = await readRows<StampRow>(db, query, { planEachTime: Boolean(p.filter.q) && p.order !== 'relevance' });
  return { stamps: rows.map(toStamp), total: withTotal && rows[0] ? Number(rows[0].total) : null };
}

/**
 * How many articles the planner expects a filter to match, from its statistics: no row
 * is read (0.1 ms for a search among 100k articles, where counting them reads every
 * match: 20–29 ms for a common pair of words).
 */
export async function estimateArticles(db: Db, filter: ListFilter): Promise<number> {
  const { from, where } = pageQuery({ filter, order: '-publishedAt', limit: 0 });
  const rows = await readRows<{ 'QUERY PLAN': unknown }>(db, sql`explain (format json) select 1 ${from} ${where}`);
  const plan = rows[0]?.['QUERY PLAN'];
  const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan?: { 'Plan Rows'?: number } }[] | undefined;
  return Math.round(Number(parsed?.[0]?.Plan?.['Plan Rows'] ?? 0));
}

/**
 * A page of a broad search in relevance order: its newest `window` matches (one walk down
 * the date index, no other match read) ranked, then the older matches newest first.
 * `candidates`: how many the walk found; fewer than `window` means that is every match
 * (`window` when the page does not tell).
 */
export async function listSearchWindow(db: Db, p: ListPage, window: number): Promise<{ stamps: ArticleStamp[]; candidates: number }> {
  const { from, where, order } = pageQuery(p);
  const byDate = orderOf('-publishedAt', p.filter.q);
  const offset = p.offset ?? 0;
  let stamps: ArticleStamp[] = [];
  let candidates = window;
  if (offset < window) {
    // the window first (materialised: the walk stops at `window` rows), then ranked; the
    // rank reads the rows' vectors, in the same order expression as a whole search
    const rows = await readRows<StampRow>(
      db,
      sql`with a as materialized (select a.id, a.version, a.published_at, a.search ${from} ${where} order by ${byDate} limit ${window})
          select id, version, published_at, (select count(*) from a) as total from a order by ${order} limit ${Math.min(p.limit, window - offset)} offset ${offset}`,
      { planEachTime: true },
    );
    stamps = rows.map(toStamp);
    // a page past the end of the matches does not learn how many there are (`window`: unknown)
    if (rows[0] || offset === 0) candidates = rows[0] ? Number(rows[0].total) : 0;
  }
  const rest = offset + p.limit - Math.max(offset, window);
  if (rest > 0 && candidates === window) {
    const rows = await readRows<StampRow>(db, sql`select a.id, a.version, a.published_at ${from} ${where} order by ${byDate} limit ${rest} offset ${Math.max(offset, window)}`, {
      planEachTime: true,
    });
    stamps = stamps.concat(rows.map(toStamp));
  }
  return { stamps, candidates };
}

/** Every article a filter matches, in the list's order (the read cache's page order). */
export async function listArticleOrder(db: Db, filter: ListFilter, order: ListOrder): Promise<ArticleOrder> {
  const { from, where, order: by } = pageQuery({ filter, order, limit: 0 });
  const rows = await readRows<StampRow>(db, sql`select a.id, a.version, a.published_at ${from} ${where} order by ${by}`);
  const out: ArticleOrder = { ids: new Int32Array(rows.length), versions: new Int32Array(rows.length), publishedAt: new Float64Array(rows.length) };
  // straight into the arrays: a 100k-article list makes no object per row
  rows.forEach((r, i) => {
    out.ids[i] = Number(r.id);
    out.versions[i] = Number(r.version);
    out.publishedAt[i] = date(r.published_at)?.getTime() ?? NaN;
  });
  return out;
}

/** A published article's stamp by slug. */
export async function findPublicArticleStamp(db: Db, slug: string): Promise<ArticleStamp | null> {
  const rows = await readRows<StampRow>(db, sql`select a.id, a.version, a.published_at from articles a where a.slug = ${slug} and a.status = 'published'`);
  return rows[0] ? toStamp(rows[0]) : null;
}

/** Published articles by id, as public reads show them (in no particular order). */
export async function findPublicArticlesByIds(db: Db, ids: readonly number[]): Promise<PublicArticleRecord[]> {
  const rows = await readRows(db, sql`${SELECT_PUBLIC} where a.id = any(${intArray(ids)}) and a.status = 'published'`);
  return rows.map(toPublicRecord);
}

export async function countArticles(db: Db, filter: ListFilter): Promise<number> {
  const { from, where } = pageQuery({ filter, order: '-publishedAt', limit: 0 });
  const rows = await readRows<{ n: number | string }>(db, sql`select count(*)::int as n ${from} ${where}`);
  return Number(rows[0]?.n ?? 0);
}

export async function slugInUse(db: Db, slug: string, exceptId?: number): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select 1 from articles where slug = ${slug} ${exceptId ? sql`and id <> ${exceptId}` : sql``}
        union all select 1 from slug_redirects where slug = ${slug} ${exceptId ? sql`and article_id <> ${exceptId}` : sql``} limit 1`,
  );
  return rows.length > 0;
}

export type ArticleInsert = typeof articles.$inferInsert;

export async function insertArticle(db: Db, values: ArticleInsert): Promise<number> {
  const [row] = await db.insert(articles).values(values).returning({ id: articles.id });
  return row.id;
}

export async function updateArticle(db: Db, id: number, values: Partial<ArticleInsert>): Promise<void> {
  await db
    .update(articles)
    .set({ ...values, version: sql`${articles.version} + 1`, updatedAt: sql`now()` })
    .where(eq(articles.id, id));
}

/** The constraints a taken slug breaks: the articles' own, or a slug an article had before (reserved for its redirect). */
export const SLUG_CONSTRAINTS: readonly string[] = [articles.slug.uniqueName ?? 'articles_slug_unique', 'slug_redirects_pkey'];

/** What a status change stamps on the row (the rest of the record is as it was). */
export type StatusStamp = Pick<ArticleRecord, 'status' | 'publishAt' | 'publishedAt' | 'firstPublishedAt' | 'version' | 'updatedAt'>;
const STAMP = {
  status: articles.status,
  publishAt: articles.publishAt,
  publishedAt: articles.publishedAt,
  firstPublishedAt: articles.firstPublishedAt,
  version: articles.version,
  updatedAt: articles.updatedAt,
};

/** Makes an article public: a scheduled one at its publishAt, one public before at its old date, else now. */
export async function markPublished(db: Db, id: number): Promise<StatusStamp> {
  const [row] = await db
    .update(articles)
    .set({
      status: 'published',
      publishedAt: sql`coalesce(case when ${articles.status} = 'scheduled' then ${articles.publishAt} end, ${articles.publishedAt}, now())`,
      firstPublishedAt: sql`coalesce(${articles.firstPublishedAt}, now())`,
      publishAt: null,
      version: sql`${articles.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(eq(articles.id, id))
    .returning(STAMP);
  return row;
}

/** Any other status change (draft, scheduled, archived): the dates stay. */
export async function setStatus(db: Db, id: number, status: ArticleStatus): Promise<StatusStamp> {
  const [row] = await db
    .update(articles)
    .set({ status, version: sql`${articles.version} + 1`, updatedAt: sql`now()` })
    .where(eq(articles.id, id))
    .returning(STAMP);
  return row;
}

export async function deleteArticle(db: Db, id: number): Promise<void> {
  await db.delete(articles).where(eq(articles.id, id));
}

export async function setArticleTags(db: Db, articleId: number, tagIds: number[]): Promise<void> {
  await db.delete(articleTags).where(eq(articleTags.articleId, articleId));
  if (tagIds.length) await db.insert(articleTags).values(tagIds.map((tagId, position) => ({ articleId, tagId, position })));
}

/** Remembers `oldSlug` as a redirect to the article, and frees `newSlug` if it was one. */
export async function renameSlug(db: Db, articleId: number, oldSlug: string, newSlug: string): Promise<void> {
  await db.delete(slugRedirects).where(eq(slugRedirects.slug, newSlug));
  await db.insert(slugRedirects).values({ slug: oldSlug, articleId }).onConflictDoUpdate({ target: slugRedirects.slug, set: { articleId } });
}

/** Remembers `slug` as an earlier slug of the article unless it is an article's or another redirect's; true when added. */
export async function addSlugRedirect(db: Db, articleId: number, slug: string): Promise<boolean> {
  if (await slugInUse(db, slug)) return false;
  const rows = await db.insert(slugRedirects).values({ slug, articleId }).onConflictDoNothing().returning({ slug: slugRedirects.slug });
  return rows.length > 0;
}

/** Articles due for publishing, claimed by the caller's transaction. */
export async function claimDueScheduled(db: Db, id: number): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select id from articles where id = ${id} and status = 'scheduled' and publish_at <= now() for update skip locked`,
  );
  return rows.length > 0;
}

/** Every public article's permalink parts and last change, newest first (sitemaps). */
export async function listPublicForSitemap(db: Db, max = 50_000): Promise<{ id: number; slug: string; publishedAt: Date; updatedAt: Date }[]> {
  const rows = await queryRows<Row>(
    db,
    sql`select id, slug, published_at, updated_at from articles where status = 'published' order by published_at desc, id desc limit ${max}`,
  );
  return rows.map((r) => ({ id: Number(r.id), slug: String(r.slug), publishedAt: date(r.published_at)!, updatedAt: date(r.updated_at)! }));
}
