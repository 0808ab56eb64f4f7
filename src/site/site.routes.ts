import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../config.ts';

const Site = Type.Object(
  {
    title: Type.String(),
    description: Type.String(),
    url: Type.String({ description: 'The frontend (SITE_URL)' }),
    apiUrl: Type.String({ description: 'This API (API_URL)' }),
    twitter: Type.Union([Type.String(), Type.Null()], { description: 'X handle without @, for "Follow us" links' }),
    pingbackUrl: Type.String({ description: 'Put it in `<link rel="pingback" href="…">` on article pages' }),
    webmentionUrl: Type.String({ description: 'Put it in `<link rel="webmention" href="…">` on article pages' }),
    permalink: Type.String({ description: 'The PERMALINK pattern article URLs follow' }),
    feeds: Type.Object({ rss: Type.String(), atom: Type.String(), json: Type.String() }),
    icon: Type.Union([Type.String(), Type.Null()], { description: 'The site icon (SITE_ICON), for `<link rel="icon">` and feeds; null when unset' }),
  },
  { $id: 'Site', title: 'Site' },
);

export interface SiteRoutesOptions {
  config: Config;
  /** where other blogs send pingbacks and webmentions */
  endpoints: { pingbackUrl: string; webmentionUrl: string };
}

export const siteRoutes: FastifyPluginAsyncTypebox<SiteRoutesOptions> = async (app, { config, endpoints }) => {
  const site = {
    title: config.siteTitle,
    description: config.siteDescription,
    url: config.siteUrl,
    apiUrl: config.apiUrl,
    twitter: config.siteTwitter ?? null,
    pingbackUrl: endpoints.pingbackUrl,
    webmentionUrl: endpoints.webmentionUrl,
    permalink: config.permalink,
    feeds: { rss: `${config.apiUrl}/feed.xml`, atom: `${config.apiUrl}/feed.atom`, json: `${config.apiUrl}/feed.json` },
    icon: config.siteIcon ?? null,
  };
  app.get(
    '/v1/site',
    {
      config: { publicCache: true },
      schema: {
        tags: ['site'],
        summary: 'Site metadata',
        description: 'What a frontend needs for its layout and `<head>`: title, URLs, discovery endpoints and feeds.',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Site },
      },
    },
    async () => site,
  );
};
