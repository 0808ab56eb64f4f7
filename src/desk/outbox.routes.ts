// What went out: announcements, outgoing pings, webhooks and their deliveries; retry each.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../http/errors.ts';
import type { DeskContext } from './desk.plugin.ts';
import { DESK } from './pages/layout.ts';
import { deliveriesPage, outboxPage } from './pages/outbox.page.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

export async function outboxRoutes(app: FastifyInstance, ctx: DeskContext): Promise<void> {
  const { desk, sendPage, viewer } = ctx;
  const page = { preHandler: ctx.get('outbox') };
  const post = { preHandler: ctx.post('outbox') };

  app.get('/outbox', { schema: { hide: true }, ...page }, async (req, reply) => {
    const [announcements, pings, webhooks] = await Promise.all([desk.announcements(1), desk.pings(1), desk.webhooks()]);
    return sendPage(reply, 200, outboxPage(viewer(req, reply), { announcements: announcements.items, sending: announcements.sending, pings: pings.data, webhooks, notice: ctx.notice(req) }));
  });

  app.get('/outbox/webhooks/:id', { schema: { hide: true, params: IdParams }, ...page }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const webhook = (await desk.webhooks()).find((w) => w.id === id);
    if (!webhook) throw new AppError('not-found', `Webhook ${id} was not found.`);
    const { data } = await desk.deliveries(id);
    return sendPage(reply, 200, deliveriesPage(viewer(req, reply), { webhook, deliveries: data, notice: ctx.notice(req) }));
  });

  /** a retry the service refuses (already posted, queued already) is a message, not an error page */
  async function retry(req: FastifyRequest, reply: FastifyReply, to: string, run: () => Promise<unknown>, done: string) {
    try {
      await run();
      req.session.notice = done;
    } catch (e) {
      if (!(e instanceof AppError && (e.code === 'conflict' || e.code === 'not-found'))) throw e;
      req.session.notice = e.detail;
    }
    return reply.redirect(to, 303);
  }

  app.post('/outbox/announcements/:id/retry', { schema: { hide: true, params: IdParams }, ...post }, (req, reply) =>
    retry(req, reply, `${DESK}/outbox`, () => desk.retryAnnouncement((req.params as { id: number }).id), 'The announcement is queued again.'),
  );
  app.post('/outbox/pings/:id/retry', { schema: { hide: true, params: IdParams }, ...post }, (req, reply) =>
    retry(
      req,
      reply,
      `${DESK}/outbox`,
      async () => {
        if (!(await desk.retryPing((req.params as { id: number }).id))) throw new AppError('not-found', 'That ping was not found.');
      },
      'The ping is queued again.',
    ),
  );
  app.post(
    '/outbox/webhooks/:id/deliveries/:deliveryId/retry',
    { schema: { hide: true, params: Type.Object({ id: IdParams.properties.id, deliveryId: Type.String({ maxLength: 100 }) }) }, ...post },
    (req, reply) => {
      const { id, deliveryId } = req.params as { id: number; deliveryId: string };
      return retry(req, reply, `${DESK}/outbox/webhooks/${id}`, () => desk.retryDelivery(id, deliveryId), 'The delivery is sent again.');
    },
  );
}
