// The first five minutes: a fresh embedded database gets a token and a welcome article
// whose page shows every part of the frontend, without anything queued for the network.
import { load } from 'cheerio';
import { count } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose, type Services } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { jobs } from '../../src/jobs/jobs.table.ts';
import { outgoingPings } from '../../src/linkbacks/outgoing/outgoing.table.ts';
import { announcements } from '../../src/social/announcements/announcements.table.ts';
import { firstStart } from '../../src/site/first-start.ts';
import { createTestDatabase } from '../helpers/db.ts';
import type { FastifyInstance } from 'fastify';

const SITE = 'http://127.0.0.1:3000';
let database: Database;
let services: Services;
let app: FastifyInstance;

beforeAll(async () => {
  // first start is an embedded-database affair: always PGlite here, whatever the suite runs on
  database = await createTestDatabase({ kind: 'pglite' });
  services = compose(testConfig({ apiUrl: SITE, siteUrl: SITE }), database, pino({ level: 'silent' }));
  app = await buildApp(services);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const HTML = { accept: 'text/html' };

describe('first start on a fresh embedded database', () => {
  let token: string | undefined;

  it('creates a one-time admin token that the admin API accepts', async () => {
    token = (await firstStart(services)).adminToken;
    expect(token).toMatch(/^iw_/);
    const who = await app.inject({ method: 'GET', url: '/v1/admin/whoami', headers: { authorization: `Bearer ${token}` } });
    expect(who.statusCode).toBe(200);
  });

  it('publishes a welcome article: listed on the API and on the home page', async () => {
    const list = (await app.inject({ method: 'GET', url: '/v1/articles' })).json();
    expect(list.data.map((a: { slug: string }) => a.slug)).toEqual(['welcome-to-inkwell']);
    const [welcome] = list.data;
    expect(welcome.url).toBe(`${SITE}/welcome-to-inkwell/`);
    expect(welcome.counts).toEqual({ comments: 2, pingbacks: 1, webmentions: 0, likes: 0, reposts: 0, replies: 0 });
    const $ = load((await app.inject({ method: 'GET', url: '/', headers: HTML })).body);
    expect($('.summary h2 a').attr('href')).toBe(welcome.url);
    expect($('.summary .meta').text()).toContain('3 responses');
  });

  it('its page shows every part: content with real outbound links, tags, author, a threaded comment, a pingback, the form', async () => {
    const res = await app.inject({ method: 'GET', url: '/welcome-to-inkwell/', headers: HTML });
    expect(res.statusCode).toBe(200);
    const $ = load(res.body);
    expect($('h1').text()).toBe('Welcome to Inkwell');
    expect($('.post .meta').text()).toContain('by The Inkwell team');
    expect($('.post .content a[href="https://www.w3.org/TR/webmention/"]')).toHaveLength(1);
    expect($('.post .content a[href="http://127.0.0.1:3000/docs"]')).toHaveLength(1);
    expect($('.post .content').text()).toContain('token create');
    expect($('.post .tags a').map((_i, a) => $(a).text()).get()).toEqual(['Inkwell', 'Open web']);
    expect($('#responses-title').text()).toBe('3 Responses to “Welcome to Inkwell”');
    const [comment, reply] = $('.response.comment').toArray();
    expect($(comment).find('> ol.children > li').attr('id')).toBe($(reply).attr('id'));
    const pingback = $('.response.pingback');
    expect(pingback.find('.response-type').text()).toBe('Pingback:');
    expect(pingback.find('.response-author a').attr('href')).toBe('https://example.org/2026/a-neighbouring-blog-post/');
    expect(pingback.find('.response-body').text()).toMatch(/^\[…\] .+ \[…\]$/);
    expect($('form.reply-form')).toHaveLength(1);
    // nothing on the page is fetched from elsewhere (no avatars for the samples)
    expect($('img')).toHaveLength(0);
  });

  it('queued nothing: no announcement, no outgoing ping, no job of any kind', async () => {
    for (const table of [jobs, outgoingPings, announcements]) {
      const [{ n }] = await database.db.select({ n: count() }).from(table);
      expect(n).toBe(0);
    }
    const article = (await app.inject({ method: 'GET', url: '/v1/articles/welcome-to-inkwell' })).json();
    expect(article.announcement).toBeNull();
  });

  it('a second start seeds nothing and prints no token', async () => {
    expect(await firstStart(services)).toEqual({});
    const list = (await app.inject({ method: 'GET', url: '/v1/articles' })).json();
    expect(list.meta.pagination.total).toBe(1);
  });
});
