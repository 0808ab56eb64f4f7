import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime, problems } from '../http/schemas.ts';
import type { PreviewsService } from './previews.ts';

const TokenParam = Type.Object({ token: Type.String({ maxLength: 100, description: 'The preview token' }) });

/** GET /v1/preview/{token}: never cached, never indexed. */
export const previewPublicRoutes: FastifyPluginAsyncTypebox<{ previews: PreviewsService }> = async (app, { previews }) => {
  app.get(
    '/v1/preview/:token',
    {
      schema: {
        tags: ['articles'],
        summary: 'Read an article by preview token (draft preview)',
        description:
          'The article as it is now (any status, the latest edit) in the public article shape. Answers `Cache-Control: private, no-store` and `X-Robots-Tag: noindex`. ' +
          'An unknown, revoked or expired token, or one whose article was deleted, answers 404.',
        params: TokenParam,
        response: { 200: Type.Ref('Article'), ...problems(404, 503) },
      },
    },
    async (req, reply) => {
      const article = await previews.read(req.params.token);
      return reply.header('cache-control', 'private, no-store').header('x-robots-tag', 'noindex').send(article);
    },
  );
};

/** Admin: make and revoke preview tokens. Mounted under /v1/admin. */
export const previewAdminRoutes: FastifyPluginAsyncTypebox<{ previews: PreviewsService }> = async (app, { previews }) => {
  const security = [{ bearerAuth: [] }];
  app.post(
    '/articles/:id/preview',
    {
      schema: {
        tags: ['admin'],
        summary: 'Make a draft preview link',
        description: 'The token is valid for `PREVIEW_TTL` (default 24 h), until revoked, or until the article is deleted. `url` is `PREVIEW_URL` filled in.',
        security,
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The article id' }) }),
        response: {
          201: Type.Object({
            token: Type.String({ description: 'Opaque; shown only here' }),
            url: Type.String({ description: 'The frontend preview page' }),
            expiresAt: DateTime('When the token stops working'),
          }),
          ...problems(401, 404),
        },
      },
    },
    async (req, reply) => reply.code(201).send(await previews.create(req.params.id)),
  );
  app.delete(
    '/previews/:token',
    {
      schema: { tags: ['admin'], summary: 'Revoke a preview token', security, params: TokenParam, response: { 204: Type.Null({ description: 'Revoked' }), ...problems(401, 404) } },
    },
    async (req, reply) => {
      await previews.revoke(req.params.token);
      return reply.code(204).send(null);
    },
  );
};
