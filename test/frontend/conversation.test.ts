// The conversation on an article page: the plain HTML reply form (Post/Redirect/Get,
// moderation notice, field errors that keep what the reader typed) and the threaded
// list it feeds, end to end through the comments API.
import { load } from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

const SITE = 'http://blog.test';
const apps: TestApp[] = [];
async function appWith(overrides: Partial<Config> = {}) {
  const t = await createTestApp({ apiUrl: SITE, siteUrl: SITE, commentMinIntervalSeconds: 0, ...overrides });
  apps.push(t);
  return t;
}
afterAll(async () => {
  for (const t of apps) await t.close();
});

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const page = async (t: TestApp, url: string) => {
  const res = await t.app.inject({ method: 'GET', url, headers: HTML });
  expect(res.statusCode, url).toBe(200);
  return load(res.body);
};

let ip = 1;
/** Posts the reply form as a browser does; each call is another reader unless `from` is given. */
function postForm(t: TestApp, slug: string, fields: Record<string, string>, from?: string) {
  return t.app.inject({
    method: 'POST',
    url: `/comments/${slug}`,
    remoteAddress: from ?? `10.2.0.${ip++}`,
    headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'test-browser' },
    payload: new URLSearchParams({ authorName: 'Reader', authorEmail: 'reader@example.com', body: 'Nice post.', website: '', ...fields }).toString(),
  });
}

async function pendingIds(t: TestApp): Promise<number[]> {
  return (await adminRequest(t, 'GET', '/v1/admin/responses?status=pending')).json().data.map((r: { id: number }) => r.id);
}
async function approve(t: TestApp, id: number) {
  expect((await adminRequest(t, 'PATCH', `/v1/admin/responses/${id}`, { status: 'approved' })).statusCode).toBe(200);
}

describe('replying from the article page', () => {
  let t: TestApp;
  let a: { slug: string; url: string };
  beforeAll(async () => {
    t = await appWith({ commentModeration: 'first-time' });
    a = await createArticle(t, { title: 'Talk to me' });
  });

  it('the form posts, redirects with 303 and says the comment awaits moderation; approved, it shows', async () => {
    let $ = await page(t, '/talk-to-me/');
    expect($('#responses-title').text()).toBe('No Responses to “Talk to me”');
    expect($('form.reply-form').attr('method')).toBe('post');
    expect($('form.reply-form').attr('action')).toBe('/comments/talk-to-me');
    for (const name of ['authorName', 'authorEmail', 'authorUrl', 'body']) {
      const id = $(`[name=${name}]`).attr('id');
      expect($(`label[for=${id}]`).text(), name).not.toBe('');
    }

    const res = await postForm(t, a.slug, { authorName: 'Ada', authorEmail: 'ada@example.com', body: 'First!\n\nSecond paragraph.' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`${a.url}?comment=pending#respond`);
    $ = await page(t, new URL(String(res.headers.location)).pathname + '?comment=pending');
    expect($('.notice[role=status]').text()).toMatch(/awaiting moderation/);
    expect($('.response')).toHaveLength(0);

    const [id] = await pendingIds(t);
    await approve(t, id);
    $ = await page(t, '/talk-to-me/');
    expect($('#responses-title').text()).toBe('One Response to “Talk to me”');
    expect($(`#comment-${id} .response-author`).text()).toContain('Ada');
    expect($(`#comment-${id} .response-body p`).map((_i, p) => $(p).text()).get()).toEqual(['First!', 'Second paragraph.']);
  });

  it('Reply links thread the answer under its comment; a known commenter is published at once', async () => {
    const [first] = (await t.app.inject({ method: 'GET', url: `/v1/articles/${a.slug}/responses` })).json().data;
    let $ = await page(t, `/talk-to-me/?replytocom=${first.id}`);
    expect($('#respond-title').text()).toBe('Reply to Ada');
    expect($('input[type=hidden][name=parentId]').val()).toBe(String(first.id));
    expect($('#respond a').first().attr('href')).toBe(`${a.url}#respond`);

    const res = await postForm(t, a.slug, { authorName: 'Ada', authorEmail: 'ada@example.com', body: 'Replying to myself.', parentId: String(first.id) });
    expect(res.statusCode).toBe(303);
    const location = String(res.headers.location);
    const id = Number(/comment=(\d+)#comment-\1$/.exec(location)?.[1]);
    expect(id).toBeGreaterThan(first.id);
    $ = await page(t, new URL(location).pathname + new URL(location).search);
    expect($('.notice[role=status]').text()).toMatch(/is published/);
    expect($('.notice a').attr('href')).toBe(`#comment-${id}`);
    expect($(`#comment-${first.id} > ol.children > li#comment-${id}`)).toHaveLength(1);
    expect($('#responses-title').text()).toBe('2 Responses to “Talk to me”');
  });

  it('?replytocom= of a comment that is not there offers a new thread instead of a form that can never be posted', async () => {
    const $ = await page(t, '/talk-to-me/?replytocom=999999');
    expect($('input[type=hidden][name=parentId]')).toHaveLength(0);
    expect($('.notice[role=status]').text()).toMatch(/no longer here\. Your comment will start a new thread/);
    const res = await postForm(t, a.slug, { authorName: 'Ada', authorEmail: 'ada@example.com', body: 'A new thread after all.' });
    expect(res.statusCode).toBe(303);
    // a form opened before its comment was removed posts parentId anyway: the page drops it and explains
    const stale = await postForm(t, a.slug, { authorName: 'Ada', authorEmail: 'ada@example.com', body: 'Replying to a removed one.', parentId: '999999' });
    expect(stale.statusCode).toBe(400);
    const $$ = load(stale.body);
    expect($$('input[type=hidden][name=parentId]')).toHaveLength(0);
    expect($$('textarea[name=body]').text()).toBe('Replying to a removed one.');
  });

  it('refused input comes back as a 400 page: the typed values kept (escaped), each error beside its field', async () => {
    const typed = { authorName: '', authorEmail: 'not-an-email', authorUrl: 'javascript:alert(1)', body: '</textarea><script>alert(1)</script>' };
    const res = await postForm(t, a.slug, typed);
    expect(res.statusCode).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const $ = load(res.body);
    expect($('script')).toHaveLength(0);
    expect($('textarea[name=body]').text()).toBe(typed.body);
    expect($('input[name=authorEmail]').val()).toBe('not-an-email');
    expect($('input[name=authorUrl]').val()).toBe('javascript:alert(1)');
    for (const name of ['authorName', 'authorEmail', 'authorUrl']) {
      const input = $(`input[name=${name}]`);
      expect(input.attr('aria-invalid'), name).toBe('true');
      const errorId = `f-${name}-error`;
      expect(input.attr('aria-describedby'), name).toContain(errorId);
      expect($(`#${errorId}`).text(), name).not.toBe('');
    }
    expect($('.error-summary[role=alert] li a').map((_i, l) => $(l).attr('href')).get()).toEqual(['#f-authorName', '#f-authorEmail', '#f-authorUrl']);
    expect(await pendingIds(t)).toEqual([]);
  });

  it('a duplicate is refused with the reason, as a page', async () => {
    const words = { authorName: 'Bob', authorEmail: 'bob@example.com', body: 'Same words twice.' };
    expect((await postForm(t, a.slug, words)).statusCode).toBe(303);
    const again = await postForm(t, a.slug, words);
    expect(again.statusCode).toBe(409);
    const $ = load(again.body);
    expect($('.error-summary p').text()).not.toBe('');
    expect($('textarea[name=body]').text()).toBe('Same words twice.');
  });

  it('a filled honeypot is accepted quietly and never shown', async () => {
    const res = await postForm(t, a.slug, { authorName: 'Bot', body: 'Cheap pills', website: 'http://spam.example' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/comment=pending/);
    const spam = (await adminRequest(t, 'GET', '/v1/admin/responses?status=spam')).json().data;
    expect(spam.map((r: { authorName: string }) => r.authorName)).toEqual(['Bot']);
    expect((await page(t, '/talk-to-me/')).text()).not.toContain('Cheap pills');
  });
});

describe('what strangers write stays text', () => {
  it('names, links and bodies of approved comments are escaped; only http(s) sites become links, with rel="nofollow ugc"', async () => {
    const t = await appWith({ commentModeration: 'open' });
    const a = await createArticle(t, { title: 'XSS' });
    const evil = {
      authorName: '<img src=x onerror=alert(1)>',
      authorUrl: 'https://example.com/"><script>alert(1)</script>',
      body: '<script>alert(2)</script> <b onclick="alert(3)">bold</b>',
    };
    expect((await postForm(t, a.slug, evil)).statusCode).toBe(303);
    const res = await t.app.inject({ method: 'GET', url: '/xss/', headers: HTML });
    expect(res.body).not.toMatch(/<script|<img src=x|<b onclick/);
    const $ = load(res.body);
    expect($('script, img[src=x], b')).toHaveLength(0);
    const link = $('.response-author a');
    expect(link.text()).toBe(evil.authorName);
    expect(link.attr('href')).toMatch(/^https:\/\/example\.com\//);
    expect(link.attr('rel')).toContain('nofollow');
    expect(link.attr('rel')).toContain('ugc');
    expect($('.response-body').text()).toContain('<script>alert(2)</script>');
  });
});

describe('when the API says no', () => {
  it('closed comments: no form, a sentence instead; a post anyway is a 403 page with the reason', async () => {
    const t = await appWith();
    const a = await createArticle(t, { title: 'Closed', commentsOpen: false });
    const $ = await page(t, '/closed/');
    expect($('form.reply-form')).toHaveLength(0);
    expect($('#respond').text()).toContain('Comments are closed.');
    const res = await postForm(t, a.slug, {});
    expect(res.statusCode).toBe(403);
    expect(load(res.body)('.error-summary p').text()).not.toBe('');
  });

  it('too fast: 429 with Retry-After, and the reader keeps their words', async () => {
    const t = await appWith({ commentMinIntervalSeconds: 60, commentModeration: 'open' });
    const a = await createArticle(t, { title: 'Flood' });
    expect((await postForm(t, a.slug, { body: 'one' }, '10.9.9.9')).statusCode).toBe(303);
    const res = await postForm(t, a.slug, { body: 'two' }, '10.9.9.9');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(load(res.body)('textarea[name=body]').text()).toBe('two');
    // another reader is not slowed down by the first one: the address is theirs, not the frontend's
    expect((await postForm(t, a.slug, { body: 'three' }, '10.9.9.10')).statusCode).toBe(303);
  });

  it('posting to an unknown article is a 404 page', async () => {
    const t = await appWith();
    const res = await postForm(t, 'nope', {});
    expect(res.statusCode).toBe(404);
    expect(load(res.body)('h1').text()).toBe('Page not found');
  });
});
