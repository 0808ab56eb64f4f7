// Articles: the rules and the transactions. Publishing happens in one transaction
// that also runs the publishing listeners (announcements, outgoing pings…), so
// their outbox rows commit or roll back with the article.
import { sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { isUniqueViolation, type Db } from '../db/client.ts';
import { enqueue, RescheduleJob, type Job } from '../jobs/kernel.ts';
import { AppError, notFound, type FieldError } from '../http/errors.ts';
import { excerptOf, htmlToText, markdownToHtml, readingTimeMinutes, sanitizeArticleHtml, stripBidi } from '../lib/html.ts';
import { isSlug, toSlug } from '../lib/slug.ts';
import { CursorError, decodeCursor, encodeCursor, fingerprint, pageMeta, type PageMeta } from '../lib/pagination.ts';
import { authorIdBySlug, ensureTags } from '../taxonomy/taxonomy.repository.ts';
import * as repo from './articles.repository.ts';
import type { ArticleRecord, ListFilter, ListOrder, PublicArticleRecord } from './articles.repository.ts';
import { Article, type AdminArticleView, type ArticleView, type CreateArticleInput, type ListArticlesParams, type UpdateArticleInput } from './articles.schemas.ts';
import type { ArticleStatus } from './articles.table.ts';
import { permalinkFor } from './permalink.ts';
import type { MediaService } from '../media/media.service.ts';
import type { PublishedArticle, PublishingEvents } from './publishing.ts';
import type { ArticleEventData, ContentEvents, Emit } from '../events/content-events.ts';

export const PUBLISH_JOB = 'article.publish';

/** Queues the job that publishes scheduled article `id` at `at`, or moves the one already queued. */
export async function enqueuePublish(tx: Db, id: number, at: Date): Promise<void> {
  const key = `article:${id}`;
  const queued = await enqueue(tx, { kind: PUBLISH_JOB, key, payload: { articleId: id }, runAt: at, maxAttempts: 20 });
  if (queued === null) {
    await tx.execute(sql`update jobs set run_at = ${at.toISOString()}::timestamptz, updated_at = now()
                         where kind = ${PUBLISH_JOB} and key = ${key} and status = 'queued'`);
  }
}

/** Per article: its announcement on X (`announcement`) and the pages of its posted announcements (`syndication`). */
export type AnnouncementLookup = (
  db: Db,
  articleIds: number[],
) => Promise<Map<number, { announcement: { status: string; url: string | null } | null; syndication: { network: string; url: string }[] }>>;

export interface ArticlesDeps {
  db: Db;
  config: Config;
  publishing: PublishingEvents;
  /** wakes the job runner after scheduling (tests drain by hand) */
  nudgeJobs?: () => void;
  /** every change public reads can see is announced here (in the transaction, then after commit) */
  events: ContentEvents;
  /** filled by the announcements module, when wired */
  announcements?: AnnouncementLookup;
  /** the media library: feature images, and library images inside the HTML */
  media?: MediaService;
}

export interface ArticleList {
  data: ArticleView[];
  meta: { pagination: PageMeta };
}

const invalid = (errors: FieldError[]) =>
  new AppError('validation', errors.map((e) => `${e.pointer} ${e.message}`).join('; '), { errors });

/** Parses an ISO 8601 date or date-time; a bare date is midnight UTC (`endOfDay` → the next midnight). */
function parseDateParam(value: string, name: string, endOfDay = false): Date {
  const m = /^\d{4}-\d{2}-\d{2}$/.exec(value);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
  const d = m ? new Date(`${value}T00:00:00Z`) : iso.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw invalid([{ pointer: `/query/${name}`, message: 'must be an ISO 8601 date (2026-01-31) or date-time (2026-01-31T12:00:00Z)' }]);
  if (m && endOfDay) d.setUTCDate(d.getUTCDate() + 1);
  return d;
}

/** The fields `fields=` may name: the public article shape's, read from its schema (new fields join by themselves). */
export const ARTICLE_FIELDS = Object.keys(Article.properties);

/** `fields=title,slug` → the names, or a 400 that lists the valid ones. */
function parseFields(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = [...new Set(raw.split(',').map((f) => f.trim()).filter(Boolean))];
  const unknown = names.filter((f) => !ARTICLE_FIELDS.includes(f));
  if (unknown.length || !names.length) {
    const what = unknown.length ? `has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `"${f}"`).join(', ')}` : 'names no field';
    throw invalid([{ pointer: '/query/fields', message: `${what}; valid fields: ${ARTICLE_FIELDS.join(', ')}` }]);
  }
  return names;
}

export class ArticlesService {
  constructor(private readonly deps: ArticlesDeps) {}

  private get db() {
    return this.deps.db;
  }

  // ---------- views ----------

  url(a: Pick<ArticleRecord, 'id' | 'slug' | 'publishedAt'>): string {
    return permalinkFor(this.deps.config, a);
  }

  private async views(db: Db, records: PublicArticleRecord[], fields?: readonly string[]): Promise<ArticleView[]> {
    const full = await this.fullViews(db, records, fields);
    if (!fields) return full;
    // a sparse read: exactly the fields asked for (the record held only what they need)
    return full.map((v) => Object.fromEntries(fields.map((f) => [f, v[f as keyof ArticleView]])) as ArticleView);
  }

  private async fullViews(db: Db, records: PublicArticleRecord[], fields?: readonly string[]): Promise<ArticleView[]> {
    const wantsAnnouncements = !fields || fields.includes('announcement');
    const announcements = this.deps.announcements && records.length && wantsAnnouncements ? await this.deps.announcements(db, records.map((r) => r.id)) : new Map();
    return records.map((r) => ({
      id: r.id,
      slug: r.slug,
      title: r.title,
      excerpt: r.excerpt,
      html: r.html,
      status: r.status,
      publishedAt: r.publishedAt?.toISOString() ?? null,
      updatedAt: r.updatedAt.toISOString(),
      url: this.url(r),
      author: r.author,
      tags: r.tags,
      readingTimeMinutes: r.readingTimeMinutes,
      commentsOpen: r.commentsOpen,
      pingsOpen: r.pingsOpen,
      counts: r.counts,
      announcement: announcements.get(r.id)?.announcement ?? null,
      syndication: announcements.get(r.id)?.syndication ?? [],
      featureImage: this.deps.media?.featureImage(r.featureImage) ?? null,
    }));
  }

  private async adminView(db: Db, r: ArticleRecord): Promise<AdminArticleView> {
    return (await this.adminViews(db, [r]))[0];
  }

  /** one announcements query for the whole page */
  private async adminViews(db: Db, records: ArticleRecord[]): Promise<AdminArticleView[]> {
    const views = await this.views(db, records);
    return records.map((r, i) => ({
      ...views[i],
      markdown: r.markdown,
      customExcerpt: r.customExcerpt,
      publishAt: r.publishAt?.toISOString() ?? null,
      announce: r.announce,
      version: r.version,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  static etag(r: { id: number; version: number }): string {
    return `"article-${r.id}-v${r.version}"`;
  }

  private published(r: ArticleRecord): PublishedArticle {
    return {
      id: r.id,
      slug: r.slug,
      title: r.title,
      excerpt: r.excerpt,
      html: r.html,
      url: this.url(r),
      publishedAt: r.publishedAt ?? new Date(),
      author: r.author,
      tags: r.tags,
      announce: r.announce,
      pingsOpen: r.pingsOpen,
    };
  }

  // ---------- public reads ----------

  async listPublic(params: ListArticlesParams): Promise<ArticleList> {
    const limit = params.limit ?? 20;
    const order: ListOrder = params.order ?? (params.q ? 'relevance' : '-publishedAt');
    if (order === 'relevance' && !params.q) throw invalid([{ pointer: '/query/order', message: 'relevance needs a search query `q`' }]);
    if (params.after && params.page) throw invalid([{ pointer: '/query/after', message: 'use either `after` or `page`, not both' }]);
    if (params.after && order === 'relevance') throw invalid([{ pointer: '/query/after', message: 'keyset paging works with date orders; use `page` with relevance' }]);
    const fields = parseFields(params.fields);
    const filter: ListFilter = {
      status: 'published',
      ids: params.id?.split(',').map(Number),
      tag: params.tag,
      author: params.author,
      q: params.q?.trim() || undefined,
      since: params.since ? parseDateParam(params.since, 'since') : undefined,
      until: params.until ? parseDateParam(params.until, 'until', true) : undefined,
    };
    const fp = fingerprint({ tag: filter.tag, author: filter.author, q: filter.q, since: params.since, until: params.until, order });
    let after: [string, number] | undefined;
    if (params.after) {
      try {
        const [at, id] = decodeCursor(params.after, fp, ['date', 'int']);
        after = [String(at), Number(id)];
      } catch (e) {
        if (e instanceof CursorError) throw invalid([{ pointer: '/query/after', message: e.message }]);
        throw e;
      }
    }
    const page = after ? null : (params.page ?? 1);
    const [records, total] = await Promise.all([
      repo.listArticles(this.db, { filter, order, limit: limit + 1, offset: page ? (page - 1) * limit : 0, after, fields }),
      repo.countArticles(this.db, filter),
    ]);
    const hasMore = records.length > limit;
    const shown = records.slice(0, limit);
    const last = shown.at(-1);
    const nextCursor = last && order !== 'relevance' && last.publishedAt ? encodeCursor([last.publishedAt.toISOString(), last.id], fp) : null;
    return {
      data: await this.views(this.db, shown, fields),
      meta: { pagination: pageMeta({ page, limit, total, nextCursor, hasMore }) },
    };
  }

  /** A public article, or `{ redirect }` to its current slug, or null. */
  async getPublic(slug: string, q: { fields?: string } = {}): Promise<{ article: ArticleView } | { redirect: string } | null> {
    const fields = parseFields(q.fields);
    const record = await repo.findPublicArticleBySlug(this.db, slug, fields);
    if (record) return { article: (await this.views(this.db, [record], fields))[0] };
    const redirect = await repo.findRedirect(this.db, slug);
    return redirect ? { redirect } : null;
  }

  /** An article in any status, as public reads show it (draft preview). */
  async previewView(id: number): Promise<ArticleView | null> {
    const record = await repo.findArticleById(this.db, id);
    return record ? (await this.views(this.db, [record]))[0] : null;
  }

  /** For the conversation's writes (comments, pingbacks, webmentions): a published article's id and flags. */
  async findPublicRef(slug: string): Promise<repo.ArticleRef | null> {
    return repo.findArticleRef(this.db, { slug });
  }

  /** The article behind an id, whatever its status (events name responses by their article's slug). */
  async findRefById(db: Db, id: number): Promise<repo.ArticleRef | null> {
    return repo.findArticleRef(db, { id });
  }

  /** For editors' filters (the moderation queue): the article behind a slug, whatever its status. */
  async findRef(slug: string): Promise<repo.ArticleRef | null> {
    return repo.findArticleRef(this.db, { slug, anyStatus: true });
  }

  // ---------- admin ----------

  async listAdmin(params: { status?: ArticleStatus; page?: number; limit?: number; q?: string }): Promise<{ data: AdminArticleView[]; meta: { pagination: PageMeta } }> {
    const limit = params.limit ?? 20;
    const page = params.page ?? 1;
    const filter: ListFilter = { status: params.status, q: params.q };
    const [records, total] = await Promise.all([
      repo.listArticles(this.db, { filter, order: '-updatedAt', limit, offset: (page - 1) * limit, source: true }),
      repo.countArticles(this.db, filter),
    ]);
    const data = await this.adminViews(this.db, records);
    return { data, meta: { pagination: pageMeta({ page, limit, total }) } };
  }

  async getAdmin(id: number): Promise<{ article: AdminArticleView; etag: string }> {
    const r = await repo.findArticleById(this.db, id);
    if (!r) throw notFound(`Article ${id}`);
    return { article: await this.adminView(this.db, r), etag: ArticlesService.etag(r) };
  }

  async create(input: CreateArticleInput): Promise<{ article: AdminArticleView; etag: string }> {
    const errors: FieldError[] = [];
    const body = this.renderBody(input, errors);
    const status = input.status ?? 'draft';
    const publishAt = this.checkSchedule(status, input.publishAt, errors);
    if (input.slug !== undefined && !isSlug(input.slug)) errors.push({ pointer: '/body/slug', message: 'must be lowercase letters, digits and single dashes' });
    const title = stripBidi(input.title).trim();
    if (!title) errors.push({ pointer: '/body/title', message: 'must not be blank' });
    if (errors.length) throw invalid(errors);
    if (body) body.html = await this.decorate(body.html);

    // a generated slug can lose a race with a concurrent create of the same title: take the next one
    for (let attempt = 0; ; attempt++) {
      try {
        const id = await this.write(async (tx, emit) => {
          const authorId = await this.resolveAuthor(tx, input.authorSlug);
          const slug = input.slug ?? (await this.uniqueSlug(tx, toSlug(title) || 'article'));
          if (input.slug !== undefined && (await repo.slugInUse(tx, slug))) throw new AppError('conflict', `The slug "${slug}" is already taken.`);
          const id = await repo.insertArticle(tx, {
            slug,
            title,
            ...body!,
            ...this.excerptFields(input.excerpt, body!.text),
            status: 'draft',
            publishAt,
            authorId,
            commentsOpen: input.commentsOpen ?? true,
            pingsOpen: input.pingsOpen ?? true,
            announce: input.announce ?? true,
            featureImageId: await this.featureImageId(tx, input.featureImage),
          });
          if (input.tags) await this.setTags(tx, emit, id, input.tags);
          await this.transition(tx, emit, id, 'draft', status);
          return id;
        });
        return this.getAdmin(id);
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'conflict' && input.slug === undefined && attempt < 5)) throw e;
      }
    }
  }

  async update(id: number, input: UpdateArticleInput, ifMatch?: string): Promise<{ article: AdminArticleView; etag: string }> {
    const errors: FieldError[] = [];
    const body = input.markdown !== undefined || input.html !== undefined ? this.renderBody(input, errors) : undefined;
    if (input.slug !== undefined && !isSlug(input.slug)) errors.push({ pointer: '/body/slug', message: 'must be lowercase letters, digits and single dashes' });
    const title = input.title !== undefined ? stripBidi(input.title).trim() : undefined;
    if (title === '') errors.push({ pointer: '/body/title', message: 'must not be blank' });
    if (errors.length) throw invalid(errors);
    if (body) body.html = await this.decorate(body.html);

    await this.write(async (tx, emit) => {
      const current = await repo.findArticleById(tx, id, { forUpdate: true });
      if (!current) throw notFound(`Article ${id}`);
      if (ifMatch !== undefined && !ifMatch.split(',').some((t) => t.trim() === ArticlesService.etag(current) || t.trim() === '*')) {
        throw new AppError('precondition-failed', `The article changed since you read it (now ${ArticlesService.etag(current)}); read it again and reapply your change.`);
      }
      const status = input.status ?? current.status;
      const publishAt =
        input.publishAt !== undefined || input.status !== undefined
          ? this.checkSchedule(status, input.publishAt === undefined ? current.publishAt?.toISOString() ?? null : input.publishAt, errors)
          : current.publishAt;
      if (errors.length) throw invalid(errors);

      const values: repo.ArticleInsert = { slug: current.slug, title: current.title, html: current.html };
      if (title !== undefined) values.title = title;
      if (body) Object.assign(values, body);
      const text = body?.text ?? current.text;
      if (input.excerpt !== undefined) Object.assign(values, this.excerptFields(input.excerpt, text));
      else if (body && !current.customExcerpt) values.excerpt = excerptOf(text);
      if (input.commentsOpen !== undefined) values.commentsOpen = input.commentsOpen;
      if (input.pingsOpen !== undefined) values.pingsOpen = input.pingsOpen;
      if (input.announce !== undefined) values.announce = input.announce;
      if (input.featureImage !== undefined) values.featureImageId = await this.featureImageId(tx, input.featureImage);
      if (input.authorSlug !== undefined) values.authorId = await this.resolveAuthor(tx, input.authorSlug);
      values.publishAt = publishAt;
      if (input.slug !== undefined && input.slug !== current.slug) {
        if (await repo.slugInUse(tx, input.slug, id)) throw new AppError('conflict', `The slug "${input.slug}" is already taken.`);
        values.slug = input.slug;
        await repo.renameSlug(tx, id, current.slug, input.slug);
      }
      await repo.updateArticle(tx, id, values);
      if (input.tags) await this.setTags(tx, emit, id, input.tags);

      if (status !== current.status) {
        await this.transition(tx, emit, id, current.status, status);
      } else if (status === 'published') {
        const after = (await repo.findArticleById(tx, id))!;
        if (values.html !== current.html || values.slug !== current.slug || values.title !== current.title) {
          await this.deps.publishing.updated(tx, this.published(after), { previousHtml: current.html });
        }
        await emit({ type: 'article.updated', data: this.eventData(after, current.slug) });
      } else if (status === 'scheduled') {
        await this.schedule(tx, id, publishAt!);
      }
    });
    return this.getAdmin(id);
  }

  async publish(id: number): Promise<{ article: AdminArticleView; etag: string }> {
    await this.write(async (tx, emit) => {
      const current = await repo.findArticleById(tx, id, { forUpdate: true });
      if (!current) throw notFound(`Article ${id}`);
      if (current.status !== 'published') await this.transition(tx, emit, id, current.status, 'published');
    });
    return this.getAdmin(id);
  }

  async unpublish(id: number): Promise<{ article: AdminArticleView; etag: string }> {
    await this.write(async (tx, emit) => {
      const current = await repo.findArticleById(tx, id, { forUpdate: true });
      if (!current) throw notFound(`Article ${id}`);
      if (current.status !== 'draft') await this.transition(tx, emit, id, current.status, 'draft');
    });
    return this.getAdmin(id);
  }

  async remove(id: number): Promise<void> {
    await this.write(async (tx, emit) => {
      const current = await repo.findArticleById(tx, id, { forUpdate: true });
      if (!current) throw notFound(`Article ${id}`);
      if (current.status === 'published') await this.deps.publishing.unpublished(tx, { id, slug: current.slug });
      await emit({ type: 'article.deleted', data: { ...this.eventData(current), wasPublished: current.status === 'published' } });
      await repo.deleteArticle(tx, id);
    });
  }

  /** The job that publishes a scheduled article when its time comes; safe to run twice or in two processes. */
  async publishDue(job: Job): Promise<void> {
    const id = Number(job.payload.articleId);
    let later: Date | null = null;
    await this.write(async (tx, emit) => {
      if (await repo.claimDueScheduled(tx, id)) {
        await this.transition(tx, emit, id, 'scheduled', 'published');
        return;
      }
      const current = await repo.findArticleById(tx, id);
      if (current?.status === 'scheduled' && current.publishAt && current.publishAt.getTime() > Date.now()) later = current.publishAt;
    });
    if (later) throw new RescheduleJob(later, 'publishAt moved later');
  }

  // ---------- internals ----------

  /** Runs a write in a transaction of the content event stream (what it emits is announced with it), mapping unique violations to 409. */
  private async write<T>(fn: (tx: Db, emit: Emit) => Promise<T>): Promise<T> {
    try {
      return await this.deps.events.transaction(this.db, fn);
    } catch (e) {
      if (isUniqueViolation(e)) throw new AppError('conflict', 'The slug is already taken.');
      throw e;
    }
  }

  /** new tags are created on the way: tag lists show them */
  private async setTags(tx: Db, emit: Emit, id: number, names: string[]): Promise<void> {
    await repo.setArticleTags(tx, id, await ensureTags(tx, names));
    await emit({ type: 'taxonomy.changed', data: { kind: 'tag', slugs: names } });
  }

  private eventData(r: ArticleRecord, previousSlug?: string): ArticleEventData {
    return { id: r.id, slug: r.slug, url: this.url(r), ...(previousSlug !== undefined && previousSlug !== r.slug ? { previousSlug } : {}) };
  }

  /** Moves an article between statuses inside `tx`, running the listeners that care. */
  private async transition(tx: Db, emit: Emit, id: number, from: ArticleStatus, to: ArticleStatus): Promise<void> {
    if (from === to && to !== 'scheduled') return;
    if (to === 'published') {
      const before = (await repo.findArticleById(tx, id))!;
      const firstTime = before.firstPublishedAt === null;
      await tx.execute(sql`update articles set status = 'published',
          published_at = coalesce(case when status = 'scheduled' then publish_at end, published_at, now()),
          first_published_at = coalesce(first_published_at, now()), publish_at = null,
          version = version + 1, updated_at = now() where id = ${id}`);
      const after = (await repo.findArticleById(tx, id))!;
      await this.deps.publishing.published(tx, this.published(after), { firstTime });
      await emit({ type: 'article.published', data: this.eventData(after, before.slug) });
      return;
    }
    await tx.execute(sql`update articles set status = ${to}, version = version + 1, updated_at = now() where id = ${id}`);
    if (from === 'published') {
      const after = (await repo.findArticleById(tx, id))!;
      await this.deps.publishing.unpublished(tx, { id, slug: after.slug });
      await emit({ type: 'article.unpublished', data: this.eventData(after) });
    }
    if (to === 'scheduled') {
      const after = (await repo.findArticleById(tx, id))!;
      await this.schedule(tx, id, after.publishAt!);
    }
  }

  private async schedule(tx: Db, id: number, at: Date): Promise<void> {
    await enqueuePublish(tx, id, at);
    this.deps.nudgeJobs?.();
  }

  private renderBody(input: { markdown?: string; html?: string }, errors: FieldError[]) {
    if (input.markdown !== undefined && input.html !== undefined) {
      errors.push({ pointer: '/body/html', message: 'send either `markdown` or `html`, not both' });
      return undefined;
    }
    const html = input.markdown !== undefined ? markdownToHtml(input.markdown) : sanitizeArticleHtml(input.html ?? '');
    const text = htmlToText(html);
    return { markdown: input.markdown ?? null, html, text, readingTimeMinutes: readingTimeMinutes(text) };
  }

  private excerptFields(excerpt: string | undefined, text: string) {
    const own = excerpt !== undefined ? stripBidi(excerpt).replace(/\s+/g, ' ').trim() : '';
    return own ? { excerpt: own, customExcerpt: true } : { excerpt: excerptOf(text), customExcerpt: false };
  }

  private checkSchedule(status: ArticleStatus, publishAt: string | null | undefined, errors: FieldError[]): Date | null {
    if (status !== 'scheduled') return null;
    if (!publishAt) {
      errors.push({ pointer: '/body/publishAt', message: 'is required when status is scheduled' });
      return null;
    }
    const d = new Date(publishAt);
    if (Number.isNaN(d.getTime())) errors.push({ pointer: '/body/publishAt', message: 'must be an ISO 8601 date-time' });
    return d;
  }

  /** Library images in the body get srcset, sizes, width, height and lazy loading (see MediaService.decorateHtml). */
  private async decorate(html: string): Promise<string> {
    return this.deps.media ? this.deps.media.decorateHtml(this.db, html) : html;
  }

  private async featureImageId(tx: Db, id: number | null | undefined): Promise<number | null> {
    if (id === undefined || id === null) return null;
    const found = this.deps.media ? await this.deps.media.byIds(tx, [id]) : new Map();
    if (!found.has(id)) throw invalid([{ pointer: '/body/featureImage', message: `no media ${id}; upload images with POST /v1/admin/media` }]);
    return id;
  }

  private async resolveAuthor(tx: Db, slug: string | null | undefined): Promise<number | null> {
    if (slug === undefined || slug === null) return null;
    const id = await authorIdBySlug(tx, slug);
    if (id === null) throw invalid([{ pointer: '/body/authorSlug', message: `no author "${slug}"; create it with POST /v1/admin/authors` }]);
    return id;
  }

  private async uniqueSlug(tx: Db, base: string): Promise<string> {
    for (let n = 1; n < 1000; n++) {
      const candidate = n === 1 ? base : `${base.slice(0, 110)}-${n}`;
      if (!(await repo.slugInUse(tx, candidate))) return candidate;
    }
    return `${base.slice(0, 100)}-${Date.now().toString(36)}`;
  }
}
