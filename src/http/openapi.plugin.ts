import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import scalar from '@scalar/fastify-api-reference';
import { load } from 'cheerio';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProblemSchema } from './schemas.ts';
import { compress, negotiate, varyAcceptEncoding, type Coding } from './cache/encodings.ts';
import { etagOf, matchesIfNoneMatch, PUBLIC_CACHE_CONTROL, weak } from './cache/etag.ts';

export const API_VERSION = '1.0.0';

/** Scalar's script (~5 MB), served by its plugin as a string on every request */
const BUNDLE_PATH = 'js/scalar.js';
interface Bundle {
  source: string;
  etag: string;
  encoded: Partial<Record<Coding, Promise<Buffer>>>;
}

/**
 * The bundle as public reads are served (ETag, Cache-Control, 304, Brotli or gzip), each encoding
 * made once per process off the event loop: ~1 MB of Brotli instead of 5 MB on every visit.
 */
async function sendBundle(req: FastifyRequest, reply: FastifyReply, bundle: Bundle): Promise<string | Buffer> {
  const coding = negotiate(req.headers['accept-encoding']);
  const etag = coding ? weak(bundle.etag) : bundle.etag;
  reply.header('vary', varyAcceptEncoding(reply.getHeader('vary'))).header('cache-control', PUBLIC_CACHE_CONTROL).header('etag', etag);
  if (matchesIfNoneMatch(req.headers['if-none-match'], etag)) {
    reply.code(304).removeHeader('content-length');
    return '';
  }
  if (!coding) return bundle.source;
  const body = await (bundle.encoded[coding] ??= compress[coding](Buffer.from(bundle.source)));
  reply.header('content-encoding', coding).removeHeader('content-length');
  return body;
}

/**
 * Scalar's bundle asks Zod whether `Function('')` works (a JIT probe it catches). Telling Zod to stay
 * jitless before the bundle runs keeps the page free of eval: no 'unsafe-eval' and no CSP report.
 */
const ZOD_JITLESS = "globalThis.__zod_globalConfig = { jitless: true };";

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The documentation page's Content-Security-Policy: exactly what the Scalar reference loads, all from
 * this server (its bundle at /docs/js/scalar.js, the document at /openapi.json and "Test request"
 * calls to this origin, data: icons). Scripts: the bundle and the page's own inline scripts, each by
 * its hash (`inlineScripts`: the page is rendered from a fixed configuration), never
 * 'unsafe-inline' or 'unsafe-eval'. Styles: 'unsafe-inline' (see below). No fonts from elsewhere
 * (`withDefaultFonts: false`), no frames, no forms elsewhere.
 */
export function docsCsp(inlineScripts: readonly string[] = []): string {
  return [
    "default-src 'none'",
    ["script-src 'self'", ...inlineScripts.map(sha256)].join(' '),
    // the bundle inserts <style> elements and sets style attributes at run time (Vue, floating
    // menus), with texts that vary: styles need 'unsafe-inline' (scripts do not)
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The inline scripts of an HTML page, as the browser hashes them. */
export function inlineScripts(html: string): string[] {
  const $ = load(html);
  return $('script:not([src])')
    .toArray()
    .map((el) => $(el).text());
}

/**
 * Scalar's page as the plugin renders it, made ours: `lang` on <html> (WCAG 3.1.1) and Zod told to
 * stay jitless before the bundle loads. The plugin renders the same text for every request.
 */
function finishPage(html: string): string {
  return html.replace('<html>', '<html lang="en">').replace('<head>', `<head>\n    <script>${ZOD_JITLESS}</script>`);
}

/**
 * Text colours of the reference that meet WCAG 2.1 AA contrast (4.5:1) on each of its backgrounds
 * (#fff, #f6f6f6, #e7e7e7): Scalar's own third grey (#8e8e8e, 3.3:1 on white) and its HTTP-method
 * colours (green 3.6:1 on #f6f6f6) do not. `body.light-mode` outranks the theme's display-p3 colours.
 */
const DOCS_CSS = [
  'body.light-mode {',
  '  --scalar-color-3: #636363; --scalar-color-green: #00703f; --scalar-color-red: #c4000a; --scalar-color-yellow: #7a6000;',
  '  --scalar-color-blue: #0060a0; --scalar-color-orange: #b03a00; --scalar-color-purple: #5203d1; --scalar-color-query: #006b70;',
  '}',
  'body.dark-mode { --scalar-color-3: #9a9a9a; }',
].join('\n');

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json, the Scalar API reference at /docs. */
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
    // the reference in a context of its own, so its hooks touch only its routes
    await app.register(async (docs) => {
      let page: { rendered: string; html: string; csp: string } | undefined;
      let bundle: Bundle | undefined;
      docs.addHook('onSend', async (req, reply, payload) => {
        if (typeof payload !== 'string' || !String(reply.getHeader('content-type')).startsWith('text/html')) {
          reply.header('content-security-policy', docsCsp());
          if (typeof payload !== 'string' || reply.statusCode !== 200 || !req.routeOptions.url?.endsWith(`/${BUNDLE_PATH}`)) return payload;
          if (bundle?.source !== payload) bundle = { source: payload, etag: etagOf(payload), encoded: {} };
          return sendBundle(req, reply, bundle);
        }
        if (page?.rendered !== payload) {
          const html = finishPage(payload);
          page = { rendered: payload, html, csp: docsCsp(inlineScripts(html)) };
        }
        reply.header('content-security-policy', page.csp);
        return page.html;
      });
      await docs.register(scalar, {
        routePrefix: '/docs',
        configuration: {
          pageTitle: 'Inkwell API reference',
          url: '/openapi.json',
          // nothing from elsewhere: no font CDN, no telemetry, no hosted client
          withDefaultFonts: false,
          telemetry: false,
          hideClientButton: true,
          // Scalar's third text colour (#8e8e8e on white, 3.3:1; #797979 on #0f0f0f) is below the 4.5:1 of WCAG 1.4.3
          customCss: DOCS_CSS,
        },
      });
    });
  },
  { name: 'openapi' },
);
