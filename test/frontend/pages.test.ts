// The reference frontend through HTTP, in-process: what a browser and another blog
// get from each page (status, headers, markup), on a fresh database per app.
import { load } from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

const SITE = 'http://blog.test';
const apps: TestApp[] = [];
/** The frontend serves article pages when SITE_URL is this server, as by default. */
async function appWith(overrides: Partial<Config> = {}) {
  const t = await createTestApp({ apiUrl: SITE, siteUrl: SITE, ...overrides });
  apps.push(t);
  return t;
}
afterAll(async () => {
  for (const t of apps) await t.close();
});

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
const get = (t: TestApp, url: string, headers: Record<string, string> = HTML) => t.app.inject({ method: 'GET', url, headers });
const pathOf = (url: string) => new URL(url).pathname;

let ip = 1;
/** Posts the reply form the way a browser does; each call is a different reader unless `from` is given. */
function postForm(t: TestApp, slug: string, fields: Record<string, string>, from?: string) {
  return t.app.inject({
    method: 'POST',
    url: `/comments/${slug}`,
    remoteAddress: from ?? `10.1.0.${ip++}`,
    headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'test-browser' },
    payload: new URLSearchParams({ authorName: 'Reader', authorEmail: 'reader@example.com', body: 'Nice post.', website: '', ...fields }).toString(),
  });
}

describe('home and tag pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appWith();
    for (let i = 1; i <= 12; i++) {
      await createArticle(t, { title: `Post number ${i}`, tags: i % 3 === 0 ? ['Thirds'] : [] });
    }
  });

  it('lists the latest articles, ten a page, newest first, linking to their permalinks', async () => {
    const res = await get(t, '/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const $ = load(res.body);
    const titles = $('.summary h2 a').map((_i, a) => $(a).text()).get();
    expect(titles).toHaveLength(10);
    expect(titles[0]).toBe('Post number 12');
    expect($('.summary h2 a').first().attr('href')).toBe(`${SITE}/post-number-12/`);
    expect($('a[rel=next]').attr('href')).toBe('/?page=2');
    expect($('link[rel=next]').attr('href')).toBe('/?page=2');
    expect($('a[rel=prev]')).toHaveLength(0);
    expect($('.pagination span').text()).toBe('Page 1 of 2');
  });

  it('page 2 holds the rest and links back; past the end and nonsense pages are 404 pages', async () => {
    const $ = load((await get(t, '/?page=2')).body);
    expect($('.summary h2 a').map((_i, a) => $(a).text()).get()).toEqual(['Post number 2', 'Post number 1']);
    expect($('a[rel=prev]').attr('href')).toBe('/');
    expect($('title').text()).toBe('Page 2 – Inkwell');
    for (const url of ['/?page=3', '/?page=0', '/?page=abc', '/?page=1&page=2']) {
      const res = await get(t, url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      expect(load(res.body)('h1').text(), url).toBe('Page not found');
    }
  });

  it('a tag page lists only that tag; an unknown tag is a 404 page', async () => {
    const res = await get(t, '/tags/thirds/');
    expect(res.statusCode).toBe(200);
    const $ = load(res.body);
    expect($('h1').text()).toBe('Articles tagged “Thirds”');
    expect($('.summary h2 a').map((_i, a) => $(a).text()).get()).toEqual(['Post number 12', 'Post number 9', 'Post number 6', 'Post number 3']);
    expect($('.summary .tags a').first().attr('href')).toBe('/tags/thirds/');
    expect((await get(t, '/tags/nope/')).statusCode).toBe(404);
  });

  it('pages cache like the API: strong ETag, public Cache-Control, 304 on If-None-Match; the stylesheet too', async () => {
    for (const url of ['/', '/tags/thirds/', '/post-number-3/', '/assets/inkwell.css']) {
      const first = await get(t, url);
      expect(first.statusCode, url).toBe(200);
      expect(first.headers.etag, url).toMatch(/^"[\w-]+"$/);
      expect(first.headers['cache-control'], url).toMatch(/^public, max-age=60/);
      const again = await get(t, url, { ...HTML, 'if-none-match': String(first.headers.etag) });
      expect(again.statusCode, url).toBe(304);
      expect(again.body, url).toBe('');
    }
    expect((await get(t, '/assets/inkwell.css')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('a new article changes the home page and its ETag at once', async () => {
    const before = await get(t, '/');
    await createArticle(t, { title: 'Fresh news' });
    const after = await get(t, '/');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(load(after.body)('.summary h2 a').first().text()).toBe('Fresh news');
  });

  it('every page has landmarks, a skip link, one h1, the feeds and a strict CSP that allows no script', async () => {
    for (const url of ['/', '/tags/thirds/', '/post-number-3/', '/no/such/page/']) {
      const res = await get(t, url);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'none'");
      expect(csp, url).toContain("form-action 'self'");
      expect(csp, url).not.toMatch(/script-src|unsafe-inline/);
      const $ = load(res.body);
      expect($('html').attr('lang'), url).toBe('en');
      expect($('header.site-header, main#main, footer.site-footer, nav[aria-label=Site]'), url).toHaveLength(4);
      expect($('a.skip-link').attr('href'), url).toBe('#main');
      expect($('h1'), url).toHaveLength(1);
      expect($('script'), url).toHaveLength(0);
      expect($('link[rel=alternate]').map((_i, l) => $(l).attr('href')).get(), url).toEqual([`${SITE}/feed.xml`, `${SITE}/feed.atom`, `${SITE}/feed.json`]);
    }
  });
});

describe('the article page', () => {
  let t: TestApp;
  let slug: string;
  beforeAll(async () => {
    t = await appWith({ siteTwitter: 'inkwell_blog', commentModeration: 'first-time' });
    await adminRequest(t, 'POST', '/v1/admin/authors', { name: 'Grace Hopper', slug: 'grace' });
    slug = (
      await createArticle(t, {
        title: 'On compilers',
        markdown: 'Read [the W3C spec](https://www.w3.org/TR/webmention/) and *think*.',
        tags: ['Computing'],
        authorSlug: 'grace',
      })
    ).slug;
  });

  it('shows title, date, author, content with its outbound links as real <a href>, and tags', async () => {
    const res = await get(t, `/${slug}/`);
    expect(res.statusCode).toBe(200);
    const $ = load(res.body);
    expect($('h1').text()).toBe('On compilers');
    expect($('title').text()).toBe('On compilers – Inkwell');
    expect($('.post .meta time').attr('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect($('.post .meta').text()).toContain('by Grace Hopper');
    expect($('.post .content a[href="https://www.w3.org/TR/webmention/"]').text()).toBe('the W3C spec');
    expect($('.post .content em').text()).toBe('think');
    expect($('.post .tags a[rel=tag]').attr('href')).toBe('/tags/computing/');
    expect($('link[rel=canonical]').attr('href')).toBe(`${SITE}/${slug}/`);
    expect($('a[href="https://x.com/inkwell_blog"]').text()).toBe('Follow us on Twitter');
  });

  it('advertises pingback and webmention endpoints in headers and <link>s, the same ones /v1/site names (GET and HEAD)', async () => {
    const site = (await get(t, '/v1/site', {})).json();
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await t.app.inject({ method, url: `/${slug}/`, headers: HTML });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-pingback']).toBe(site.pingbackUrl);
      expect(res.headers.link).toBe(`<${site.webmentionUrl}>; rel="webmention"`);
    }
    const $ = load((await get(t, `/${slug}/`)).body);
    expect($('link[rel=pingback]').attr('href')).toBe(site.pingbackUrl);
    expect($('link[rel=webmention]').attr('href')).toBe(site.webmentionUrl);
    expect(site.pingbackUrl).toBe(`${SITE}/xmlrpc`);
  });

  it('one address per article: a missing slash and a renamed slug move permanently to the permalink', async () => {
    const noSlash = await get(t, `/${slug}`);
    expect(noSlash.statusCode).toBe(301);
    expect(noSlash.headers.location).toBe(`${SITE}/${slug}/`);
    const a = await createArticle(t, { title: 'Old name' });
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { slug: 'new-name' });
    const moved = await get(t, '/old-name/?replytocom=5');
    expect(moved.statusCode).toBe(301);
    expect(moved.headers.location).toBe(`${SITE}/new-name/?replytocom=5`);
  });

  it('drafts and unknown slugs are 404 pages for browsers and problem+json for API clients', async () => {
    const draft = await createArticle(t, { title: 'Secret draft', status: 'draft' });
    for (const url of [`/${draft.slug}/`, '/no-such-article/', '/no/such/page/']) {
      const page = await get(t, url);
      expect(page.statusCode, url).toBe(404);
      expect(page.headers['content-type'], url).toMatch(/^text\/html/);
      expect(page.headers['cache-control'], url).toBe('no-store');
      expect(load(page.body)('main a').attr('href'), url).toBe('/');
      const api = await get(t, url, { accept: 'application/json' });
      expect(api.statusCode, url).toBe(404);
      expect(api.headers['content-type'], url).toMatch(/^application\/problem\+json/);
    }
    // the API's own namespace never answers with a page
    const v1 = await get(t, '/v1/nope');
    expect(v1.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('odd request targets end as 4xx, never as a server error or a redirect elsewhere', async () => {
    for (const url of ['//[', '//evil.example/on-compilers/', '/%E0%A4%A/', '/%/', '/..%2f..%2fetc/', `/${'a'.repeat(300)}/`, '/on-compilers/%00/', '/?page=%00']) {
      for (const headers of [HTML, {}]) {
        const res = await get(t, url, headers);
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, url).toBeLessThan(500);
      }
    }
  });

  it('escapes everything editors and readers wrote: titles, tag names, author names, form values', async () => {
    await adminRequest(t, 'POST', '/v1/admin/authors', { name: '<img src=x onerror=alert(1)>', slug: 'mallory' });
    const evil = await createArticle(t, {
      title: '"><script>alert(1)</script>',
      tags: ['<b onmouseover=alert(1)>bold</b>'],
      authorSlug: 'mallory',
      excerpt: '"><script>alert(2)</script>',
    });
    for (const url of [new URL(evil.url).pathname, '/', `/tags/${(await get(t, `/v1/articles/${evil.slug}`, {})).json().tags[0].slug}/`]) {
      const res = await get(t, url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toMatch(/<script|<img src=x|<b onmouseover/);
      const $ = load(res.body);
      expect($('script, img[src=x], b[onmouseover]'), url).toHaveLength(0);
    }
    const $ = load((await get(t, new URL(evil.url).pathname)).body);
    expect($('h1').text()).toBe('"><script>alert(1)</script>');
    expect($('meta[name=description]').attr('content')).toBe('"><script>alert(2)</script>');
  });
});

describe('permalink patterns and origins', () => {
  it('serves articles at a dated PERMALINK and redirects a wrong date to the right one', async () => {
    const t = await appWith({ permalink: '/{yyyy}/{mm}/{slug}/' });
    const a = await createArticle(t, { title: 'Dated' });
    const path = pathOf(a.url);
    expect(path).toMatch(/^\/\d{4}\/\d\d\/dated\/$/);
    const res = await get(t, path);
    expect(res.statusCode).toBe(200);
    expect(load(res.body)('h1').text()).toBe('Dated');
    const wrong = await get(t, '/1999/01/dated/');
    expect(wrong.statusCode).toBe(301);
    expect(wrong.headers.location).toBe(a.url);
    expect((await get(t, '/dated/')).statusCode).toBe(404);
  });

  it('SITE_URL on another origin: the lists link there, and this server serves no article pages', async () => {
    const t = await appWith({ siteUrl: 'https://www.example.com' });
    const a = await createArticle(t, { title: 'Elsewhere' });
    const $ = load((await get(t, '/')).body);
    expect($('.summary h2 a').attr('href')).toBe('https://www.example.com/elsewhere/');
    expect((await get(t, `/${a.slug}/`)).statusCode).toBe(404);
  });

  it('SITE_URL with a path: the frontend lives under it', async () => {
    const t = await appWith({ siteUrl: `${SITE}/blog` });
    const a = await createArticle(t, { title: 'Nested' });
    expect(a.url).toBe(`${SITE}/blog/nested/`);
    const home = await get(t, '/blog/');
    expect(home.statusCode).toBe(200);
    expect(load(home.body)('link[rel=stylesheet]').attr('href')).toBe('/blog/assets/inkwell.css');
    expect((await get(t, '/blog/nested/')).statusCode).toBe(200);
    expect((await get(t, '/blog/assets/inkwell.css')).statusCode).toBe(200);
  });

  it('FRONTEND=off removes every page: / is a 404 problem like any unknown route', async () => {
    const t = await appWith({ frontend: false });
    const a = await createArticle(t, { title: 'Headless' });
    for (const url of ['/', pathOf(a.url), '/tags/x/', '/assets/inkwell.css']) {
      const res = await get(t, url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/problem\+json/);
    }
    const post = await postForm(t, a.slug, {});
    expect(post.statusCode).toBe(404);
    // the API itself is untouched
    expect((await get(t, `/v1/articles/${a.slug}`, {})).statusCode).toBe(200);
  });
});

describe('when the API fails', () => {
  it('the page fails the same way, as problem+json, instead of rendering half a page', async () => {
    const t = await createTestApp({ apiUrl: SITE, siteUrl: SITE });
    await createArticle(t, { title: 'Doomed' });
    await t.database.close();
    try {
      const api = await get(t, '/v1/articles/doomed', {});
      expect(api.statusCode).toBeGreaterThanOrEqual(500);
      for (const url of ['/', '/doomed/']) {
        const page = await get(t, url);
        expect(page.statusCode, url).toBe(api.statusCode);
        expect(page.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      }
    } finally {
      await t.app.close();
    }
  });
});
