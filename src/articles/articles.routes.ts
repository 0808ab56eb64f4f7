import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import { notFound } from '../http/errors.ts';
import { ADMIN_SECURITY, PaginationMetaRef, problems } from '../http/schemas.ts';
import { linkHeader, type PageMeta } from '../lib/pagination.ts';
import { sendSerialized } from '../http/serialized.ts';
import { adminArticleRef, ArticleRef, ArticleStatusSchema, CreateArticleBody, FieldsParam, ListArticlesQuery, UpdateArticleBody } from './articles.schemas.ts';
import type { ArticlesService } from './articles.service.ts';

export interface ArticleRoutesOptions {
  articles: ArticlesService;
  config: Config;
  /** discovery headers for article reads (X-Pingback, Link rel=webmention) */
  discoveryHeaders: () => Record<string, string>;
}

const SlugParam = Type.Object({ slug: Type.String({ maxLength: 200, description: 'The article slug' }) });
const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The article id' }) });
const LIST_HEADERS = {
  Link: { type: 'string', description: 'RFC 8288 links: next, prev, first, last' },
  'X-Total-Count': { type: 'integer', description: 'Matching articles in all pages: an estimate for a broad search (then `meta.pagination.estimated` is true)' },
};
const ArticleList = Type.Object({ data: Type.Array(ArticleRef), meta: PaginationMetaRef }, { headers: LIST_HEADERS });

/** Public, cacheable reads of published articles. */
export const articlePublicRoutes: FastifyPluginAsyncTypebox<ArticleRoutesOptions> = async (app, { articles, config, discoveryHeaders }) => {
  app.get(
    '/v1/articles',
    {
      config: { publicCache: true },
      schema: {
        tags: ['articles'],
        summary: 'List published articles',
        description:
          'Newest first by default. Page with `page` (and `limit`), or walk with the keyset cursor `after` = `meta.pagination.nextCursor`, which stays stable while new articles are published. ' +
          'Filters combine with AND. Unknown parameters answer 400.',
        querystring: ListArticlesQuery,
        response: { 200: ArticleList, ...problems(400, 503) },
      },
    },
    async (req, reply) => {
      const paged = (pagination: PageMeta) =>
        reply.header('x-total-count', String(pagination.total)).header('link', linkHeader(config.apiUrl, '/v1/articles', req.query, pagination));
      if (req.query.fields === undefined) {
        const list = await articles.listPublicJson(req.query);
        return sendSerialized(paged(list.pagination), list);
      }
      const list = await articles.listPublic(req.query);
      // a sparse answer lacks fields the Article schema requires: plain JSON, not the schema's serialiser
      paged(list.meta.pagination).serializer(JSON.stringify);
      return list;
    },
  );

  app.get(
    '/v1/articles/:slug',
    {
      config: { publicCache: true },
      schema: {
        tags: ['articles'],
        summary: 'Get a published article',
        description:
          'A renamed slug answers 301 with `Location` to the current one. Drafts, scheduled and archived articles answer 404. ' +
          'The answer advertises pingback (`X-Pingback`) and Webmention (`Link: <…>; rel="webmention"`) endpoints.',
        params: SlugParam,
        querystring: Type.Object({ fields: Type.Optional(FieldsParam) }, { additionalProperties: false }),
        response: {
          200: ArticleRef,
          301: Type.Null({ description: 'Moved: `Location` names the current URL of the article' }),
          ...problems(404, 503),
        },
      },
    },
    async (req, reply) => {
      for (const [k, v] of Object.entries(discoveryHeaders())) reply.header(k, v);
      const found = await articles.getPublic(req.params.slug, req.query);
      if (!found) throw notFound(`Article "${req.params.slug}"`);
      if ('redirect' in found) {
        reply.header('cache-control', 'public, max-age=300');
        const keep = req.query.fields !== undefined ? `?fields=${encodeURIComponent(req.query.fields)}` : '';
        return reply.redirect(`/v1/articles/${encodeURIComponent(found.redirect)}${keep}`, 301);
      }
      if ('json' in found) return sendSerialized(reply, found);
      reply.serializer(JSON.stringify);
      return found.article;
    },
  );
};

const ETAG_HEADER = { ETag: { type: 'string', description: 'Send it back as `If-Match` on PATCH' } };

/** Admin: write, publish, schedule, delete. Mounted under /v1/admin (token required). */
export const articleAdminRoutes: FastifyPluginAsyncTypebox<{ articles: ArticlesService }> = async (app, { articles }) => {
  const security = ADMIN_SECURITY;
  const one = adminArticleRef({ headers: ETAG_HEADER });

  app.post(
    '/articles',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create an article',
        description:
          'Markdown is rendered to sanitised HTML on save (or send sanitised-on-save `html`). The slug is generated from the title when omitted (unicode-aware, made unique). ' +
          '`status: "published"` publishes at once and queues the announcement and outgoing pings in the same transaction; `scheduled` needs `publishAt`.',
        security,
        body: CreateArticleBody,
        response: { 201: one, ...problems(400, 401, 409, 413) },
      },
    },
    async (req, reply) => {
      const { article, etag } = await articles.create(req.body);
      return reply.code(201).header('etag', etag).header('location', `/v1/admin/articles/${article.id}`).send(article);
    },
  );

  app.get(
    '/articles',
    {
      schema: {
        tags: ['admin'],
        summary: 'List articles in any status',
        description: 'Most recently updated first.',
        security,
        querystring: Type.Object(
          {
            status: Type.Optional(ArticleStatusSchema),
            page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(adminArticleRef()), meta: PaginationMetaRef }), ...problems(400, 401) },
      },
    },
    async (req, reply) => {
      const list = await articles.listAdmin(req.query);
      reply.header('x-total-count', String(list.meta.pagination.total));
      return list;
    },
  );

  app.get(
    '/articles/:id',
    { schema: { tags: ['admin'], summary: 'Get an article in any status', security, params: IdParam, response: { 200: one, ...problems(401, 404) } } },
    async (req, reply) => {
      const { article, etag } = await articles.getAdmin(req.params.id);
      return reply.header('etag', etag).send(article);
    },
  );

  app.patch(
    '/articles/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Update an article',
        description:
          'Send only the fields to change. With `If-Match: <ETag from the last read>` a concurrent change answers 412 instead of being overwritten. ' +
          'Changing `slug` keeps the old one answering 301. Changing `status` publishes, schedules, unpublishes or archives.',
        security,
        params: IdParam,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The ETag of the version you edited' })) }),
        body: UpdateArticleBody,
        response: { 200: one, ...problems(400, 401, 404, 409, 412, 413) },
      },
    },
    async (req, reply) => {
      const { article, etag } = await articles.update(req.params.id, req.body, req.headers['if-match']);
      return reply.header('etag', etag).send(article);
    },
  );

  app.delete(
    '/articles/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Delete an article',
        description: 'Also deletes its responses. Prefer `archived` to keep them.',
        security,
        params: IdParam,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problems(401, 404) },
      },
    },
    async (req, reply) => {
      await articles.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );

  for (const action of ['publish', 'unpublish'] as const) {
    app.post(
      `/articles/:id/${action}`,
      {
        schema: {
          tags: ['admin'],
          summary: action === 'publish' ? 'Publish an article now' : 'Unpublish an article (back to draft)',
          description:
            action === 'publish'
              ? 'Idempotent. The first publication queues one announcement per network and one outgoing ping per external link; publishing again never announces twice.'
              : 'Idempotent. The article answers 404 publicly until published again; a queued announcement that has not been sent is cancelled.',
          security,
          params: IdParam,
          response: { 200: one, ...problems(401, 404) },
        },
      },
      async (req, reply) => {
        const { article, etag } = await articles[action](req.params.id);
        return reply.header('etag', etag).send(article);
      },
    );
  }
};
