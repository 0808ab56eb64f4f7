// Seeds the benchmark database, then (optionally) explains the public queries.
// Runs as its own process BEFORE the server starts: PGlite is one process's database.
//
//   node --import tsx bench/seed.ts --articles 1000 --manifest out.json [--explain]
//   (DATABASE_URL or DATA_DIR select the database, as for the server)
//
// Up to --services-max articles (default 5000) are written through ArticlesService
// (the admin write path: rendering, slugs, tags, the publish transaction and its
// listeners). Beyond that, rows go in by bulk insert through the Drizzle schema,
// with the same rendered bodies, tags, authors and a search vector computed by the
// same trigger. Responses (comments — some threaded —, pingbacks, webmentions,
// mostly approved) are inserted through the schema in both modes.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import { openAndMigrate } from '../src/runtime.ts';
import { compose } from '../src/compose.ts';
import { queryRows, type Db } from '../src/db/client.ts';
import * as schema from '../src/db/schema.ts';
import { articles, articleTags } from '../src/articles/articles.table.ts';
import { responses } from '../src/comments/responses.table.ts';
import { authors } from '../src/taxonomy/taxonomy.table.ts';
import { ensureTags } from '../src/taxonomy/taxonomy.repository.ts';
import { ArticlesService } from '../src/articles/articles.service.ts';
import { ResponsesService } from '../src/comments/responses.service.ts';
import { announcementsFor } from '../src/social/announcements/announcements.repository.ts';
import { PublishingEvents } from '../src/articles/publishing.ts';
import { ContentEvents } from '../src/events/content-events.ts';
import { excerptOf, htmlToText, markdownToHtml, readingTimeMinutes } from '../src/lib/html.ts';
import { toSlug } from '../src/lib/slug.ts';
import { createToken } from '../src/auth/tokens.service.ts';
import { AUTHORS, FIRST_NAMES, LAST_NAMES, commentText, markdownBody, pick, rng, tagsFor, title } from './content.ts';
import { MISS_FIELDS } from './requests.ts';

const { values: args } = parseArgs({
  options: {
    articles: { type: 'string', default: '1000' },
    manifest: { type: 'string' },
    explain: { type: 'boolean', default: false },
    'services-max': { type: 'string', default: '5000' },
  },
});
const WANTED = Number(args.articles);
const SERVICES_MAX = Number(args['services-max']);
const SEARCH = 'keyset pagination';
/** the article the responses scenario reads gets a long conversation */
const CONVERSATION = 40;

const progress = (msg: string) => process.stderr.write(`  ${msg}\n`);
const since = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

const tStart = performance.now();
const config = loadConfig();
const database = await openAndMigrate(config);
progress(`opened ${database.kind} database ${since(tStart)}`);
const log = pino({ level: 'silent' });
const services = compose(config, database, log);
const db = database.db;

const count = async () =>
  Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from articles where status = 'published'`))[0].n);

const t0 = performance.now();
const before = await count();
const toSeed = Math.max(0, WANTED - before);
let mode: 'services' | 'bulk' | 'none' = 'none';

if (toSeed > 0) {
  const r = rng(before + 1);
  await db.insert(authors).values([...AUTHORS]).onConflictDoNothing();
  const authorIds = new Map((await db.select({ id: authors.id, slug: authors.slug }).from(authors)).map((a) => [a.slug, a.id]));
  const [{ maxId: startId }] = await queryRows<{ maxId: number }>(db, sql`select coalesce(max(id), 0)::int as "maxId" from articles`);
  const step = Math.max(1, Math.floor(toSeed / 20));
  mode = toSeed <= SERVICES_MAX ? 'services' : 'bulk';
  progress(`seeding ${toSeed} articles (${mode === 'services' ? 'through ArticlesService' : 'bulk insert through the schema'}) on ${database.kind}`);

  if (mode === 'services') {
    for (let i = 0; i < toSeed; i++) {
      const author = pick(r, AUTHORS);
      await services.articles.create({
        title: title(r, before + i + 1),
        markdown: markdownBody(r),
        tags: tagsFor(r),
        authorSlug: r() < 0.9 ? author.slug : undefined,
        status: 'published',
        commentsOpen: true,
        pingsOpen: true,
      });
      if ((i + 1) % step === 0 || i + 1 === toSeed) progress(`articles ${i + 1}/${toSeed} (${Math.round(((i + 1) / toSeed) * 100)} %) ${since(t0)}`);
    }
  } else {
    // rendering Markdown costs ~3 ms an article: render a pool of bodies and share them
    const pool = Array.from({ length: 1500 }, () => {
      const markdown = markdownBody(r);
      const html = markdownToHtml(markdown);
      const text = htmlToText(html);
      return { markdown, html, text, excerpt: excerptOf(text), readingTimeMinutes: readingTimeMinutes(text) };
    });
    progress(`rendered ${pool.length} bodies ${since(t0)}`);
    const tagIdsBySlug = new Map<string, number>();
    const now = Date.now() - 3_600_000;
    const BATCH = 500;
    for (let done = 0; done < toSeed; ) {
      const n = Math.min(BATCH, toSeed - done);
      const rows: (typeof articles.$inferInsert)[] = [];
      const tagLists: string[][] = [];
      for (let i = 0; i < n; i++) {
        const k = before + done + i + 1;
        const t = title(r, k);
        const body = pick(r, pool);
        const author = pick(r, AUTHORS);
        rows.push({
          slug: `${toSlug(t)}`.slice(0, 120),
          title: t,
          ...body,
          status: 'published' as const,
          // a calendar: one article every 7 hours back from now, the newest has the highest id
          publishedAt: new Date(now - (toSeed - done - i) * 7 * 3_600_000),
          firstPublishedAt: new Date(now - (toSeed - done - i) * 7 * 3_600_000),
          authorId: r() < 0.9 ? authorIds.get(author.slug)! : null,
        });
        tagLists.push(tagsFor(r));
      }
      await db.transaction(async (tx) => {
        const ids = await tx.insert(articles).values(rows).returning({ id: articles.id });
        const links: { articleId: number; tagId: number; position: number }[] = [];
        for (let i = 0; i < ids.length; i++) {
          const missing = tagLists[i].filter((name) => !tagIdsBySlug.has(toSlug(name)));
          if (missing.length) {
            const got = await ensureTags(tx as unknown as Db, missing);
            missing.forEach((name, j) => tagIdsBySlug.set(toSlug(name), got[j]));
          }
          tagLists[i].forEach((name, position) => links.push({ articleId: ids[i].id, tagId: tagIdsBySlug.get(toSlug(name))!, position }));
        }
        await tx.insert(articleTags).values(links).onConflictDoNothing();
      });
      done += n;
      if (done % (step - (step % BATCH) || BATCH) === 0 || done === toSeed) progress(`articles ${done}/${toSeed} (${Math.round((done / toSeed) * 100)} %) ${since(t0)}`);
    }
  }

  // the same calendar for articles written through the service (at most a few thousand rows)
  if (mode === 'services') await db.execute(sql`update articles set
      published_at = now() - ((select max(id) from articles) - id) * interval '7 hours' - interval '1 hour',
      first_published_at = now() - ((select max(id) from articles) - id) * interval '7 hours' - interval '1 hour'
    where id > ${startId} and status = 'published'`);

  // the conversation: 0–5 responses an article, the middle one gets a long thread
  const seeded = await queryRows<{ id: number; slug: string }>(db, sql`select id, slug from articles where id > ${startId} order by id`);
  const middle = seeded[Math.floor(seeded.length / 2)];
  let batch: (typeof responses.$inferInsert)[] = [];
  let total = 0;
  const flush = async () => {
    if (!batch.length) return;
    await db.insert(responses).values(batch).onConflictDoNothing();
    total += batch.length;
    batch = [];
  };
  for (const a of seeded) {
    const n = a.id === middle.id ? CONVERSATION : Math.floor(r() * r() * 6);
    for (let j = 0; j < n; j++) {
      const who = `${pick(r, FIRST_NAMES)} ${pick(r, LAST_NAMES)}`;
      const kind = r();
      const createdAt = new Date(Date.now() - (seeded.length - a.id) * 3_600_000 + j * 60_000);
      const status = r() < 0.9 ? ('approved' as const) : ('pending' as const);
      if (kind < 0.75) {
        batch.push({
          articleId: a.id, type: 'comment', status, authorName: who, authorEmail: `${toSlug(who)}@example.org`,
          authorUrl: r() < 0.3 ? `https://${toSlug(who)}.example.net/` : null, html: `<p>${commentText(r)}</p>`,
          ip: `192.0.2.${1 + Math.floor(r() * 250)}`, userAgent: 'Mozilla/5.0 (bench)', createdAt, updatedAt: createdAt,
        });
      } else {
        const type = kind < 0.92 ? ('pingback' as const) : ('webmention' as const);
        const source = `https://blog${Math.floor(r() * 500)}.example.com/${a.id}/${j}/`;
        batch.push({
          articleId: a.id, type, status, authorName: `${who}'s blog`, authorUrl: source, sourceUrl: source,
          targetUrl: `${config.siteUrl}/${a.slug}/`, html: `<p>[…] ${commentText(r)} […]</p>`, createdAt, updatedAt: createdAt,
        });
      }
      if (batch.length >= 1000) await flush();
    }
  }
  await flush();
  // threads: every third comment on the long conversation answers the one before it
  await db.execute(sql`update responses r set parent_id = p.id, depth = 1
      from responses p where r.article_id = ${middle.id} and p.article_id = r.article_id and r.type = 'comment' and p.type = 'comment'
      and p.id = r.id - 1 and r.id % 3 = 0 and p.parent_id is null`);
  progress(`responses ${total} ${since(t0)}`);
  // what autovacuum would have done by now: statistics for the planner, a visibility map for index-only scans
  await db.execute(sql`vacuum analyze`);
}

// ---- what the bench will request ---------------------------------------------
const total = await count();
const [mid] = await queryRows<{ slug: string }>(
  db,
  sql`select a.slug from articles a where a.status = 'published' order by (select count(*) from responses r where r.article_id = a.id and r.status = 'approved') desc, a.id limit 1`,
);
const [tag] = await queryRows<{ slug: string; n: number }>(
  db,
  sql`select t.slug, count(*)::int as n from tags t join article_tags at on at.tag_id = t.id group by t.slug order by n desc offset 4 limit 1`,
);
const [hits] = await queryRows<{ n: number }>(
  db,
  sql`select count(*)::int as n from articles where status = 'published' and search @@ websearch_to_tsquery('english', inkwell_unaccent(${SEARCH}))`,
);
const manifest: Record<string, unknown> = {
  database: database.kind,
  articles: total,
  seeded: toSeed,
  mode,
  seedSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  slug: mid.slug,
  tag: tag?.slug,
  tagArticles: tag?.n,
  search: SEARCH,
  searchHits: hits.n,
  // the upload row posts to the admin API
  adminToken: (await createToken(db, `bench-${Date.now()}`)).token,
};
progress(`${total} published articles; search "${SEARCH}" matches ${hits.n}; tag ${tag?.slug} has ${tag?.n}`);

// ---- EXPLAIN the public queries at this scale ------------------------------------
if (args.explain) {
  const te = performance.now();
  manifest.explain = await explainAll(total);
  progress(`explained the public queries ${since(te)}`);
}

if (args.manifest) writeFileSync(args.manifest, JSON.stringify(manifest, null, 2));
const tc = performance.now();
await database.close();
progress(`closed the database ${since(tc)}`);
process.exit(0);

interface Plan {
  name: string;
  /** the whole EXPLAIN (ANALYZE, FORMAT JSON) tree (null: the statement is itself an EXPLAIN, the planner's estimate) */
  plan: PlanNode | null;
  ms: number;
  planningMs: number;
  nodes: string[];
  seqScans: string[];
}

/** Runs each public read through the real service with a logging Drizzle, then EXPLAIN ANALYZEs every statement it sent. */
async function explainAll(total: number): Promise<Plan[]> {
  const client = (db as unknown as { $client: unknown }).$client;
  let captured: { query: string; params: unknown[] }[] = [];
  const logger = { logQuery: (query: string, params: unknown[]) => captured.push({ query, params }) };
  const logging = (
    database.kind === 'postgres'
      ? drizzlePostgres({ client: client as never, schema, logger })
      : drizzlePglite({ client: client as never, schema, logger })
  ) as unknown as Db;
  // each case on a service of its own: its article read cache starts empty, as after a change (the miss rows' cold path)
  const fresh = () => new ArticlesService({ db: logging, config, publishing: new PublishingEvents(), events: new ContentEvents(), announcements: announcementsFor });
  let svc = fresh();
  const responses = () => new ResponsesService({ db: logging, config, articles: svc, limits: services.limits, events: new ContentEvents() });
  const limit = 20;
  const deep = Math.max(1, Math.floor(total / limit / 2));
  const cursor = (await svc.listPublic({ page: deep - 1 > 0 ? deep - 1 : 1, limit })).meta.pagination.nextCursor ?? undefined;
  const cases: [string, () => Promise<unknown>][] = [
    ['article by slug', () => svc.getPublic(String(manifest.slug))],
    ['list page 1', () => svc.listPublic({ limit })],
    [`list page ${deep} (offset)`, () => svc.listPublic({ page: deep, limit })],
    ['list after cursor (same page)', () => svc.listPublic({ after: cursor, limit })],
    [`tag ${manifest.tag}`, () => svc.listPublic({ tag: String(manifest.tag), limit })],
    ['search (relevance)', () => svc.listPublic({ q: SEARCH, limit })],
    // the cache-miss rows (run.ts): a page in the middle, default fields and fields=; a new two-word search; the feed's list
    // (default fields: ids and versions, the articles not kept yet, their announcements; the total with the first page)
    [`list-miss-20: page ${deep + 1}`, () => svc.listPublicJson({ page: deep + 1, limit })],
    [`list-miss-fields: page ${deep + 1}, fields=${MISS_FIELDS}`, () => svc.listPublic({ page: deep + 1, limit, fields: MISS_FIELDS })],
    // a broad search (the planner expects more than SEARCH_EXACT_UP_TO matches at 100k: its newest matches ranked) and a narrow one (every match ranked and counted)
    ['search-miss: "latency database"', () => svc.listPublicJson({ q: 'latency database', limit })],
    ['search-miss: "recipe river"', () => svc.listPublicJson({ q: 'recipe river', limit })],
    ['article-miss: by slug', () => svc.getPublic(String(manifest.slug))],
    ['responses-miss: the conversation', () => responses().listPublic(String(manifest.slug), {})],
    ['feed-miss: the latest 20', () => svc.listPublic({ limit: 20 })],
  ];
  const plans: Plan[] = [];
  for (const [name, run] of cases) {
    captured = [];
    svc = fresh();
    await run();
    for (const [i, c] of captured.entries()) {
      if (/^explain /.test(c.query)) {
        // the planner's estimate of a search's matches: no row read, so no plan to analyse; what it takes to ask
        const started = performance.now();
        await (database.kind === 'postgres'
          ? (client as { unsafe(q: string, p: unknown[]): Promise<unknown> }).unsafe(c.query, c.params as never)
          : (client as { query(q: string, p: unknown[]): Promise<unknown> }).query(c.query, c.params));
        plans.push({ name: `${name} — estimate`, plan: null, ms: performance.now() - started, planningMs: 0, nodes: ['(planner estimate: no row read)'], seqScans: [] });
        continue;
      }
      const text = `explain (analyze, format json) ${c.query}`;
      const res =
        database.kind === 'postgres'
          ? await (client as { unsafe(q: string, p: unknown[]): Promise<{ 'QUERY PLAN': unknown }[]> }).unsafe(text, c.params as never)
          : (await (client as { query(q: string, p: unknown[]): Promise<{ rows: { 'QUERY PLAN': unknown }[] }> }).query(text, c.params)).rows;
      const raw = res[0]['QUERY PLAN'];
      const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }[];
      const nodes: string[] = [];
      const seqScans: string[] = [];
      walk(doc[0].Plan, nodes, seqScans);
      const label = captured.length > 1 ? `${name} — ${roleOf(c.query) ?? `query ${i + 1}`}` : name;
      plans.push({ name: label, plan: doc[0].Plan, ms: doc[0]['Execution Time'], planningMs: doc[0]['Planning Time'], nodes: [...new Set(nodes)], seqScans: [...new Set(seqScans)] });
    }
  }
  return plans;
}

/** What a captured statement does, for the EXPLAIN's labels. */
function roleOf(query: string): string | undefined {
  if (/^with a as materialized \(select a\.id, a\.version, a\.published_at, a\.search\b/.test(query)) return 'window: the newest matches, ranked';
  if (/count\(\*\) over \(\)/.test(query)) return 'page and total';
  if (/count\(\*\)::int as n/.test(query)) return 'count';
  if (/^select a\.id, a\.version, a\.published_at/.test(query)) {
    if (/\bwhere a\.slug = /.test(query)) return 'id and version by slug';
    return /\blimit\b/.test(query) ? 'page' : 'page order (every match, listed once per change)';
  }
  if (/from "?announcements"?/.test(query)) return 'announcements';
  if (/= any\(/.test(query)) return 'articles';
  return undefined;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

function walk(p: PlanNode, nodes: string[], seqScans: string[]) {
  const what = p['Index Name'] ? `${p['Node Type']} ${p['Index Name']}` : p['Relation Name'] ? `${p['Node Type']} ${p['Relation Name']}` : '';
  if (what) nodes.push(what);
  if (p['Node Type'] === 'Seq Scan' && p['Relation Name']) seqScans.push(p['Relation Name']);
  for (const c of p.Plans ?? []) walk(c, nodes, seqScans);
}
