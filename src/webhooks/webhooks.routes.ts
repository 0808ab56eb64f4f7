import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime, Nullable, problems } from '../http/schemas.ts';
import { WEBHOOK_EVENT_TYPES } from '../events/content-events.ts';
import type { WebhooksService } from './webhooks.service.ts';

const EventName = Type.String({ maxLength: 60, description: `One of ${WEBHOOK_EVENT_TYPES.join(', ')}` });
const Webhook = Type.Object(
  {
    id: Type.Integer(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Type.String(),
    enabled: Type.Boolean(),
    disabledReason: Nullable(Type.String({ description: 'Why Inkwell disabled it (the receiver answered 410)' })),
    previousSecretUntil: Nullable(DateTime('After a rotation: until then deliveries also carry the signature of the previous secret')),
    createdAt: DateTime('Creation time'),
    updatedAt: DateTime('Last change'),
  },
  { $id: 'Webhook', title: 'Webhook' },
);
const WithSecret = Type.Intersect([Type.Ref('Webhook'), Type.Object({ secret: Type.String({ description: 'The signing secret (`whsec_` + base64); shown only here' }) })]);
const Delivery = Type.Object(
  {
    id: Type.String({ description: 'The `webhook-id` header, the same on every attempt' }),
    eventType: Type.String(),
    status: Type.Union([Type.Literal('queued'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    lastAttemptAt: Nullable(DateTime('Last attempt')),
    nextAttemptAt: Nullable(DateTime('Next attempt, while queued')),
    deliveredAt: Nullable(DateTime('When a 2xx answer came')),
    createdAt: DateTime('When the event happened'),
    payload: Type.Object({ type: Type.String(), timestamp: Type.String(), data: Type.Object({}, { additionalProperties: true }) }, { description: 'The body sent' }),
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery' },
);
export const webhookComponentSchemas = [Webhook, Delivery];

const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
const security = [{ bearerAuth: [] }];
const tags = ['webhooks'];

/** Admin: subscriptions and their deliveries. Mounted under /v1/admin. */
export const webhookAdminRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhooksService }> = async (app, { webhooks }) => {
  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        security,
        summary: 'Subscribe a URL to events',
        description:
          'Deliveries follow Standard Webhooks 1.0: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`; body `{ type, timestamp, data }`. ' +
          'Queued in the transaction of the change; retried after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then `failed`; a 410 answer disables the webhook; redirects are not followed. ' +
          'Any http(s) URL, private addresses included.',
        body: Type.Object(
          { url: Type.String({ minLength: 1, maxLength: 2000 }), events: Type.Array(EventName, { minItems: 1, maxItems: 20 }), description: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 201: WithSecret, ...problems(400, 401, 409) },
      },
    },
    async (req, reply) => {
      const created = await webhooks.create(req.body);
      return reply.code(201).header('location', `/v1/admin/webhooks/${created.id}`).send(created);
    },
  );
  app.get('/webhooks', { schema: { tags, security, summary: 'List webhooks', response: { 200: Type.Object({ data: Type.Array(Type.Ref('Webhook')) }), ...problems(401) } } }, async () => ({
    data: await webhooks.list(),
  }));
  app.get('/webhooks/:id', { schema: { tags, security, summary: 'Get a webhook', params: IdParam, response: { 200: Type.Ref('Webhook'), ...problems(401, 404) } } }, async (req) =>
    webhooks.get(req.params.id),
  );
  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Change a webhook, or rotate its secret',
        description: '`rotateSecret: true` answers the new `secret` (shown only here); for 24 hours deliveries carry the signatures of both secrets, space-separated.',
        params: IdParam,
        body: Type.Object(
          {
            url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
            events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 20 })),
            description: Type.Optional(Type.String({ maxLength: 500 })),
            enabled: Type.Optional(Type.Boolean()),
            rotateSecret: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Type.Intersect([Type.Ref('Webhook'), Type.Object({ secret: Type.Optional(Type.String({ description: 'The new secret, after `rotateSecret`' })) })]), ...problems(400, 401, 404, 409) },
      },
    },
    async (req) => webhooks.update(req.params.id, req.body),
  );
  app.delete(
    '/webhooks/:id',
    { schema: { tags, security, summary: 'Delete a webhook and its delivery log', params: IdParam, response: { 204: Type.Null({ description: 'Deleted' }), ...problems(401, 404) } } },
    async (req, reply) => {
      await webhooks.remove(req.params.id);
      return reply.code(204).send(null);
    },
  );
  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        security,
        summary: 'The delivery log of a webhook, newest first',
        params: IdParam,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Ref('WebhookDelivery')) }), ...problems(400, 401, 404) },
      },
    },
    async (req) => webhooks.deliveries(req.params.id, req.query),
  );
  app.post(
    '/webhooks/:id/deliveries/:deliveryId/retry',
    {
      schema: {
        tags,
        security,
        summary: 'Send a delivery again now',
        description: 'Same `webhook-id` and body. A delivery still queued answers 409.',
        params: Type.Object({ id: IdParam.properties.id, deliveryId: Type.String({ maxLength: 64 }) }),
        response: { 202: Type.Ref('WebhookDelivery'), ...problems(401, 404, 409) },
      },
    },
    async (req, reply) => reply.code(202).send(await webhooks.retry(req.params.id, req.params.deliveryId)),
  );
  app.post(
    '/webhooks/:id/test',
    {
      schema: { tags, security, summary: 'Send a `webhook.test` event to this webhook', params: IdParam, response: { 202: Type.Ref('WebhookDelivery'), ...problems(401, 404) } },
    },
    async (req, reply) => reply.code(202).send(await webhooks.test(req.params.id)),
  );
};
