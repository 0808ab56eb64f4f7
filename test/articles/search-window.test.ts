// Broad searches (SEARCH_EXACT_UP_TO, SEARCH_RANK_WINDOW): the newest matches ranked, the
// older ones after them newest first, an estimated total flagged as one; narrow searches
// ranked whole and counted. Small numbers here stand for the defaults (2,000 and 200).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

let t: TestApp;
const WINDOW = 4;
const get = (url: string) => t.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
type Page = { data: { id: number; title: string; publishedAt: string }[]; meta: { pagination: { total: number; pages: number; next: number | null; estimated?: true } } };

/** river articles, oldest first: one with the word in its title (the strongest match) is the oldest */
const RIVER = [
  { title: 'The river', markdown: 'The river, the river and the river again.' },
  ...Array.from({ length: 9 }, (_, i) => ({ title: `Walk ${i + 1}`, markdown: `A walk by the river, day ${i + 1}.` })),
];
const ids: number[] = [];

beforeAll(async () => {
  t = await createTestApp({ searchExactUpTo: 3, searchRankWindow: WINDOW });
  for (const [i, spec] of RIVER.entries()) {
    const a = await createArticle(t, spec);
    ids.push(a.id);
    await t.database.db.execute(sql`update articles set published_at = ${new Date(Date.UTC(2026, 0, i + 1)).toISOString()}::timestamptz where id = ${a.id}`);
  }
  await createArticle(t, { title: 'Heron', markdown: 'A heron stood in the reeds.' });
  for (let i = 0; i < 4; i++) await createArticle(t, { title: `Mountain ${i}`, markdown: 'Rocks and snow.' });
  // the planner's statistics, as autovacuum keeps them on a running site
  await t.database.db.execute(sql`analyze articles`);
});
afterAll(() => t.close());

/** every page of a search, following `next`, then one page past it (which must be empty) */
async function walk(query: string): Promise<{ pages: Page[]; items: Page['data'] }> {
  const pages: Page[] = [];
  for (let page = 1; ; page++) {
    const res = await get(`/v1/articles?${query}&limit=3&page=${page}`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as Page;
    expect(Number(res.headers['x-total-count'])).toBe(body.meta.pagination.total);
    pages.push(body);
    if (!body.data.length) break;
  }
  // one total for the whole walk, estimated or not
  expect(new Set(pages.map((p) => p.meta.pagination.total)).size).toBe(1);
  return { pages, items: pages.flatMap((p) => p.data) };
}

describe('a broad search (more matches expected than SEARCH_EXACT_UP_TO)', () => {
  it('ranks its newest matches, lists the older ones after them newest first, and lists every match once', async () => {
    const { pages, items } = await walk('q=river');
    expect(pages[0].meta.pagination.estimated).toBe(true);
    expect(items.map((a) => a.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    // the window: the newest four matches, ranked (all equal here: newest first)
    const newest = [...ids].reverse();
    expect(items.slice(0, WINDOW).map((a) => a.id).sort()).toEqual(newest.slice(0, WINDOW).sort());
    // then the rest newest first, the strongest match (the oldest) last: the trade a broad search makes
    expect(items.slice(WINDOW).map((a) => a.id)).toEqual(newest.slice(WINDOW));
    expect(items.at(-1)?.title).toBe('The river');
  });

  it('ranks within the window: a title match among the newest comes first', async () => {
    const edited = await t.app.inject({ method: 'PATCH', url: `/v1/admin/articles/${ids[7]}`, headers: t.auth, payload: { title: 'River walk 8' } });
    expect(edited.statusCode).toBe(200);
    const first = (await get('/v1/articles?q=river&limit=3')).json() as Page;
    expect(first.data[0].id).toBe(ids[7]);
  });

  it('in date order too: newest first, the total estimated, never counted', async () => {
    const { pages, items } = await walk('q=river&order=-publishedAt');
    expect(pages[0].meta.pagination.estimated).toBe(true);
    expect(items.map((a) => a.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const dates = items.map((a) => a.publishedAt);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  it('answers sparse reads (`fields=`) in the same order as whole articles', async () => {
    const whole = ((await get('/v1/articles?q=river&limit=6')).json() as Page).data.map((a) => a.id);
    const sparse = (await get('/v1/articles?q=river&limit=6&fields=id,title')).json() as Page;
    expect(sparse.data.map((a) => a.id)).toEqual(whole);
    expect(sparse.meta.pagination.estimated).toBe(true);
  });
});

describe('a broad search whose window holds every match (the planner guessed high)', () => {
  it('is ranked whole and its total is the count, with no estimate flag', async () => {
    const wide = await createTestApp({ searchExactUpTo: 3, searchRankWindow: 50 }, { database: t.database });
    try {
      const res = await wide.app.inject({ method: 'GET', url: '/v1/articles?q=river&limit=20', headers: { 'accept-encoding': 'identity' } });
      const body = res.json() as Page;
      expect(body.meta.pagination.total).toBe(RIVER.length);
      expect(body.meta.pagination).not.toHaveProperty('estimated');
      expect(res.headers['x-total-count']).toBe(String(RIVER.length));
      // every match ranked: the article with the word in its title and three times in its body leads, old as it is
      expect(body.data.map((a) => a.title)).toContain('The river');
      expect(body.data.findIndex((a) => a.title === 'The river')).toBeLessThan(2);
    } finally {
      await wide.close();
    }
  });
});

describe('a narrow search', () => {
  it('is ranked whole and counted exactly, with no estimate flag', async () => {
    const res = await get('/v1/articles?q=heron');
    const body = res.json() as Page;
    expect(body.data.map((a) => a.title)).toEqual(['Heron']);
    expect(body.meta.pagination.total).toBe(1);
    expect(body.meta.pagination).not.toHaveProperty('estimated');
    expect(res.headers['x-total-count']).toBe('1');
  });

  it('a list without search words is counted exactly', async () => {
    const body = (await get('/v1/articles?limit=2')).json() as Page;
    expect(body.meta.pagination.total).toBe(RIVER.length + 5);
    expect(body.meta.pagination).not.toHaveProperty('estimated');
  });
});
