// The bench's WordPress side by side (--peer-wordpress) builds its requests from what the
// site says about itself: checked against a small fake of the WordPress REST API on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { probeWordPress, wordpressRequests } from '../../bench/wordpress-peer.ts';
import { twoWordQueries } from '../../bench/requests.ts';

const POSTS = Array.from({ length: 130 }, (_, i) => ({ id: 1000 + i * 3, title: { rendered: `Post ${i}` } }));
const asked: string[] = [];
let server: Server;
let origin = '';

beforeAll(async () => {
  // a WordPress under /blog: the posts collection (per_page, page, search, _fields) and single posts, 400 beyond the last page
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://wp');
    asked.push(url.pathname + url.search);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const one = /^\/blog\/wp-json\/wp\/v2\/posts\/(\d+)$/.exec(url.pathname);
    if (one) {
      const post = POSTS.find((p) => p.id === Number(one[1]));
      return post ? json(200, post) : json(404, { code: 'rest_post_invalid_id' });
    }
    if (url.pathname !== '/blog/wp-json/wp/v2/posts') return json(404, { code: 'rest_no_route' });
    const perPage = Number(url.searchParams.get('per_page') ?? 10);
    const page = Number(url.searchParams.get('page') ?? 1);
    const found = url.searchParams.has('search') ? POSTS.slice(0, 7) : POSTS;
    const totalPages = Math.ceil(found.length / perPage);
    if (page > totalPages) return json(400, { code: 'rest_post_invalid_page_number' });
    const slice = found.slice((page - 1) * perPage, page * perPage);
    json(200, url.searchParams.get('_fields') === 'id' ? slice.map((p) => ({ id: p.id })) : slice, { 'x-wp-total': String(found.length), 'x-wp-totalpages': String(totalPages) });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('--peer-wordpress', () => {
  it('reads the pages of 20 and every post id, then asks random pages, posts and two-word searches that the site answers', async () => {
    const site = await probeWordPress(`${origin}/blog/`);
    expect(site).toMatchObject({ origin, prefix: '/blog', totalPages: 7 });
    expect(site.ids).toEqual(POSTS.map((p) => p.id));

    const reqs = wordpressRequests(site, twoWordQueries(), 200);
    expect(reqs.list).toHaveLength(200);
    for (const path of reqs.list) expect(path).toMatch(/^\/blog\/wp-json\/wp\/v2\/posts\?per_page=20&page=[1-7]$/);
    expect(new Set(reqs.list).size).toBeGreaterThan(5); // random pages across all of them
    for (const path of reqs.article) expect(path).toMatch(/^\/blog\/wp-json\/wp\/v2\/posts\/\d+$/);
    expect(new Set(reqs.article).size).toBeGreaterThan(50);
    for (const path of reqs.search) expect(path).toMatch(/^\/blog\/wp-json\/wp\/v2\/posts\?per_page=20&search=[a-z]+\+[a-z]+$/);
    expect(new Set(reqs.search).size).toBeGreaterThan(150);

    for (const path of [...reqs.list.slice(0, 10), ...reqs.article.slice(0, 10), ...reqs.search.slice(0, 10)]) {
      expect((await fetch(origin + path)).status, path).toBe(200);
    }
  });

  it('says what is wrong when the URL is not a WordPress site', async () => {
    await expect(probeWordPress(`${origin}/not-wordpress`)).rejects.toThrow(/answered 404: a WordPress site/);
  });
});
