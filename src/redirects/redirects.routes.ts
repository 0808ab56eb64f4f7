// GET /v1/redirects?path=…: where an old address went, for frontends other than the
// reference one (which answers these addresses with 301 itself, through this route).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { notFound } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';
import { findArticleRef, findRedirect } from '../articles/articles.repository.ts';
import { parsePermalink, permalinkFor } from '../articles/permalink.ts';
import { redirectKey } from './redirect-path.ts';
import { findRedirectTarget } from './redirects.repository.ts';

const RedirectQuery = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^/',
      description: 'An old address on this site: its path, with `?p=<id>` where it had one (`/2010/08/why-send-a-thank-you-note/`, `/?p=5`). Case, percent-encoding and a trailing slash do not matter.',
    }),
  },
  { additionalProperties: false },
);

const Redirect = Type.Object(
  {
    path: Type.String({ description: 'The address asked for' }),
    location: Type.String({ description: "The article's permalink (SITE_URL + PERMALINK): answer the old address with a 301 to it" }),
    status: Type.Literal(301, { description: 'The HTTP status to answer with: the move is permanent' }),
    article: Type.Object({ id: Type.Integer(), slug: Type.String() }),
  },
  { $id: 'Redirect', title: 'Redirect' },
);

/** Where an old address leads now: an imported old address, else a renamed slug under PERMALINK; null when nowhere. */
export async function resolveRedirect(db: Db, config: Pick<Config, 'siteUrl' | 'permalink'>, path: string) {
  // PostgreSQL text cannot hold NUL: no address has one
  if (path.includes('\0') || path.includes('%00')) return null;
  const key = redirectKey(path);
  let target = key ? await findRedirectTarget(db, key) : null;
  if (!target) {
    const old = parsePermalink(config, new URL(config.siteUrl).origin + path)?.slug;
    const slug = old ? await findRedirect(db, old) : null;
    const ref = slug ? await findArticleRef(db, { slug }) : null;
    target = ref ? { id: ref.id, slug: ref.slug, publishedAt: ref.publishedAt } : null;
  }
  return target ? { path, location: permalinkFor(config, target), status: 301 as const, article: { id: target.id, slug: target.slug } } : null;
}

export const redirectRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: Config }> = async (app, { db, config }) => {
  app.get(
    '/v1/redirects',
    {
      config: { publicCache: true },
      schema: {
        tags: ['articles'],
        summary: 'Where an old address went',
        description:
          'For a frontend that serves the site: ask with the path of a request that matched no article. ' +
          'Old addresses are those of imported articles (a WordPress permalink, its earlier slugs, `/?p=<id>`) and renamed slugs. ' +
          'Only published articles are answered; anything else is 404.',
        querystring: RedirectQuery,
        response: { 200: Redirect, ...problems(400, 404, 503) },
      },
    },
    async (req) => {
      const found = await resolveRedirect(db, config, req.query.path);
      if (!found) throw notFound(`A redirect for "${req.query.path}"`);
      return found;
    },
  );
};
