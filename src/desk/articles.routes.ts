// Writing: the article list, the editor (save, preview, schedule, publish, unpublish),
// the feature image upload, the site preview link and delete. Every write goes through
// the articles service with the ETag the editor loaded: a lost update becomes a conflict page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AdminArticleView } from '../articles/articles.schemas.ts';
import type { UpdateArticleInput } from '../articles/articles.schemas.ts';
import { AppError, type FieldError } from '../http/errors.ts';
import type { DeskContext } from './desk.plugin.ts';
import { articleListPage, conflictPage, deletePage, editorPage, STATUSES, type EditorValues } from './pages/articles.page.ts';
import { DESK, type Viewer } from './pages/layout.ts';
import { isZone, localToUtc, showTime, utcToLocal } from './time.ts';

const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
/** a long article, form-encoded, is larger than the 64 kB other forms get */
const EDITOR_BODY_LIMIT = 2 * 1024 * 1024;
const ACTIONS = ['save', 'preview', 'schedule', 'publish', 'unpublish'] as const;
type Action = (typeof ACTIONS)[number];

type Form = Record<string, unknown>;
const field = (f: Form, k: string): string => {
  const v = Array.isArray(f[k]) ? (f[k] as unknown[])[0] : f[k];
  return typeof v === 'string' ? v : '';
};

function readForm(req: FastifyRequest): EditorValues {
  const f = (req.body && typeof req.body === 'object' ? req.body : {}) as Form;
  const zone = field(f, 'zone');
  return {
    title: field(f, 'title'),
    slug: field(f, 'slug').trim(),
    format: field(f, 'format') === 'html' ? 'html' : 'markdown',
    body: field(f, 'body').replace(/\r\n/g, '\n'),
    excerpt: field(f, 'excerpt'),
    tags: field(f, 'tags'),
    authorSlug: field(f, 'authorSlug').trim(),
    commentsOpen: field(f, 'commentsOpen') === 'on',
    pingsOpen: field(f, 'pingsOpen') === 'on',
    announce: field(f, 'announce') === 'on',
    publishAt: field(f, 'publishAt'),
    zone: isZone(zone) ? zone : 'UTC',
    removeImage: field(f, 'removeImage') === 'on',
  };
}

export function valuesOf(a: AdminArticleView, zone: string): EditorValues {
  return {
    title: a.title,
    slug: a.slug,
    format: a.markdown !== null ? 'markdown' : 'html',
    body: a.markdown ?? a.html,
    excerpt: a.customExcerpt ? a.excerpt : '',
    tags: a.tags.map((t) => t.name).join(', '),
    authorSlug: a.author?.slug ?? '',
    commentsOpen: a.commentsOpen,
    pingsOpen: a.pingsOpen,
    announce: a.announce,
    publishAt: a.publishAt ? utcToLocal(a.publishAt, zone) : '',
    zone,
    removeImage: false,
  };
}

const NEW_ARTICLE = (zone: string): EditorValues => ({
  title: '', slug: '', format: 'markdown', body: '', excerpt: '', tags: '', authorSlug: '',
  commentsOpen: true, pingsOpen: true, announce: true, publishAt: '', zone, removeImage: false,
});

/** The service's input for what the form holds and the button pressed; `errors` for what the form itself got wrong. */
function toInput(v: EditorValues, action: Action, current?: AdminArticleView): { input: UpdateArticleInput & { title: string }; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const input: UpdateArticleInput & { title: string } = {
    title: v.title,
    ...(v.format === 'markdown' ? { markdown: v.body } : { html: v.body }),
    excerpt: v.excerpt,
    tags: v.tags.split(',').map((t) => t.trim()).filter(Boolean),
    authorSlug: v.authorSlug || null,
    commentsOpen: v.commentsOpen,
    pingsOpen: v.pingsOpen,
    announce: v.announce,
  };
  if (v.slug) input.slug = v.slug;
  if (v.removeImage) input.featureImage = null;
  const status = { publish: 'published', schedule: 'scheduled', unpublish: 'draft', save: current ? undefined : 'draft', preview: undefined }[action] as UpdateArticleInput['status'];
  if (status) input.status = status;
  if (action === 'schedule' || (action === 'save' && current?.status === 'scheduled')) {
    const at = v.publishAt ? localToUtc(v.publishAt, v.zone) : null;
    if (!at) errors.push({ pointer: '/body/publishAt', message: v.publishAt ? 'is not a date and time' : 'pick the date and time to publish at' });
    else input.publishAt = at.toISOString();
  }
  return { input, errors };
}

const NOTICE: Record<Action, string> = { save: 'Saved.', preview: '', schedule: 'Scheduled.', publish: 'Published.', unpublish: 'Unpublished: back to draft.' };

export async function articleRoutes(app: FastifyInstance, ctx: DeskContext): Promise<void> {
  const { desk, sendPage, viewer } = ctx;
  const hide = { hide: true };

  app.get('/articles', { schema: hide, preHandler: ctx.get('articles') }, async (req, reply) => {
    const q = req.query as Form;
    const status = STATUSES.find((s) => s === field(q, 'status'));
    const search = field(q, 'q').trim().slice(0, 200) || undefined;
    const pageNo = /^[1-9]\d{0,4}$/.test(field(q, 'page')) ? Number(field(q, 'page')) : 1;
    const list = await desk.listArticles({ status, q: search, page: pageNo });
    return sendPage(reply, 200, articleListPage(viewer(req, reply), { status, q: search, list, notice: ctx.notice(req) }));
  });

  app.get('/articles/new', { schema: hide, preHandler: ctx.get('articles') }, async (req, reply) => {
    const v = viewer(req, reply);
    return sendPage(reply, 200, editorPage(v, { values: NEW_ARTICLE(v.zone) }));
  });

  app.get('/articles/:id', { schema: { ...hide, params: IdParams }, preHandler: ctx.get('articles') }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const v = viewer(req, reply);
    const { article, etag } = await desk.getArticle(id);
    return sendPage(reply, 200, editorPage(v, { article, etag, values: valuesOf(article, v.zone), notice: ctx.notice(req) }));
  });

  /** the editor again, with what was typed, the errors, or the preview */
  async function again(req: FastifyRequest, reply: FastifyReply, v: Viewer, values: EditorValues, id: number | undefined, extra: { errors?: FieldError[]; problem?: string; preview?: string; status: number }) {
    const loaded = id ? await desk.getArticle(id) : undefined;
    const etag = field(req.body as Form, 'version') || loaded?.etag;
    return sendPage(reply, extra.status, editorPage(v, { article: loaded?.article, etag, values, errors: extra.errors, problem: extra.problem, preview: extra.preview }));
  }

  async function save(req: FastifyRequest, reply: FastifyReply, id?: number) {
    const values = readForm(req);
    req.session.zone = values.zone;
    const v = viewer(req, reply);
    const action = ACTIONS.find((a) => a === field(req.body as Form, 'action')) ?? 'save';
    if (action === 'preview') return again(req, reply, v, values, id, { preview: desk.renderBody(values.format, values.body), status: 200 });

    const current = id ? (await desk.getArticle(id)).article : undefined;
    const { input, errors } = toInput(values, action, current);
    if (errors.length) return again(req, reply, v, values, id, { errors, status: 400 });
    try {
      const saved = id ? await desk.updateArticle(id, input, field(req.body as Form, 'version') || '"none"') : await desk.createArticle(input);
      req.session.notice = action === 'schedule' ? `Scheduled for ${showTime(saved.article.publishAt, values.zone)}.` : NOTICE[action];
      return reply.redirect(`${DESK}/articles/${saved.article.id}`, 303);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      if (e.code === 'precondition-failed' && id) {
        const { article, etag } = await desk.getArticle(id);
        return sendPage(reply, 412, conflictPage(v, { saved: article, etag, mine: values, action, savedValues: valuesOf(article, values.zone) }));
      }
      if (e.code === 'validation') return again(req, reply, v, values, id, { errors: e.extras.errors, problem: e.extras.errors?.length ? undefined : e.detail, status: 400 });
      if (e.code === 'conflict' || e.code === 'not-found') return again(req, reply, v, values, id, { problem: e.detail, status: e.status });
      throw e;
    }
  }

  app.post('/articles', { schema: hide, bodyLimit: EDITOR_BODY_LIMIT, preHandler: ctx.post('articles') }, (req, reply) => save(req, reply));
  app.post('/articles/:id', { schema: { ...hide, params: IdParams }, bodyLimit: EDITOR_BODY_LIMIT, preHandler: ctx.post('articles') }, (req, reply) =>
    save(req, reply, (req.params as { id: number }).id),
  );

  app.post('/articles/:id/image', { schema: { ...hide, params: IdParams }, preHandler: ctx.get('articles') }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const upload = await desk.receiveImage(req);
    try {
      if (!ctx.csrfPasses(req, reply, upload.fields._csrf)) return reply;
      const media = await desk.storeImage(upload);
      await desk.setFeatureImage(id, media.id);
    } finally {
      await upload.dispose();
    }
    req.session.notice = 'The feature image is uploaded and set.';
    return reply.redirect(`${DESK}/articles/${id}`, 303);
  });

  app.post('/articles/:id/preview-link', { schema: { ...hide, params: IdParams }, preHandler: ctx.post('articles') }, async (req, reply) => {
    const { url } = await desk.previewLink((req.params as { id: number }).id);
    return reply.redirect(url, 303);
  });

  app.get('/articles/:id/delete', { schema: { ...hide, params: IdParams }, preHandler: ctx.get('articles') }, async (req, reply) => {
    const { article } = await desk.getArticle((req.params as { id: number }).id);
    return sendPage(reply, 200, deletePage(viewer(req, reply), article));
  });

  app.post('/articles/:id/delete', { schema: { ...hide, params: IdParams }, preHandler: ctx.post('articles') }, async (req, reply) => {
    const { id } = req.params as { id: number };
    const { article } = await desk.getArticle(id);
    await desk.deleteArticle(id);
    req.session.notice = `“${article.title}” is deleted.`;
    return reply.redirect(`${DESK}/articles`, 303);
  });
}
