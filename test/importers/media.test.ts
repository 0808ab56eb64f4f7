// `import wordpress --media`: the images a WordPress export's posts show, fetched from the
// old site (a real HTTP server on 127.0.0.1 serving images made with sharp) through the
// outbound guard, re-hosted in the media library, and their addresses in the posts
// replaced; failures (404, a page, too large, a timeout, bytes that are no image) are a
// line of the report each and keep the original address; a second import fetches nothing.
import http from 'node:http';
import { rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.ts';
import { queryRows } from '../../src/db/client.ts';
import type { ImportDeps } from '../../src/importers/wordpress/wordpress.importer.ts';
import { Outbound } from '../../src/lib/outbound.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { photo, tempDir } from '../media/support.ts';
import { importInto, snapshot } from './support.ts';

const SITE = 'http://blog.test';
const MAX_BYTES = 100_000;
// the hanging image costs this much per import; shorter fails images that merely wait for a busy machine
const TIMEOUT_MS = 3000;

/** The old site: its uploads, and what it answers wrong. Counts every request by path. */
class OldSite {
  readonly hits = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(files: Record<string, { type: string; body: Buffer | string } | 'hang'>): Promise<OldSite> {
    let site!: OldSite;
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      site.hits.set(path, (site.hits.get(path) ?? 0) + 1);
      const f = files[path];
      if (f === 'hang') return; // never answers
      if (!f) {
        res.writeHead(404, { 'content-type': 'text/html' });
        return res.end('<h1>Not Found</h1>');
      }
      res.writeHead(200, { 'content-type': f.type });
      res.end(f.body);
    });
    server.on('connection', (s) => {
      site.sockets.add(s);
      s.on('close', () => site.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    site = new OldSite(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return site;
  }

  total(): number {
    return [...this.hits.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const up = (name: string) => `/wp-content/uploads/2024/05/${name}`;

/** Two posts and the featured image's attachment, as WordPress's exporter writes them. */
function wxr(site: string): string {
  const item = (id: number, type: string, body: string, meta: [string, string][] = [], extra = '') => `
  <item>
    <title><![CDATA[Post ${id}]]></title>
    <link>${site}/2024/05/post-${id}/</link>
    <dc:creator><![CDATA[writer]]></dc:creator>
    <content:encoded><![CDATA[${body}]]></content:encoded>
    <excerpt:encoded><![CDATA[]]></excerpt:encoded>
    <wp:post_id>${id}</wp:post_id>
    <wp:post_date><![CDATA[2024-05-0${id % 9} 10:00:00]]></wp:post_date>
    <wp:post_date_gmt><![CDATA[2024-05-0${id % 9} 10:00:00]]></wp:post_date_gmt>
    <wp:comment_status><![CDATA[open]]></wp:comment_status>
    <wp:ping_status><![CDATA[open]]></wp:ping_status>
    <wp:post_name><![CDATA[post-${id}]]></wp:post_name>
    <wp:status><![CDATA[${type === 'attachment' ? 'inherit' : 'publish'}]]></wp:status>
    <wp:post_type><![CDATA[${type}]]></wp:post_type>
    <wp:post_password><![CDATA[]]></wp:post_password>${extra}
    ${meta.map(([k, v]) => `<wp:postmeta><wp:meta_key><![CDATA[${k}]]></wp:meta_key><wp:meta_value><![CDATA[${v}]]></wp:meta_value></wp:postmeta>`).join('\n    ')}
  </item>`;
  return `<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old blog</title>
  <link>${site}</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>${site}</wp:base_site_url>
  <wp:base_blog_url>${site}</wp:base_blog_url>
  <wp:author><wp:author_login><![CDATA[writer]]></wp:author_login><wp:author_display_name><![CDATA[The Writer]]></wp:author_display_name></wp:author>
  ${item(
    1,
    'post',
    `A photo: <img class="size-full" src="${site}${up('photo.jpg')}" alt="A photo" width="800" height="500" />

A relative one, with its sizes: <img src="${up('diagram-300x200.png')}" srcset="${up('diagram-300x200.png')} 300w, ${up('diagram.jpg')} 640w" alt="" />`,
    [['_thumbnail_id', '9']],
  )}
  ${item(
    2,
    'post',
    `<img src="${site}${up('photo.jpg')}" alt="Again" />

<img src="${site}${up('gone.jpg')}" alt="" /> <img src="${site}${up('page.jpg')}" alt="" /> <img src="${site}${up('huge.png')}" alt="" /> <img src="${site}${up('slow.jpg')}" alt="" /> <img src="${site}${up('text.jpg')}" alt="" />`,
  )}
  ${item(9, 'attachment', '', [['_wp_attachment_image_alt', 'The featured one']], `\n    <wp:attachment_url><![CDATA[${site}${up('featured.jpg')}]]></wp:attachment_url>`)}
</channel>
</rss>`;
}

let old: OldSite;
let text: string;
let dir: string;
const apps: TestApp[] = [];
const media = (t: TestApp, over: Partial<NonNullable<ImportDeps['media']>> = {}): ImportDeps['media'] => ({
  media: t.services.media,
  outbound: new Outbound({ allowPrivate: true, userAgent: 'Inkwell/test' }),
  maxBytes: MAX_BYTES,
  timeoutMs: TIMEOUT_MS,
  apiUrl: t.config.apiUrl,
  ...over,
});
async function freshApp() {
  const t = await createTestApp({ apiUrl: SITE, siteUrl: SITE, media: { ...testConfig().media, dir: tempDir(), maxBytes: MAX_BYTES } });
  apps.push(t);
  return t;
}
const article = async (t: TestApp, slug: string) =>
  (await queryRows<{ id: number; html: string; feature_image_id: number | null }>(t.database.db, sql`select id, html, feature_image_id from articles where slug = ${slug}`))[0];
const srcsOf = (html: string) => [...html.matchAll(/\ssrc="([^"]*)"/g)].map((m) => m[1]);

beforeAll(async () => {
  dir = tempDir();
  const noise = await sharp(Buffer.from(Array.from({ length: 300 * 300 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 300, height: 300, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  old = await OldSite.start({
    [up('photo.jpg')]: { type: 'image/jpeg', body: await photo(800, 500, 'jpeg') },
    [up('diagram-300x200.png')]: { type: 'image/png', body: await photo(300, 200, 'png') },
    [up('diagram.jpg')]: { type: 'application/octet-stream', body: await photo(640, 427, 'jpeg') },
    [up('featured.jpg')]: { type: 'image/jpeg', body: await photo(1200, 700, 'jpeg') },
    [up('page.jpg')]: { type: 'text/html; charset=utf-8', body: '<html><body>Hotlinking is not allowed</body></html>' },
    [up('huge.png')]: { type: 'image/png', body: noise },
    [up('slow.jpg')]: 'hang',
    [up('text.jpg')]: { type: 'image/jpeg', body: 'this is not a JPEG at all' },
  });
  expect(noise.length).toBeGreaterThan(MAX_BYTES);
  text = wxr(old.url);
});
afterAll(async () => {
  for (const t of apps) await t.close();
  await old?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('import wordpress --media', () => {
  let t: TestApp;
  let first: Awaited<ReturnType<typeof importInto>>;
  beforeAll(async () => {
    t = await freshApp();
    // a dry run first: it fetches nothing and says how many it would
    const dry = await importInto(t, { text }, { dryRun: true, media: true }, media(t));
    expect(old.total()).toBe(0);
    expect(dry.report.format()).toContain('Images: 9 to fetch with --media (a dry run fetches nothing).');
    first = await importInto(t, { text }, { media: true }, media(t));
  }, 120_000);

  it('re-hosts what it can, and reports each failure with its line and reason', () => {
    const images = first.report.kinds.images;
    expect(images).toMatchObject({ imported: 4, unchanged: 0, skipped: 5 });
    expect(images.reasons).toEqual({ 'HTTP 404': 1, 'not an image': 2, 'too large': 1, 'timed out': 1 });
    const out = first.report.format();
    expect(out).toMatch(/images\s+4\s+0\s+0\s+5/);
    const line = (name: string) => out.split('\n').find((l) => l.includes(up(name)));
    expect(line('gone.jpg')).toMatch(/^ {2}line \d+: post 2: image http:\/\/127\.0\.0\.1:\d+\/.*gone\.jpg: the server answered HTTP 404; the original address is kept$/);
    expect(line('page.jpg')).toContain('the server sent text/html, not an image');
    expect(line('huge.png')).toContain('larger than 0.1 MB (MEDIA_MAX_BYTES)');
    expect(line('slow.jpg')).toContain(`timed out (no complete answer within ${TIMEOUT_MS} ms)`);
    expect(line('text.jpg')).toContain('not an image in a format we accept');
    expect(first.report.kinds.posts).toMatchObject({ imported: 2, skipped: 1 });
    // each address once: photo.jpg is in both posts
    expect(old.hits.get(up('photo.jpg'))).toBe(1);
  });

  it('rewrites src and srcset to the library’s addresses, which serve the images; the featured image becomes the feature image', async () => {
    const one = await article(t, 'post-1');
    const srcs = srcsOf(one.html);
    expect(srcs).toHaveLength(2);
    for (const src of srcs) expect(src).toMatch(new RegExp(`^${SITE}/media/[a-f0-9]{32}/\\d+\\.(jpeg|png)$`));
    expect(one.html).not.toContain('127.0.0.1');
    expect(one.html).not.toContain('/wp-content/');
    // an upload's treatment: srcset of the library's variants, width and height
    expect(one.html).toMatch(/<img [^>]*src="[^"]*\/800\.jpeg"[^>]*srcset="[^"]*\/media\/[a-f0-9]{32}\/640\.webp 640w/);
    const served = await t.app.inject({ method: 'GET', url: new URL(srcs[0]).pathname });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(served.rawPayload).metadata()).width).toBe(800);

    const view = (await t.app.inject({ method: 'GET', url: '/v1/articles/post-1' })).json() as { featureImage: { url: string; alt: string; width: number } | null };
    expect(view.featureImage).toMatchObject({ alt: 'The featured one', width: 1200 });

    // the same photo in the second post is the same library image; the failures keep their addresses
    const two = await article(t, 'post-2');
    const twoSrcs = srcsOf(two.html);
    expect(twoSrcs[0]).toBe(srcs[0]);
    for (const name of ['gone.jpg', 'page.jpg', 'huge.png', 'slow.jpg', 'text.jpg']) expect(twoSrcs).toContain(`${old.url}${up(name)}`);
    const library = (await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from media`))[0];
    expect(Number(library.n)).toBe(4);
  });

  it('a second import fetches none of the images it brought over, and changes nothing', async () => {
    const before = await snapshot(t);
    const hits = new Map(old.hits);
    const again = await importInto(t, { text }, { media: true }, media(t));
    expect(again.report.kinds.images).toMatchObject({ imported: 0, unchanged: 4, skipped: 5 });
    expect(again.report.kinds.posts).toMatchObject({ imported: 0, updated: 0, unchanged: 2 });
    for (const name of ['photo.jpg', 'diagram-300x200.png', 'diagram.jpg', 'featured.jpg']) expect(old.hits.get(up(name))).toBe(hits.get(up(name)));
    expect(await snapshot(t)).toEqual(before);
    expect(Number((await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from media`))[0].n)).toBe(4);
  });
});

describe('--media after an import without it', () => {
  it('the posts imported before get their images; without --media the report says the images stayed', async () => {
    const t = await freshApp();
    const plain = await importInto(t, { text });
    expect(plain.report.format()).toContain('Images stay where they are, on the old site: --media fetches and re-hosts them.');
    expect(plain.report.format()).not.toMatch(/^\s+images/m);
    expect(srcsOf((await article(t, 'post-1')).html)[0]).toBe(`${old.url}${up('photo.jpg')}`);
    const withMedia = await importInto(t, { text }, { media: true }, media(t));
    expect(withMedia.report.kinds.posts).toMatchObject({ imported: 0, updated: 2 });
    const one = await article(t, 'post-1');
    expect(srcsOf(one.html)[0]).toMatch(new RegExp(`^${SITE}/media/[a-f0-9]{32}/800\\.jpeg$`));
    expect(one.feature_image_id).not.toBeNull();
  }, 120_000);

  it('through the guard without OUTBOUND_ALLOW_PRIVATE: loopback images are refused, one line each, and the import goes on', async () => {
    const t = await freshApp();
    const hits = old.total();
    const { report } = await importInto(t, { text }, { media: true }, media(t, { outbound: new Outbound({ allowPrivate: false, userAgent: 'Inkwell/test' }) }));
    expect(report.kinds.posts.imported).toBe(2);
    expect(report.kinds.images).toMatchObject({ imported: 0, skipped: 9, reasons: { 'address not allowed': 9 } });
    expect(old.total()).toBe(hits);
    expect(srcsOf((await article(t, 'post-1')).html)[0]).toBe(`${old.url}${up('photo.jpg')}`);
  });
});
