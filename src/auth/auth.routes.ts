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
        description: 'Answers the name of the token used, so scripts can check their credentials.',
        security: ADMIN_SECURITY,
        response: { 200: Type.Object({ token: Type.String({ description: 'The name given at `token create`' }) }), ...problems(401) },
      },
    },
    async (req) => ({ token: req.adminToken!.name }),
  );
};
