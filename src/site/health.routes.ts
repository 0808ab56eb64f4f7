import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ping, type Db } from '../db/client.ts';
import { AppError } from '../http/errors.ts';
import { problems } from '../http/schemas.ts';

const Health = Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() });
const Ready = Type.Object({ status: Type.Literal('ok'), database: Type.String({ description: 'pglite or postgres' }) });

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Db; kind: string }> = async (app, { db, kind }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['site'],
        summary: 'Liveness: the process is up',
        description: 'Answers 200 as long as the process serves HTTP, whatever the database does.',
        response: { 200: Health },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) };
    },
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['site'],
        summary: 'Readiness: the database answers',
        description: 'Answers 200 when the database answers a query within 2 s, else 503 problem+json.',
        response: { 200: Ready, ...problems(503) },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      if (!(await ping(db, 2000))) {
        throw new AppError('unavailable', 'The database did not answer within 2 s.', { headers: { 'retry-after': '5' } });
      }
      return { status: 'ok' as const, database: kind };
    },
  );
};
