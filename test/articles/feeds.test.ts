import sax from 'sax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ siteTitle: 'Ink & Paper <Blog>', permalink: '/{yyyy}/{mm}/{slug}/' });
  await createArticle(t, { title: 'Fish & Chips <at> "home"', markdown: 'Tasty & *crispy* <script>x</script>', tags: ['Food & Drink'] });
  await createArticle(t, { title: 'Second', markdown: 'Two.' });
  await createArticle(t, { title: 'Hidden', status: 'draft' });
});
afterAll(() => t.close());

/** Parses strictly: throws on anything that is not well-formed XML. Returns element names and text. */
function parseXml(xml: string) {
  const parser = sax.parser(true, {});
  const names: string[] = [];
  const texts: Record<string, string[]> = {};
  let current = '';
  parser.onopentag = (n) => {
    names.push(n.name);
    current = n.name;
  };
  parser.ontext = (s) => {
    if (s.trim()) (texts[current] ??= []).push(s);
  };
  parser.oncdata = (s) => (texts[current] ??= []).push(s);
  parser.onerror = (e) => {
    throw e;
  };
  parser.write(xml).close();
  return { names, texts };
}

describe('feeds and sitemap', () => {
  it('RSS 2.0 is well-formed, lists published articles with frontend permalinks', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/feed.xml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/rss\+xml/);
    const { names, texts } = parseXml(res.body);
    expect(names[0]).toBe('rss');
    expect(names.filter((n) => n === 'item')).toHaveLength(2);
    expect(texts.title).toContain('Fish & Chips <at> "home"');
    const y = new Date().getUTCFullYear();
    expect(texts.link.some((l) => new RegExp(`^http://blog\\.test/${y}/\\d{2}/fish-and-chips-at-home/$`).test(l))).toBe(true);
    expect(res.body).not.toContain('Hidden');
    expect(res.body).not.toContain('<script>');
  });

  it('Atom is well-formed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/feed.atom' });
    expect(res.headers['content-type']).toMatch(/^application\/atom\+xml/);
    const { names } = parseXml(res.body);
    expect(names[0]).toBe('feed');
    expect(names.filter((n) => n === 'entry')).toHaveLength(2);
  });

  it('JSON Feed 1.1 is valid JSON with the required fields', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/feed.json' });
    expect(res.headers['content-type']).toMatch(/^application\/feed\+json/);
    const feed = res.json();
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe('Ink & Paper <Blog>');
    expect(feed.feed_url).toBe('http://api.test/feed.json');
    expect(feed.items).toHaveLength(2);
    for (const item of feed.items) {
      expect(item.id).toEqual(expect.any(String));
      expect(item.url).toMatch(/^http:\/\/blog\.test\/\d{4}\/\d{2}\//);
      expect(item.content_html).toEqual(expect.any(String));
    }
  });

  it('the sitemap lists the home page and every published article', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/sitemap.xml' });
    const { names, texts } = parseXml(res.body);
    expect(names[0]).toBe('urlset');
    expect(texts.loc).toHaveLength(3);
    expect(texts.loc[0]).toBe('http://blog.test/');
    expect(texts.lastmod.every((d) => !Number.isNaN(Date.parse(d)))).toBe(true);
  });

  it('feeds and the sitemap ignore the parameters links add, which share one cache entry; /v1 still refuses them', async () => {
    for (const path of ['/feed.xml', '/feed.atom', '/feed.json', '/sitemap.xml']) {
      const plain = await t.app.inject({ method: 'GET', url: path });
      const entries = t.app.responseCache.snapshot().entries;
      const hits = t.app.responseCache.snapshot().hits;
      for (const q of ['?utm_source=x', '?utm_source=mastodon&utm_medium=social', '?fbclid=IwAR0abc', '?ref=hn']) {
        const res = await t.app.inject({ method: 'GET', url: path + q });
        expect(res.statusCode, path + q).toBe(200);
        expect(res.headers.etag, path + q).toBe(plain.headers.etag);
      }
      expect(t.app.responseCache.snapshot().entries, path).toBe(entries);
      expect(t.app.responseCache.snapshot().hits, path).toBe(hits + 4);
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/articles?utm_source=x' })).statusCode).toBe(400);
  });
});
