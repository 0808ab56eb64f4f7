// The seed blog's own WordPress export (test/fixtures/wordpress/careerspace.xml, made by
// WordPress 6.1's exporter) brought over end to end: posts, the conversation, old
// addresses on the reference frontend and /v1/redirects, quietly and idempotently.
import { load } from 'cheerio';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { FIXTURE, fixtureText, importInto, snapshot } from './support.ts';

const SITE = 'http://blog.test';
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const apps: TestApp[] = [];
async function freshApp() {
  const t = await createTestApp({ apiUrl: SITE, siteUrl: SITE });
  apps.push(t);
  return t;
}
afterAll(async () => {
  for (const t of apps) await t.close();
});

const TOPSY_TITLE = 'Tweets that mention Why Send a Thank You Note After a Job Interview? « MyOnlineCareerSpace.com -- Topsy.com';
const TOPSY_URL = 'http://topsy.com/trackback?url=http%3A%2F%2Fmyonlinecareerspace.com%2F2010%2F08%2Fwhy-send-a-thank-you-note%2F';
const TOPSY_TEXT =
  '[...] This post was mentioned on Twitter by CareerSpace, RecruitersWorld. RecruitersWorld said: Why Send a Thank You Note After a Job Interview? http://ow.ly/2ohgK [...]';

describe('importing careerspace.xml', () => {
  let t: TestApp;
  let first: Awaited<ReturnType<typeof importInto>>;
  beforeAll(async () => {
    t = await freshApp();
    first = await importInto(t, FIXTURE);
  });

  it('reports what it did per kind, with pages and attachments skipped', () => {
    const k = first.report.kinds;
    expect(k.posts).toMatchObject({ imported: 5, updated: 0, unchanged: 0, skipped: 3, reasons: { 'attachment type (not a post)': 2, 'page type (not a post)': 1 } });
    expect(k.comments).toMatchObject({ imported: 6, skipped: 0 });
    expect(k.pingbacks).toMatchObject({ imported: 2, skipped: 0 });
    expect(k.authors.imported).toBe(2);
    expect(first.report.source).toMatchObject({ site: 'myonlinecareerspace.com', wxrVersion: '1.2' });
    expect(first.report.format()).toMatch(/posts\s+5\s+0\s+0\s+3/);
    expect(first.changes).toBe(1);
  });

  it('posts keep their status, GMT dates, authors by login with display names, terms as tags, excerpts', async () => {
    const all = (await adminRequest(t, 'GET', '/v1/admin/articles?limit=100')).json().data as Record<string, any>[];
    const bySlug = Object.fromEntries(all.map((a) => [a.slug, a]));
    expect(Object.keys(bySlug).sort()).toEqual([
      'following-up-after-a-job-fair',
      'negotiating-your-first-salary',
      'twenty-years-of-thank-you-notes',
      'what-to-wear-to-a-job-interview',
      'why-send-a-thank-you-note',
    ]);
    const seed = bySlug['why-send-a-thank-you-note'];
    expect(seed).toMatchObject({ status: 'published', publishedAt: '2010-08-23T13:42:17.000Z', title: 'Why Send a Thank You Note After a Job Interview?', announce: false });
    expect(seed.author).toEqual({ slug: 'careerspace', name: 'CareerSpace' });
    expect(seed.tags.map((x: { name: string }) => x.name)).toEqual(['Interviews', 'job interview', 'thank you note']);
    // classic editor: WordPress's paragraphs, the list kept, no stray <br> inside it
    expect(seed.html).toMatch(/^<p>Whether you’re a college student/);
    expect(seed.html).toContain('<ul>\n<li>If the person they hired');
    expect(seed.html).toContain('<p><strong>Join Us On Twitter:</strong><br />\n<a href="http://twitter.com/CareerSpace">');
    expect(seed.excerpt).toMatch(/^Whether you’re a college student/);

    const wear = bySlug['what-to-wear-to-a-job-interview'];
    expect(wear.author).toEqual({ slug: 'dana', name: 'Dana Whitfield' });
    expect(wear.html).toContain('<figure><a href="http://myonlinecareerspace.com/wp-content/uploads/2010/09/interview-outfit.jpg"><img');
    expect(wear.html).toContain('<figcaption>Lay out your outfit the night before.</figcaption></figure>');
    expect(wear.html).not.toContain('[caption');

    const fair = bySlug['following-up-after-a-job-fair'];
    expect(fair.html).not.toMatch(/wp:|<!--/);
    expect(fair.html).toContain('<h2>Within 24 hours</h2>');
    expect(fair.html).not.toMatch(/<p>\s*<p>/);

    // a draft has no GMT date: its local date with the site's offset (-4 h in 2010, as the export shows elsewhere)
    const draft = bySlug['negotiating-your-first-salary'];
    expect(draft).toMatchObject({ status: 'draft', publishedAt: null, createdAt: '2010-10-05T00:11:00.000Z', announce: true });
    expect(bySlug['twenty-years-of-thank-you-notes']).toMatchObject({ status: 'scheduled', publishAt: '2030-08-23T13:00:00.000Z' });

    // "Résumés &amp; Cover Letters" is used by no post: no tag; term names are unescaped
    const tags = (await t.app.inject({ method: 'GET', url: '/v1/tags' })).json();
    expect(JSON.stringify(tags)).not.toContain('&amp;');
  });

  it('comments keep status, threading, dates, name, email and URL; pingbacks and trackbacks are pingbacks', async () => {
    const rows = await queryRows<Record<string, any>>(
      t.database.db,
      sql`select r.id, r.type, r.status, r.parent_id, r.depth, r.author_name, r.author_email, r.author_url, r.source_url, r.created_at, a.slug
          from responses r join articles a on a.id = r.article_id order by r.created_at`,
    );
    const statuses = rows.reduce<Record<string, number>>((acc, r) => ((acc[`${r.type}:${r.status}`] = (acc[`${r.type}:${r.status}`] ?? 0) + 1), acc), {});
    expect(statuses).toEqual({ 'comment:approved': 4, 'comment:pending': 1, 'comment:trash': 1, 'pingback:approved': 2 });
    const maria = rows.find((r) => r.author_name === 'Maria Lopez')!;
    const dana = rows.find((r) => r.author_name === 'Dana Whitfield')!;
    expect(dana).toMatchObject({ parent_id: maria.id, depth: 1, author_email: 'dana@myonlinecareerspace.com' });
    expect(new Date(maria.created_at).toISOString()).toBe('2010-09-13T16:10:44.000Z');
    expect(rows.find((r) => r.author_name === "Kevin O'Brien")!.author_url).toBe('http://kevinobrien.example.net/');
    const trackback = rows.find((r) => r.author_name === 'Career Closet Blog')!;
    expect(trackback).toMatchObject({ type: 'pingback', source_url: 'http://careercloset.example.com/2010/09/dressing-for-success-on-a-budget/', author_email: null });

    const listed = (await t.app.inject({ method: 'GET', url: '/v1/articles/what-to-wear-to-a-job-interview/responses' })).json().data;
    expect(listed.map((r: { authorName: string }) => r.authorName)).toEqual(['Maria Lopez', 'Dana Whitfield', "Kevin O'Brien", 'Career Closet Blog']);
    expect(JSON.stringify(listed)).not.toContain('@');
  });

  it("the seed's post shows its Topsy pingback on the reference page as the seed did", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/why-send-a-thank-you-note/', headers: HTML });
    expect(res.statusCode).toBe(200);
    const $ = load(res.body);
    expect($('#responses-title').text()).toBe('One Response to “Why Send a Thank You Note After a Job Interview?”');
    const pingback = $('.response.pingback');
    expect(pingback).toHaveLength(1);
    expect(pingback.find('.response-type').text()).toBe('Pingback:');
    expect(pingback.find('.response-author a').text()).toBe(TOPSY_TITLE);
    expect(pingback.find('.response-author a').attr('href')).toBe(TOPSY_URL);
    expect(pingback.find('time').attr('datetime')).toBe('2010-08-23T18:06:51.000Z');
    expect(pingback.find('.response-body').text()).toBe(TOPSY_TEXT);
    expect($('.post .p-author').text()).toBe('CareerSpace');
  });

  it('old addresses answer 301 to the new permalink: the old permalink, /?p=<id>, the old slug', async () => {
    const cases: [string, string][] = [
      ['/2010/08/why-send-a-thank-you-note/', `${SITE}/why-send-a-thank-you-note/`],
      ['/2010/08/why-send-a-thank-you-note', `${SITE}/why-send-a-thank-you-note/`],
      ['/?p=5', `${SITE}/why-send-a-thank-you-note/`],
      ['/?p=7&utm_source=old-newsletter', `${SITE}/what-to-wear-to-a-job-interview/`],
      ['/2010/09/what-to-wear-to-a-job-interview/', `${SITE}/what-to-wear-to-a-job-interview/`],
      ['/2010/09/what-to-wear-to-an-interview/', `${SITE}/what-to-wear-to-a-job-interview/`],
      ['/what-to-wear-to-an-interview/', `${SITE}/what-to-wear-to-a-job-interview/`],
    ];
    for (const [from, to] of cases) {
      const res = await t.app.inject({ method: 'GET', url: from, headers: HTML });
      expect(res.statusCode, from).toBe(301);
      expect(res.headers.location, from).toBe(to);
    }
    // a draft's address leads nowhere yet: the home page and a 404 page
    expect((await t.app.inject({ method: 'GET', url: '/?p=10', headers: HTML })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/2010/08/no-such-post/', headers: HTML })).statusCode).toBe(404);
  });

  it('GET /v1/redirects tells a custom frontend, cached like every read; unknown is a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/redirects?path=${encodeURIComponent('/2010/08/why-send-a-thank-you-note/')}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ location: `${SITE}/why-send-a-thank-you-note/`, status: 301, article: { slug: 'why-send-a-thank-you-note' } });
    expect(res.headers['cache-control']).toMatch(/public/);
    expect(res.headers.etag).toBeTruthy();
    const byId = await t.app.inject({ method: 'GET', url: `/v1/redirects?path=${encodeURIComponent('/?p=5')}` });
    expect(byId.json().location).toBe(`${SITE}/why-send-a-thank-you-note/`);
    const unknown = await t.app.inject({ method: 'GET', url: '/v1/redirects?path=/2010/08/nothing/' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await t.app.inject({ method: 'GET', url: '/v1/redirects?path=nope' })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/v1/redirects' })).statusCode).toBe(400);
    for (const odd of ['/%00/', '/a%2500', '//evil.example/2010/08/why-send-a-thank-you-note/', `/${'x'.repeat(2047)}`]) {
      expect((await t.app.inject({ method: 'GET', url: `/v1/redirects?path=${encodeURIComponent(odd)}` })).statusCode, odd).toBe(404);
    }
  });

  it('is quiet: nothing announced, no outgoing ping; only the scheduled post waits for its time', async () => {
    const count = async (table: string) => Number((await queryRows<{ n: number }>(t.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0].n);
    expect(await count('announcements')).toBe(0);
    expect(await count('outgoing_pings')).toBe(0);
    const jobs = await queryRows<{ kind: string; run_at: string }>(t.database.db, sql`select kind, run_at from jobs`);
    expect(jobs.map((j) => [j.kind, new Date(j.run_at).toISOString()])).toEqual([['article.publish', '2030-08-23T13:00:00.000Z']]);
  });

  it('a second import changes nothing and signals nothing', async () => {
    const before = await snapshot(t);
    const again = await importInto(t, FIXTURE);
    expect(again.report.kinds.posts).toMatchObject({ imported: 0, updated: 0, unchanged: 5 });
    expect(again.report.kinds.comments).toMatchObject({ imported: 0, updated: 0, unchanged: 6 });
    expect(again.report.kinds.pingbacks).toMatchObject({ imported: 0, updated: 0, unchanged: 2 });
    expect(again.report.format()).toContain('Nothing changed');
    expect(again.changes).toBe(0);
    expect(await snapshot(t)).toEqual(before);
  });

  it('a newer export adds what is new and updates what changed there, but not what an editor changed here', async () => {
    // here: the editor retitles the seed's post and approves the held comment
    const seed = (await adminRequest(t, 'GET', '/v1/admin/articles?limit=100')).json().data.find((a: { slug: string }) => a.slug === 'why-send-a-thank-you-note');
    expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${seed.id}`, { title: 'Edited here' })).statusCode).toBe(200);
    const held = (await adminRequest(t, 'GET', '/v1/admin/responses?status=pending')).json().data[0];
    expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${held.id}`, { status: 'approved' })).statusCode).toBe(200);
    // there: both changed too, one more comment, and the job-fair post was retitled
    const newer = fixtureText()
      .replace('<title><![CDATA[Why Send a Thank You Note After a Job Interview?]]></title>', '<title><![CDATA[Why Send a Thank-You Note?]]></title>')
      .replace('<title><![CDATA[Following Up After a Job Fair]]></title>', '<title><![CDATA[Following Up After a Career Fair]]></title>')
      .replace('<wp:comment_approved><![CDATA[0]]></wp:comment_approved>', '<wp:comment_approved><![CDATA[spam]]></wp:comment_approved>')
      .replace(
        '</wp:comment>\n\t\t\t\t\t</item>\n\t\t\t\t\t<item>\n\t\t<title><![CDATA[Negotiating',
        `</wp:comment>
			<wp:comment>
			<wp:comment_id>11</wp:comment_id>
			<wp:comment_author><![CDATA[Priya Raman]]></wp:comment_author>
			<wp:comment_author_email><![CDATA[priya.raman@example.com]]></wp:comment_author_email>
			<wp:comment_author_url></wp:comment_author_url>
			<wp:comment_date><![CDATA[2019-04-04 09:00:00]]></wp:comment_date>
			<wp:comment_date_gmt><![CDATA[2019-04-04 13:00:00]]></wp:comment_date_gmt>
			<wp:comment_content><![CDATA[And a follow-up: I got the job.]]></wp:comment_content>
			<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
			<wp:comment_type><![CDATA[comment]]></wp:comment_type>
			<wp:comment_parent>10</wp:comment_parent>
			</wp:comment>
					</item>
					<item>
		<title><![CDATA[Negotiating`,
      );
    expect(newer).toContain('<wp:comment_id>11</wp:comment_id>');
    const { report } = await importInto(t, { text: newer });
    expect(report.kinds.posts).toMatchObject({ imported: 0, updated: 1, unchanged: 3, skipped: 4 });
    expect(report.kinds.posts.reasons['edited in Inkwell since the last import (left as it is)']).toBe(1);
    expect(report.kinds.comments).toMatchObject({ imported: 1, unchanged: 5, skipped: 1 });

    const fair = (await t.app.inject({ method: 'GET', url: '/v1/articles/following-up-after-a-job-fair' })).json();
    expect(fair.title).toBe('Following Up After a Career Fair');
    expect((await t.app.inject({ method: 'GET', url: '/v1/articles/why-send-a-thank-you-note' })).json().title).toBe('Edited here');
    expect((await adminRequest(t, 'GET', `/v1/admin/responses?status=approved&article=following-up-after-a-job-fair`)).json().data).toHaveLength(2);
    const reply = (await t.app.inject({ method: 'GET', url: '/v1/articles/following-up-after-a-job-fair/responses' })).json().data;
    expect(reply[1]).toMatchObject({ authorName: 'Priya Raman', parentId: reply[0].id });
    expect((await adminRequest(t, 'GET', '/v1/admin/responses?status=spam')).json().data).toHaveLength(0);
  });
});

describe('a dry run', () => {
  it('writes nothing and prints the report the import would', async () => {
    const t = await freshApp();
    const before = await snapshot(t);
    const dry = await importInto(t, FIXTURE, { dryRun: true, batchSize: 2 });
    expect(await snapshot(t)).toEqual(before);
    expect(dry.changes).toBe(0);
    expect(dry.report.format()).toContain('dry run, nothing was written');
    const real = await importInto(t, FIXTURE, { batchSize: 2 });
    for (const k of ['posts', 'comments', 'pingbacks', 'authors', 'tags', 'redirects'] as const) expect(dry.report.kinds[k], k).toEqual(real.report.kinds[k]);
  });
});

describe('a slug taken here', () => {
  it('is suffixed and reported; the old addresses lead to the imported post', async () => {
    const t = await freshApp();
    await createArticle(t, { title: 'Why send a thank you note', slug: 'why-send-a-thank-you-note' });
    const { report } = await importInto(t, FIXTURE);
    expect(report.notes.filter((n) => n.category === 'slug').map((n) => n.text)).toEqual([
      'post 5 "Why Send a Thank You Note After a Job Interview?": the slug "why-send-a-thank-you-note" is taken here; imported as "why-send-a-thank-you-note-2"',
    ]);
    const res = await t.app.inject({ method: 'GET', url: '/2010/08/why-send-a-thank-you-note/', headers: HTML });
    expect(res.headers.location).toBe(`${SITE}/why-send-a-thank-you-note-2/`);
  });
});
