import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from './schemas.ts';

export const API_VERSION = '1.0.0';

/**
 * The documentation page's Content-Security-Policy: exactly what Swagger UI loads, all from
 * this server (its bundle and initializer scripts, stylesheets, data: icons, the document
 * and "Try it out" requests to this origin); no inline script, no frames, no forms elsewhere.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // the one <style> element the bundle inserts (a fixed text; the Chromium test names a new hash if it changes)
  "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json, Swagger UI at /docs. */
export default fp(
  async function openapiPlugin(app: FastifyInstance) {
    app.addSchema(ProblemSchema);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Inkwell API',
          version: API_VERSION,
          description: [
            'Inkwell is a headless blog backend. The public content API (`/v1`) serves published articles and their conversation;',
            'the admin API (`/v1/admin`) needs `Authorization: Bearer <token>` (tokens come from `npm run cli -- token create --name NAME`).',
            '',
            '**Errors** are always `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail` and, for validation, `errors`.',
            '**Caching**: public reads carry a strong `ETag` and `Cache-Control: public, max-age=…, stale-while-revalidate=…`; send `If-None-Match` to get `304`.',
            '**Paging**: lists answer `{ data, meta: { pagination } }` plus `Link` (RFC 8288) and `X-Total-Count` headers.',
            '**Unknown query parameters** answer 400, so typos never pass silently.',
          ].join('\n'),
          license: { name: 'MIT', identifier: 'MIT' },
        },
        tags: [
          { name: 'site', description: 'Site metadata and health' },
          { name: 'articles', description: 'Published articles' },
          { name: 'responses', description: 'Comments, pingbacks and webmentions' },
          { name: 'taxonomy', description: 'Tags and authors' },
          { name: 'admin', description: 'Writing, publishing and moderation (token required)' },
          { name: 'webmention', description: 'W3C Webmention receiver' },
          { name: 'media', description: 'Images: uploads, responsive variants, the files' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description:
                'An admin token from `npm run cli -- token create --name NAME [--scope content|moderation|admin] [--expires 90d]`. ' +
                'Each operation names the scope it needs (`x-scope`, and the scopes of its security requirement): `content` writes articles, tags, authors and media; ' +
                '`moderation` handles responses; `admin` may call everything. Outside its scope a token gets 403; once expired, 401.',
            },
          },
        },
      },
      // error answers are application/problem+json (RFC 9457): say so in the document;
      // admin operations name their token scope (from their security requirement, see http/auth.ts)
      transformObject: (documentObject) => {
        const openapiObject = (documentObject as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
        type Operation = {
          description?: string;
          security?: Record<string, string[]>[];
          'x-scope'?: string;
          responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
        };
        for (const ops of Object.values(openapiObject.paths ?? {})) {
          for (const op of Object.values(ops as Record<string, Operation>)) {
            const bearer = op?.security?.find((r) => r.bearerAuth)?.bearerAuth;
            if (bearer) {
              const scope = bearer[0] ?? 'any';
              op['x-scope'] = scope;
              const line = scope === 'any' ? 'Token scope: any valid token.' : `Token scope: \`${scope}\`${scope === 'admin' ? '' : ' (or `admin`)'}.`;
              op.description = op.description ? `${op.description}\n\n${line}` : line;
            }
            for (const res of Object.values(op?.responses ?? {})) {
              const json = res.content?.['application/json'];
              if (json?.schema?.$ref === '#/components/schemas/Problem') res.content = { 'application/problem+json': json };
            }
          }
        }
        return openapiObject as never;
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    // cached like public reads: compressed for clients that accept it (~70 kB of JSON), ETag and 304
    app.get('/openapi.json', { schema: { hide: true }, config: { publicCache: true, cacheQuery: [] } }, async () => app.swagger());
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // no badge fetched from validator.swagger.io: the page loads nothing from elsewhere
      uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
      staticCSP: DOCS_CSP,
    });
  },
  { name: 'openapi' },
);
