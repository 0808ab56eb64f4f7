// fields= (sparse reads) and id= (lookup by id) on the public article reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { ArticlesService } from '../../src/articles/articles.service.ts';
import { ARTICLE_FIELDS } from '../../src/articles/articles.query.ts';
import { PublishingEvents } from '../../src/articles/publishing.ts';
import { ContentEvents } from '../../src/events/content-events.ts';
import type { Db } from '../../src/db/client.ts';
import { testDatabaseKind } from '../helpers/db.ts';

let t: TestApp;
const statements: string[] = [];
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const get = (url: string) => t.app.inject({ method: 'GET', url });

describe('fields=', () => {
  it('returns exactly the fields asked for, on lists and single reads', async () => {
    const a = await createArticle(t, { title: 'Sparse one', markdown: 'A *body*.', tags: ['Sparse'] });
    const list = await get('/v1/articles?fields=title,slug,excerpt,url,publishedAt');
    expect(list.statusCode, list.body).toBe(200);
    const first = list.json().data.find((x: { slug: string }) => x.slug === a.slug);
    expect(Object.keys(first).sort()).toEqual(['excerpt', 'publishedAt', 'slug', 'title', 'url']);
    expect(first).toMatchObject({ title: 'Sparse one', url: a.url });
    expect(list.json().meta.pagination.total).toBeGreaterThan(0);

    const one = await get(`/v1/articles/${a.slug}?fields=id,tags,counts,author`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual({ id: a.id, tags: [{ slug: 'sparse', name: 'Sparse' }], counts: { comments: 0, pingbacks: 0, webmentions: 0, likes: 0, reposts: 0, replies: 0 }, author: null });
    // the whole shape without fields
    expect(Object.keys((await get(`/v1/articles/${a.slug}`)).json()).sort()).toEqual([...ARTICLE_FIELDS].sort());
  });

  it('does not read the body when html is not asked for', async () => {
    // the real service over a Drizzle that logs each statement it sends
    const client = (t.database.db as unknown as { $client: unknown }).$client;
    const logger = { logQuery: (q: string) => statements.push(q) };
    const logging = (testDatabaseKind === 'postgres' ? drizzlePostgres({ client: client as never, logger }) : drizzlePglite({ client: client as never, logger })) as unknown as Db;
    const svc = new ArticlesService({ db: logging, config: t.config, publishing: new PublishingEvents(), events: new ContentEvents() });
    await svc.listPublic({ fields: 'title,slug', limit: 5 });
    const sparse = statements.splice(0).join('\n');
    expect(sparse).toMatch(/a\.title/);
    expect(sparse).not.toMatch(/a\.html/);
    await svc.listPublic({ fields: 'title,html', limit: 5 });
    expect(statements.splice(0).join('\n')).toMatch(/a\.html/);
    await svc.listPublic({ limit: 5 });
    expect(statements.splice(0).join('\n')).toMatch(/a\.html/);
  });

  it('an unknown field is a 400 that lists the valid ones', async () => {
    for (const url of ['/v1/articles?fields=title,bogus', '/v1/articles/anything?fields=nope', '/v1/articles?fields=,']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      const err = res.json().errors[0];
      expect(err.pointer).toBe('/query/fields');
      for (const f of ARTICLE_FIELDS) expect(err.message).toContain(f);
    }
  });
});

describe('id=', () => {
  it('returns the published ones among the ids, newest first, ignoring unknown ids', async () => {
    const x = await createArticle(t, { title: 'By id X' });
    const y = await createArticle(t, { title: 'By id Y' });
    const draft = await createArticle(t, { title: 'By id draft', status: 'draft' });
    const res = await get(`/v1/articles?id=${x.id},${draft.id},999999,${y.id}&fields=id,title`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { id: y.id, title: 'By id Y' },
      { id: x.id, title: 'By id X' },
    ]);
    for (const bad of ['a', '1,,2', '-3', '1;2']) {
      const r = await get(`/v1/articles?id=${encodeURIComponent(bad)}`);
      expect(r.statusCode, bad).toBe(400);
      expect(JSON.stringify(r.json())).toContain('id');
    }
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${draft.id}`);
  });
});
