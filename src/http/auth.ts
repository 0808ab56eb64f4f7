// The admin API's guard: a Bearer token, unexpired, whose scope covers the route.
//
// Each admin route has a scope (route config `scope`): `content`, `moderation`,
// `admin`, or `any` (every valid token, e.g. whoami). A route plugin gets one for all
// its routes where it is registered: `admin.register(scoped('content', routes), opts)`;
// a route's own `config: { scope }` wins; anything else is `admin`. A token of scope
// `admin` may call everything, another only routes of its own scope. The scope is
// written into the route's OpenAPI security requirement (`bearerAuth: [scope]`), from
// which the document's `x-scope` and description line are made (openapi.plugin.ts).
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import type { Db } from '../db/client.ts';
import { touchToken, verifyToken, type VerifiedToken } from '../auth/tokens.service.ts';
import type { TokenScope } from '../auth/tokens.table.ts';
import { Type } from 'typebox';
import { AppError } from './errors.ts';
import { problems } from './schemas.ts';

/** What a route asks of a token: a scope, or `any` valid token. */
export type RouteScope = TokenScope | 'any';

declare module 'fastify' {
  interface FastifyRequest {
    adminToken?: VerifiedToken;
  }
  interface FastifyContextConfig {
    /** admin routes: the token scope they need (default `admin`) */
    scope?: RouteScope;
  }
}

/** the routes whose scope their own definition set (a plugin-wide scope does not override it) */
const ownScope = new WeakSet<object>();

function applyScope(route: RouteOptions, scope: RouteScope): void {
  route.config = { ...route.config, scope } as RouteOptions['config'];
  const response = { ...(route.schema?.response as Record<number, unknown> | undefined) };
  response[401] ??= problems(401)[401];
  if (scope === 'any') delete response[403];
  else response[403] = Type.Ref('Problem', { description: `The token's scope does not cover this call (it needs \`${scope}\`${scope === 'admin' ? '' : ' or `admin`'})` });
  route.schema = { ...route.schema, security: [{ bearerAuth: scope === 'any' ? [] : [scope] }], ...(route.schema?.response ? { response } : {}) };
}

/** Does a token of `has` scope may call a route of `needs`? */
export const scopeAllows = (has: TokenScope, needs: RouteScope) => needs === 'any' || has === 'admin' || has === needs;

/**
 * Guards every route registered in `scope` with `Authorization: Bearer <token>`.
 * Register admin routes inside a scope that called this.
 */
export function requireAdminToken(scope: FastifyInstance, db: Db): void {
  scope.addHook('onRoute', (route) => {
    const own = (route.config as { scope?: RouteScope } | undefined)?.scope;
    if (own) ownScope.add(route);
    applyScope(route, own ?? 'admin');
  });
  scope.addHook('onRequest', async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const challenge = { headers: { 'www-authenticate': 'Bearer realm="inkwell-admin"' } };
    if (!m) throw new AppError('unauthorized', 'Send an admin token as "Authorization: Bearer <token>" (create one with `npm run cli -- token create --name NAME`).', challenge);
    const token = await verifyToken(db, m[1]);
    if (!token) throw new AppError('unauthorized', 'The token is unknown or revoked.', { headers: { 'www-authenticate': 'Bearer realm="inkwell-admin", error="invalid_token"' } });
    if (token.expired) {
      throw new AppError('unauthorized', `The token expired at ${token.expiresAt!.toISOString()}; create a new one.`, {
        headers: { 'www-authenticate': 'Bearer realm="inkwell-admin", error="invalid_token", error_description="The token expired"' },
      });
    }
    const needs = req.routeOptions.config?.scope ?? 'admin';
    if (!scopeAllows(token.scope, needs)) {
      throw new AppError('forbidden', `This call needs a token of scope "${needs}" (or "admin"); the token "${token.name}" has scope "${token.scope}".`, {
        headers: { 'www-authenticate': `Bearer realm="inkwell-admin", error="insufficient_scope", scope="${needs}"` },
      });
    }
    req.adminToken = { id: token.id, name: token.name, scope: token.scope, expiresAt: token.expiresAt };
    void touchToken(db, token.id).catch((err) => req.log.warn({ err }, 'could not record token use'));
  });
  scope.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
}

/**
 * A route plugin whose routes all need `scope` (unless a route says otherwise):
 * `admin.register(scoped('content', articleAdminRoutes), { articles })`.
 */
export function scoped<Plugin extends (instance: never, opts: never) => Promise<void>>(scope: RouteScope, plugin: Plugin): Plugin {
  const wrapper: FastifyPluginAsync<Record<string, unknown>> = async (app, opts) => {
    app.addHook('onRoute', (route) => {
      if (!ownScope.has(route)) applyScope(route, scope);
    });
    await app.register(plugin as unknown as FastifyPluginAsync<Record<string, unknown>>, opts);
  };
  return wrapper as unknown as Plugin;
}
