import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems } from '../http/schemas.ts';
import { ADMIN_SECURITY } from '../http/schemas.ts';

/** Admin routes of the auth domain (mounted under /v1/admin, token required). */
export const authAdminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/whoami',
    {
      schema: {
        tags: ['admin'],
        summary: 'Check a token',
        description: 'Answers the name, scope and expiry of the token used, so scripts can check their credentials.',
        security: ADMIN_SECURITY,
        response: {
          200: Type.Object({
            token: Type.String({ description: 'The name given at `token create`' }),
            scope: Type.Union([Type.Literal('content'), Type.Literal('moderation'), Type.Literal('admin')], { description: 'What the token may do (`token create --scope`)' }),
            expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it stops working; null: never' }),
          }),
          ...problems(401),
        },
      },
    },
    async (req) => ({ token: req.adminToken!.name, scope: req.adminToken!.scope, expiresAt: req.adminToken!.expiresAt?.toISOString() ?? null }),
  );
};
