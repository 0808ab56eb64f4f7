// Admin routes for outgoing pings (mounted under /v1/admin, token required): what each
// linked page was told, by which protocol, what it answered, and a retry.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { notFound } from '../../http/errors.ts';
import { ADMIN_SECURITY, adminQueueQuery, DateTime, Nullable, problems } from '../../http/schemas.ts';
import { pageMeta } from '../../lib/pagination.ts';
import type { OutgoingPing } from './outgoing.repository.ts';
import type { OutgoingPings } from './outgoing.service.ts';
import type { OutgoingPingStatus } from './outgoing.table.ts';


// spelled out (not mapped) so the type provider infers the literal union
const StatusSchema = Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('unsupported')], {
  description:
    '`queued` waits for its (next) attempt (`nextAttemptAt`, `lastError`); `sent` the other side accepted it (any 2xx from a Webmention endpoint, a pingback success or fault 48 "already registered"); ' +
    '`failed` refused for good, or still failing after 8 attempts over about two hours (`lastError`); `unsupported` the page advertises neither Webmention nor pingback.',
});

type SameStatuses = [Static<typeof StatusSchema>] extends [OutgoingPingStatus] ? ([OutgoingPingStatus] extends [Static<typeof StatusSchema>] ? true : never) : never;
const sameStatuses: SameStatuses = true;
void sameStatuses;

const PingSchema = Type.Object(
  {
    id: Type.Integer(),
    articleId: Type.Integer(),
    source: Type.String({ description: 'Our article permalink, sent as the source' }),
    target: Type.String({ description: 'The linked page, exactly as written in the article' }),
    reason: Type.Union([Type.Literal('linked'), Type.Literal('unlinked')], {
      description: '`linked`: the article links to the target · `unlinked`: an update removed the link; a Webmention tells the target so it can drop the mention',
    }),
    status: StatusSchema,
    protocol: Nullable(Type.Union([Type.Literal('webmention'), Type.Literal('pingback')], { description: 'What discovery found (Webmention is preferred)' })),
    endpoint: Nullable(Type.String({ description: 'The discovered endpoint' })),
    attempts: Type.Integer({ description: 'Attempts since it was last queued' }),
    lastError: Nullable(Type.String({ description: 'Why the last attempt did not succeed' })),
    result: Nullable(Type.String({ description: 'What the other side answered on success' })),
    nextAttemptAt: Nullable(DateTime('When the next attempt is due, while retrying')),
    sentAt: Nullable(DateTime('When it was accepted')),
    createdAt: DateTime('When the link was first queued'),
    updatedAt: DateTime('Last change'),
  },
  { title: 'OutgoingPing', description: 'A pingback or Webmention we send for one external link of an article' },
);

const ListQuery = adminQueueQuery(StatusSchema, 'Only the pings of this article id');

const ListResponse = Type.Object({ data: Type.Array(PingSchema), meta: Type.Ref('PaginationMeta') });

const security = ADMIN_SECURITY;

const view = (p: OutgoingPing) => ({
  id: p.id,
  articleId: p.articleId,
  source: p.sourceUrl,
  target: p.targetUrl,
  reason: p.reason,
  status: p.status,
  protocol: p.protocol,
  endpoint: p.endpoint,
  attempts: p.attempts,
  lastError: p.lastError,
  result: p.result,
  nextAttemptAt: p.nextAttemptAt?.toISOString() ?? null,
  sentAt: p.sentAt?.toISOString() ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export const pingAdminRoutes: FastifyPluginAsyncTypebox<{ pings: OutgoingPings }> = async (app, { pings }) => {
  app.get(
    '/pings',
    {
      schema: {
        tags: ['admin'],
        summary: 'List outgoing pings',
        description:
          'One row per external link of each published article: whether the linked page was told (by Webmention or pingback), what it answered, or why not. ' +
          'Most recent activity first. Transient failures (network, timeouts, 429/5xx, pingback faults 0, 0x10, 0x31, 0x32) are retried with exponential backoff.',
        security,
        querystring: ListQuery,
        response: { 200: ListResponse, ...problems(400, 401) },
      },
    },
    async (req) => {
      const { status, article, page, limit } = req.query;
      const { data, total } = await pings.list({ status, articleId: article }, { page, limit });
      return { data: data.map(view), meta: { pagination: pageMeta({ page, limit, total }) } };
    },
  );

  app.post(
    '/pings/:id/retry',
    {
      schema: {
        tags: ['admin'],
        summary: 'Send an outgoing ping again',
        description:
          'Queues the ping for an attempt now, whatever its status, with a fresh attempt budget: discovery runs again, so a page that has since added an endpoint is reached. ' +
          'A retry of a `sent` ping sends it again (receivers treat a repeat as an update).',
        security,
        params: Type.Object({ id: Type.Integer({ minimum: 1, description: 'Ping id' }) }),
        response: { 202: { ...PingSchema, description: 'Queued' }, ...problems(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const ping = await pings.retry(req.params.id);
      if (!ping) throw notFound('This ping');
      reply.code(202);
      return view(ping);
    },
  );
};
