import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from './schemas.ts';

export const API_VERSION = '1.0.0';

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
        ],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token from `npm run cli -- token create --name NAME`' },
          },
        },
      },
      // error answers are application/problem+json (RFC 9457): say so in the document
      transformObject: (documentObject) => {
        const openapiObject = (documentObject as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
        for (const ops of Object.values(openapiObject.paths ?? {})) {
          for (const op of Object.values(ops as Record<string, { responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>)) {
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
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  },
  { name: 'openapi' },
);
