// Moderation: the queues, and approve / spam / trash / delete for one or many.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../http/errors.ts';
import type { DeskContext } from './desk.plugin.ts';
import { DESK } from './pages/layout.ts';
import { MODERATION_ACTIONS, moderationPage, QUEUES, type ModerationAction } from './pages/moderation.page.ts';

type Form = Record<string, unknown>;
const list = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
const isAction = (a: string): a is ModerationAction => Object.hasOwn(MODERATION_ACTIONS, a);
const DONE: Record<ModerationAction, string> = { approve: 'Approved', spam: 'Marked as spam', trash: 'Moved to the trash', delete: 'Deleted' };

export async function moderationRoutes(app: FastifyInstance, ctx: DeskContext): Promise<void> {
  const { desk, sendPage, viewer } = ctx;

  app.get('/moderation', { schema: { hide: true }, preHandler: ctx.get('moderation') }, async (req, reply) => {
    const q = req.query as Form;
    const queue = QUEUES.find((s) => s === q.queue) ?? 'pending';
    const pageNo = typeof q.page === 'string' && /^[1-9]\d{0,4}$/.test(q.page) ? Number(q.page) : 1;
    const responses = await desk.listResponses(queue, pageNo);
    const emails = [...new Set(responses.data.map((r) => r.authorEmail).filter((e): e is string => Boolean(e)))];
    const approved = await desk.approvedByEmail(emails);
    return sendPage(reply, 200, moderationPage(viewer(req, reply), { queue, list: responses, approved, notice: ctx.notice(req) }));
  });

  app.post('/moderation', { schema: { hide: true }, preHandler: ctx.post('moderation') }, async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const queue = QUEUES.find((s) => s === f.queue) ?? 'pending';
    // one button ("approve:12") or the bulk buttons with the ticked boxes
    const [one] = list(f.one);
    const [action, ids] = one ? [one.split(':')[0], [one.split(':')[1]]] : [list(f.bulk)[0] ?? '', list(f.ids)];
    if (!isAction(action)) throw new AppError('bad-request', 'Choose approve, spam, trash or delete.');
    const numbers = ids.filter((id) => /^[1-9]\d{0,9}$/.test(id)).map(Number);
    if (!numbers.length) {
      req.session.notice = 'Tick the responses first.';
      return reply.redirect(`${DESK}/moderation${queue === 'pending' ? '' : `?queue=${queue}`}`, 303);
    }
    let done = 0;
    for (const id of numbers) {
      try {
        const status = MODERATION_ACTIONS[action];
        if (status === null) await desk.deleteResponse(id);
        else await desk.moderate(id, status);
        done++;
      } catch (e) {
        // gone meanwhile (another editor): the rest still count
        if (!(e instanceof AppError && e.code === 'not-found')) throw e;
      }
    }
    req.session.notice = `${DONE[action]}: ${done} response${done === 1 ? '' : 's'}.`;
    return reply.redirect(`${DESK}/moderation${queue === 'pending' ? '' : `?queue=${queue}`}`, 303);
  });
}
