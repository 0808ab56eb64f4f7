import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.ts';
import { touchToken, verifyToken } from '../auth/tokens.service.ts';
import { AppError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    adminToken?: { id: number; name: string };
  }
}

/**
 * Guards every route registered in `scope` with `Authorization: Bearer <token>`.
 * Register admin routes inside a scope that called this.
 */
export function requireAdminToken(scope: FastifyInstance, db: Db): void {
  scope.addHook('onRequest', async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { headers: { 'www-authenticate': 'Bearer realm="inkwell-admin"' } };
    if (!m) throw new AppError('unauthorized', 'Send an admin token as "Authorization: Bearer <token>" (create one with `npm run cli -- token create --name NAME`).', challenge);
    const token = await verifyToken(db, m[1]);
    if (!token) throw new AppError('unauthorized', 'The token is unknown or revoked.', { headers: { 'www-authenticate': 'Bearer realm="inkwell-admin", error="invalid_token"' } });
    req.adminToken = token;
    void touchToken(db, token.id).catch((err) => req.log.warn({ err }, 'could not record token use'));
  });
  scope.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
}
