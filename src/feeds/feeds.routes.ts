// RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the latest articles (the `feed` library),
// and a sitemap of every public article. All link to frontend permalinks.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Feed } from 'feed';
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import { escapeHtml } from '../lib/html.ts';
import type { ArticlesService } from '../articles/articles.service.ts';
import type { MediaService } from '../media/media.service.ts';

const FEED_SIZE = 20;

export const feedRoutes: FastifyPluginAsyncTypebox<{ articles: ArticlesService; config: Config; media: MediaService }> = async (app, { articles, config, media }) => {
  async function buildFeed(): Promise<Feed> {
    const { data } = await articles.listPublic({ limit: FEED_SIZE });
    const enclosures = await media.enclosures(data.flatMap((a) => (a.featureImage ? [a.featureImage.id] : [])));
    const feed = new Feed({
      title: config.siteTitle,
      description: config.siteDescription,
      id: `${config.siteUrl}/`,
      link: `${config.siteUrl}/`,
      language: 'en',
      generator: 'Inkwell',
      updated: data[0] ? new Date(data[0].updatedAt) : new Date(0),
      copyright: `© ${config.siteTitle}`,
      ...(config.siteIcon ? { image: config.siteIcon, favicon: config.siteIcon } : {}),
      feedLinks: { rss: `${config.apiUrl}/feed.xml`, atom: `${config.apiUrl}/feed.atom`, json: `${config.apiUrl}/feed.json` },
    });
    for (const a of data) {
      feed.addItem({
        title: a.title,
        id: a.url,
        link: a.url,
        description: a.excerpt,
        content: a.html,
        date: new Date(a.updatedAt),
        published: a.publishedAt ? new Date(a.publishedAt) : undefined,
        author: a.author ? [{ name: a.author.name }] : undefined,
        category: a.tags.map((t) => ({ name: t.name, term: t.slug })),
        // RSS <enclosure>, Atom <link rel="enclosure">, JSON Feed `image`
        image: a.featureImage ? enclosures.get(a.featureImage.id) : undefined,
      });
    }
    return feed;
  }

  // no parameters: those a link adds (utm_*, fbclid, ref…) are ignored and share one cache entry
  const common = { config: { publicCache: true, cacheQuery: [] }, schema: { tags: ['site'] } };
  const doc = (summary: string, type: string) => ({
    ...common,
    schema: { ...common.schema, summary, produces: [type], response: { 200: Type.String({ description: summary }) } },
  });

  app.get('/feed.xml', doc('RSS 2.0 feed of the latest 20 articles', 'application/rss+xml'), async (_req, reply) => {
    reply.type('application/rss+xml; charset=utf-8');
    return (await buildFeed()).rss2();
  });
  app.get('/feed.atom', doc('Atom 1.0 feed of the latest 20 articles', 'application/atom+xml'), async (_req, reply) => {
    reply.type('application/atom+xml; charset=utf-8');
    return (await buildFeed()).atom1();
  });
  app.get('/feed.json', doc('JSON Feed 1.1 of the latest 20 articles', 'application/feed+json'), async (_req, reply) => {
    // the library writes JSON Feed 1.0; 1.1 renames `author` to `authors` and adds `language`
    const json = JSON.parse((await buildFeed()).json1()) as Record<string, unknown> & { items: Record<string, unknown>[] };
    json.version = 'https://jsonfeed.org/version/1.1';
    json.language = 'en';
    for (const item of json.items) {
      if (item.author) {
        item.authors = [item.author];
        delete item.author;
      }
    }
    reply.type('application/feed+json; charset=utf-8');
    return JSON.stringify(json);
  });
  app.get('/sitemap.xml', doc('Sitemap of the home page and every published article', 'application/xml'), async (_req, reply) => {
    const entries = await articles.sitemap();
    const urls = [
      `<url><loc>${escapeHtml(`${config.siteUrl}/`)}</loc>${entries[0] ? `<lastmod>${entries[0].updatedAt.toISOString()}</lastmod>` : ''}</url>`,
      ...entries.map((e) => `<url><loc>${escapeHtml(e.url)}</loc><lastmod>${e.updatedAt.toISOString()}</lastmod></url>`),
    ];
    reply.type('application/xml; charset=utf-8');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls.join('\n')}\n</urlset>\n`;
  });
};
