import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../config.ts';
import { ADMIN_SECURITY, PaginationMetaRef, problems } from '../http/schemas.ts';
import { linkHeader } from '../lib/pagination.ts';
import { MAX_URL_LENGTH } from '../lib/external-url.ts';
import { EMAIL_MESSAGE, EMAIL_SOURCE, PARENT_ID_MESSAGE, REQUIRED_MESSAGE, URL_MESSAGE, type ResponsesService } from './responses.service.ts';
import { ERROR_MESSAGE_KEYWORD } from '../http/problem.plugin.ts';
import { multipartFieldsAsBody } from './multipart-fields.ts';
import { AdminResponseRef, KindSchema, PostedComment, ResponseRef, StatusSchema, TypeSchema } from './responses.schemas.ts';


const CommentBody = Type.Object(
  {
    // the service checks these again (after trimming and cleaning); the schema's copies make a 400 name every bad field at once
    authorName: Type.String({ maxLength: 200, pattern: String.raw`\S`, [ERROR_MESSAGE_KEYWORD]: REQUIRED_MESSAGE, description: 'Shown with the comment (plain text, at most 100 characters)' }),
    authorEmail: Type.String({
      maxLength: 254,
      pattern: String.raw`^\s*${EMAIL_SOURCE}\s*$`,
      [ERROR_MESSAGE_KEYWORD]: EMAIL_MESSAGE,
      description: 'Never shown; used for moderation ("first-time") and the avatar',
    }),
    authorUrl: Type.Optional(Type.String({ maxLength: MAX_URL_LENGTH, pattern: String.raw`^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?:`, [ERROR_MESSAGE_KEYWORD]: URL_MESSAGE, description: 'Optional http(s) URL; empty is the same as absent' })),
    parentId: Type.Optional(Type.String({ pattern: '^[0-9]{0,10}$', [ERROR_MESSAGE_KEYWORD]: PARENT_ID_MESSAGE, description: 'Reply to this approved response (numbers accepted too); empty = top level' })),
    body: Type.String({ maxLength: 20_000, pattern: String.raw`\S`, [ERROR_MESSAGE_KEYWORD]: REQUIRED_MESSAGE, description: 'Plain text (at most 10,000 characters). Blank lines make paragraphs; URLs become links with rel="nofollow ugc"; HTML is shown as text' }),
    website: Type.Optional(Type.String({ maxLength: 2000, description: 'Honeypot: leave empty and hide it from people. Filled in → held as spam silently' })),
  },
  {
    additionalProperties: false,
    examples: [{ authorName: 'Ada', authorEmail: 'ada@example.com', body: 'Lovely post! More at https://example.com' }],
  },
);

const ListQuery = Type.Object(
  {
    type: Type.Optional(TypeSchema),
    kind: Type.Optional(KindSchema),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: '1–100 (default 50); above 100 answers 400' })),
  },
  { additionalProperties: false },
);

export const responsePublicRoutes: FastifyPluginAsyncTypebox<{ responses: ResponsesService; config: Config }> = async (app, { responses, config }) => {
  app.get(
    '/v1/articles/:slug/responses',
    {
      config: { publicCache: true },
      schema: {
        tags: ['responses'],
        summary: 'The approved conversation of an article',
        description: 'Comments, pingbacks, webmentions and social reactions (`type=social`, `kind=like|repost|reply|bookmark|mention`), oldest first. Thread comments with `parentId`. Paginated like articles (`Link`, `X-Total-Count`).',
        params: Type.Object({ slug: Type.String({ maxLength: 200 }) }),
        querystring: ListQuery,
        response: { 200: Type.Object({ data: Type.Array(ResponseRef), meta: PaginationMetaRef }), ...problems(400, 404) },
      },
    },
    async (req, reply) => {
      const list = await responses.listPublic(req.params.slug, req.query);
      reply.header('x-total-count', String(list.meta.pagination.total));
      reply.header('link', linkHeader(config.apiUrl, `/v1/articles/${encodeURIComponent(req.params.slug)}/responses`, req.query, list.meta.pagination));
      return list;
    },
  );

  app.post(
    '/v1/articles/:slug/comments',
    {
      bodyLimit: 64 * 1024,
      preValidation: multipartFieldsAsBody,
      preHandler: app.publicWriteLimit,
      schema: {
        tags: ['responses'],
        summary: 'Post a reader’s comment',
        description:
          'JSON, `application/x-www-form-urlencoded` (a plain HTML form works) or `multipart/form-data` text fields (`fetch(url, { method: \'POST\', body: new FormData(form) })`; a file part is 415). The answer’s `status` says whether it is published (`approved`) or awaits moderation (`pending`), ' +
          'following `COMMENT_MODERATION` (`manual`, `first-time`: held unless the email has an approved comment, `open`); more than two links are always held. ' +
          'A client may comment once every `COMMENT_MIN_INTERVAL` seconds, and all public writes share the `RATE_LIMIT_WRITES` budget.',
        params: Type.Object({ slug: Type.String({ maxLength: 200 }) }),
        consumes: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
        body: CommentBody,
        response: {
          201: PostedComment,
          ...problems(400, 403, 404, 409, 413, 415, 429),
        },
      },
    },
    async (req, reply) => {
      const created = await responses.postComment(req.params.slug, req.body, { ip: req.ip, userAgent: req.headers['user-agent'] });
      return reply.code(201).send(created);
    },
  );
};

export const responseAdminRoutes: FastifyPluginAsyncTypebox<{ responses: ResponsesService }> = async (app, { responses }) => {
  const security = ADMIN_SECURITY;
  const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
  app.get(
    '/responses',
    {
      schema: {
        tags: ['admin'],
        summary: 'The moderation queue and everything else',
        description: 'Newest first. Filter by `status`, `type` and `article` (id or slug).',
        security,
        querystring: Type.Object(
          {
            status: Type.Optional(StatusSchema),
            type: Type.Optional(TypeSchema),
            article: Type.Optional(Type.String({ maxLength: 200 })),
            page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(AdminResponseRef), meta: PaginationMetaRef }), ...problems(400, 401) },
      },
    },
    async (req) => responses.listAdmin(req.query),
  );
  app.patch(
    '/responses/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Moderate a response',
        description: 'Approve, hold, mark as spam or trash. Public lists, counts and caches follow at once.',
        security,
        params: IdParam,
        body: Type.Object({ status: StatusSchema }, { additionalProperties: false }),
        response: { 200: AdminResponseRef, ...problems(400, 401, 404) },
      },
    },
    async (req) => responses.setStatus(req.params.id, req.body.status),
  );
  app.delete(
    '/responses/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Delete a response for good',
        description: 'Replies to it stay, attached to the top level.',
        security,
        params: IdParam,
        response: { 204: Type.Null(), ...problems(401, 404) },
      },
    },
    async (req, reply) => {
      await responses.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );
};
