// POST /webmention and its status resources GET /webmention/{id}.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, notFound } from '../../http/errors.ts';
import { problems } from '../../http/schemas.ts';
import type { LinkbackLimits } from '../verify/limits.ts';
import { MAX_URL_LENGTH } from '../../lib/external-url.ts';
import type { WebmentionService, WebmentionView } from './webmention.service.ts';

/** source + target are two URLs; this leaves room for long ones and little else */
export const WEBMENTION_BODY_LIMIT = 16 * 1024;

const Url = (description: string) => Type.String({ minLength: 1, maxLength: MAX_URL_LENGTH, description });

const WebmentionStatusSchema = Type.Object(
  {
    id: Type.String({ description: 'Opaque id of this request' }),
    // spelled out (not mapped) so the type provider infers the literal union
    status: Type.Union(
      [Type.Literal('queued'), Type.Literal('accepted'), Type.Literal('rejected'), Type.Literal('removed')],
      {
        description:
          '`queued`: verification pending · `accepted`: the source links to the target and the mention is stored (shown once approved, under the moderation policy) · `rejected`: verification failed, `detail` says why · `removed`: the source is gone (410) or no longer links, and the earlier mention was deleted',
      },
    ),
    source: Type.String({ description: 'The page that mentions us, as received (fragment dropped)' }),
    target: Type.String({ description: 'Our article it mentions' }),
    detail: Type.Union([Type.String(), Type.Null()], { description: 'Why it has this status, for the sender' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'WebmentionStatus', description: 'The status of one received Webmention' },
);

export interface WebmentionRoutesOptions {
  webmention: WebmentionService;
  limits: LinkbackLimits;
  apiUrl: string;
}

const json = (v: WebmentionView) => ({ ...v, createdAt: v.createdAt.toISOString(), updatedAt: v.updatedAt.toISOString() });

const tooMany = (retryAfter: number, what: string) =>
  new AppError('too-many-requests', `Too many ${what}; retry in ${retryAfter} s.`, { headers: { 'retry-after': String(retryAfter) } });

export const webmentionRoutes: FastifyPluginAsyncTypebox<WebmentionRoutesOptions> = async (app, { webmention, limits, apiUrl }) => {
  // the app may parse forms already (comments take them too); the route's bodyLimit caps ours either way

  app.post(
    '/webmention',
    {
      bodyLimit: WEBMENTION_BODY_LIMIT,
      schema: {
        tags: ['webmention'],
        summary: 'Receive a Webmention',
        description: [
          'W3C Webmention receiver. Send `source` (the page that links to us) and `target` (one of our article permalinks) as `application/x-www-form-urlencoded`.',
          'The request is checked at once (absolute http(s) URLs, different pages, the target a published article that accepts pings) and answered **400** with the reason otherwise.',
          'Accepted requests answer **202** with `Location` naming a status resource; the source is then fetched and verified in the background (at most 5 s, the first 1 MB, 5 redirects, public addresses only).',
          'Sending the same source and target again re-verifies: the mention is updated, or removed when the source answers 410 or no longer links to the target.',
          'Rate-limited per client and per target article (`RATE_LIMIT_WRITES`, shared with pingbacks): **429** with `Retry-After` beyond it.',
        ].join('\n\n'),
        consumes: ['application/x-www-form-urlencoded'],
        body: Type.Object(
          { source: Url('The URL of the page that mentions the target'), target: Url('The permalink of our article that is mentioned') },
          { additionalProperties: true },
        ),
        response: {
          202: {
            ...WebmentionStatusSchema,
            description: 'Accepted for verification',
            headers: { Location: { type: 'string', format: 'uri', description: 'The status resource of this request: `GET /webmention/{id}`' } },
          },
          ...problems(400, 413, 415),
          429: { ...problems(429)[429], headers: { 'Retry-After': { type: 'integer', description: 'Seconds until this client (or this article) may send again' } } },
        },
      },
    },
    async (req, reply) => {
      const client = await limits.client(req, reply);
      if (!client.allowed) throw tooMany(client.retryAfter, 'requests from this client');
      const view = await webmention.receive(
        { source: req.body.source, target: req.body.target },
        { ip: req.ip, userAgent: req.headers['user-agent'] },
        {
          admitTarget: async (articleId) => {
            const v = await limits.target(req, articleId);
            if (!v.allowed) throw tooMany(v.retryAfter, 'webmentions for this article');
          },
        },
      );
      reply.code(202).header('location', `${apiUrl}/webmention/${view.id}`).header('cache-control', 'no-store');
      return json(view);
    },
  );

  app.get(
    '/webmention/:id',
    {
      schema: {
        tags: ['webmention'],
        summary: 'Status of a received Webmention',
        description: 'The status resource named by the `Location` of a `POST /webmention` answer.',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The id from `Location`' }) }),
        response: { 200: WebmentionStatusSchema, ...problems(404) },
      },
    },
    async (req, reply) => {
      const view = await webmention.status(req.params.id);
      if (!view) throw notFound('This webmention');
      reply.header('cache-control', 'no-store');
      return json(view);
    },
  );
};
