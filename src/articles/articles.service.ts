// Articles: the rules and the transactions. Publishing happens in one transaction
// that also runs the publishing listeners (announcements, outgoing pings…), so
// their outbox rows commit or roll back with the article. The roles live beside
// it: views (articles.views.ts), list queries (articles.query.ts), an editor's
// input (articles.input.ts), status changes (articles.lifecycle.ts), scheduling
// (articles.scheduling.ts).
import type { Config } from '../config.ts';
import { uniqueViolationOn, type Db } from '../db/client.ts';
import type { ContentEvents, Emit } from '../events/content-events.ts';
import { AppError, notFound, type FieldError } from '../http/errors.ts';
import { RescheduleJob, type Job } from '../jobs/kernel.ts';
import { excerptOf, stripBidi } from '../lib/html.ts';
import { pageMeta, type PageMeta } from '../lib/pagination.ts';
import { isSlug, SLUG_MESSAGE, toSlug } from '../lib/slug.ts';
import type { MediaService } from '../media/media.service.ts';
import { authorIdBySlug, ensureTags } from '../taxonomy/taxonomy.repository.ts';
import { checkSchedule, excerptFields, renderBody } from './articles.input.ts';
import { ArticleLifecycle } from './articles.lifecycle.ts';
import { invalid } from './articles.query.ts';
import * as repo from './articles.repository.ts';
import type { ArticleRecord, ListFilter } from './articles.repository.ts';
import type { AdminArticleView, ArticleView, CreateArticleInput, ListArticlesParams, UpdateArticleInput } from './articles.schemas.ts';
import type { ArticleStatus } from './articles.table.ts';
import { ArticleViews, type AnnouncementLookup } from './articles.views.ts';
import { ArticleReadCache } from './articles.read-cache.ts';
import { ArticleReads, type ArticleList, type SerializedList } from './articles.reads.ts';
import type { PublishingEvents } from './publishing.ts';

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

type AdminResult = { article: AdminArticleView; etag: string };

export class ArticlesService {
  private readonly views: ArticleViews;
  private readonly lifecycle: ArticleLifecycle;
  private readonly reads: ArticleReads;
  private readonly readCache: ArticleReadCache;

  constructor(private readonly deps: ArticlesDeps) {
    this.views = new ArticleViews(deps);
    const cache = (this.readCache = new ArticleReadCache(deps.config.articleCacheMB * 1024 * 1024));
    // every change public reads can see, here or (through the response cache's NOTIFY) in another process
    deps.events.onAnyChange((change) => cache.invalidate(change));
    this.reads = new ArticleReads(deps.db, this.views, cache, { exactUpTo: deps.config.searchExactUpTo, window: deps.config.searchRankWindow });
    this.lifecycle = new ArticleLifecycle({ publishing: deps.publishing, views: this.views, nudgeJobs: deps.nudgeJobs });
  }

  private get db() {
    return this.deps.db;
  }

  url(a: Pick<ArticleRecord, 'id' | 'slug' | 'publishedAt'>): string {
    return this.views.url(a);
  }

  // ---------- public reads ----------

  /** A page of published articles as objects: sparse reads (`fields=`) and the feeds. */
  listPublic(params: ListArticlesParams): Promise<ArticleList> {
    return this.reads.list(params);
  }

  /** A page of published articles in the default shape, as JSON (articles.reads.ts). */
  listPublicJson(params: ListArticlesParams): Promise<SerializedList> {
    return this.reads.listJson(params);
  }

  /** A public article (JSON in the default shape, else the fields asked for), or `{ redirect }` to its current slug, or null. */
  getPublic(slug: string, q: { fields?: string } = {}): ReturnType<ArticleReads['get']> {
    return this.reads.get(slug, q);
  }

  /** What the article read cache holds (diagnostics, tests). */
  readCacheSnapshot(): ReturnType<ArticleReadCache['snapshot']> {
    return this.readCache.snapshot();
  }

  /** An article in any status, as public reads show it (draft preview). */
  async previewView(id: number): Promise<ArticleView | null> {
    const record = await repo.findArticleById(this.db, id);
    return record ? (await this.views.public(this.db, [record]))[0] : null;
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

  /** Every public article's permalink and last change, newest first (the sitemap). */
  async sitemap(): Promise<{ url: string; updatedAt: Date }[]> {
    const entries = await repo.listPublicForSitemap(this.db);
    return entries.map((e) => ({ url: this.views.url(e), updatedAt: e.updatedAt }));
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
    const data = await this.views.admin(this.db, records);
    return { data, meta: { pagination: pageMeta({ page, limit, total }) } };
  }

  async getAdmin(id: number): Promise<AdminResult> {
    const r = await repo.findArticleById(this.db, id);
    if (!r) throw notFound(`Article ${id}`);
    return this.adminResult(r);
  }

  async create(input: CreateArticleInput): Promise<AdminResult> {
    const errors: FieldError[] = [];
    const body = renderBody(input, errors);
    const status = input.status ?? 'draft';
    const publishAt = checkSchedule(status, input.publishAt, errors);
    if (input.slug !== undefined && !isSlug(input.slug)) errors.push({ pointer: '/body/slug', message: SLUG_MESSAGE });
    const title = stripBidi(input.title).trim();
    if (!title) errors.push({ pointer: '/body/title', message: 'must not be blank' });
    if (!body || errors.length) throw invalid(errors);
    body.html = await this.decorate(body.html);

    // a generated slug can lose a race with a concurrent create of the same title: take the next one
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await this.write(async (tx, emit) => {
          const authorId = await this.resolveAuthor(tx, input.authorSlug);
          const slug = input.slug ?? (await this.uniqueSlug(tx, toSlug(title) || 'article'));
          if (input.slug !== undefined && (await repo.slugInUse(tx, slug))) throw new AppError('conflict', `The slug "${slug}" is already taken.`);
          const id = await repo.insertArticle(tx, {
            slug,
            title,
            ...body,
            ...excerptFields(input.excerpt, body.text),
            status: 'draft',
            publishAt,
            authorId,
            commentsOpen: input.commentsOpen ?? true,
            pingsOpen: input.pingsOpen ?? true,
            announce: input.announce ?? true,
            featureImageId: await this.featureImageId(tx, input.featureImage),
          });
          if (input.tags) await this.setTags(tx, emit, id, input.tags);
          return this.lifecycle.transition(tx, emit, await this.locked(tx, id, false), status);
        });
        return this.adminResult(created);
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'conflict' && input.slug === undefined && attempt < 5)) throw e;
      }
    }
  }

  async update(id: number, input: UpdateArticleInput, ifMatch?: string): Promise<AdminResult> {
    const errors: FieldError[] = [];
    const body = input.markdown !== undefined || input.html !== undefined ? renderBody(input, errors) : undefined;
    if (input.slug !== undefined && !isSlug(input.slug)) errors.push({ pointer: '/body/slug', message: SLUG_MESSAGE });
    const title = input.title !== undefined ? stripBidi(input.title).trim() : undefined;
    if (title === '') errors.push({ pointer: '/body/title', message: 'must not be blank' });
    if (errors.length) throw invalid(errors);
    if (body) body.html = await this.decorate(body.html);

    const updated = await this.write(async (tx, emit) => {
      const current = await this.locked(tx, id);
      if (ifMatch !== undefined && !ifMatch.split(',').some((t) => t.trim() === ArticleViews.etag(current) || t.trim() === '*')) {
        throw new AppError('precondition-failed', `The article changed since you read it (now ${ArticleViews.etag(current)}); read it again and reapply your change.`);
      }
      const status = input.status ?? current.status;
      const publishAt =
        input.publishAt !== undefined || input.status !== undefined
          ? checkSchedule(status, input.publishAt === undefined ? (current.publishAt?.toISOString() ?? null) : input.publishAt, errors)
          : current.publishAt;
      if (errors.length) throw invalid(errors);

      const values: repo.ArticleInsert = { slug: current.slug, title: current.title, html: current.html };
      if (title !== undefined) values.title = title;
      if (body) Object.assign(values, body);
      const text = body?.text ?? current.text;
      if (input.excerpt !== undefined) Object.assign(values, excerptFields(input.excerpt, text));
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

      const after = await this.locked(tx, id, false);
      if (status !== current.status) return this.lifecycle.transition(tx, emit, after, status);
      if (status === 'published') {
        if (values.html !== current.html || values.slug !== current.slug || values.title !== current.title) {
          await this.deps.publishing.updated(tx, this.views.published(after), { previousHtml: current.html });
        }
        await emit({ type: 'article.updated', data: this.views.event(after, current.slug) });
      } else if (status === 'scheduled' && publishAt) {
        await this.lifecycle.schedule(tx, id, publishAt);
      }
      return after;
    });
    return this.adminResult(updated);
  }

  /** Publishes now (idempotent): one read of the row, one update, the listeners. */
  async publish(id: number): Promise<AdminResult> {
    return this.moveTo(id, 'published');
  }

  async unpublish(id: number): Promise<AdminResult> {
    return this.moveTo(id, 'draft');
  }

  async remove(id: number): Promise<void> {
    await this.write(async (tx, emit) => this.lifecycle.remove(tx, emit, await this.locked(tx, id)));
  }

  /** The job that publishes a scheduled article when its time comes; safe to run twice or in two processes. */
  async publishDue(job: Job): Promise<void> {
    const id = Number(job.payload.articleId);
    let later: Date | null = null;
    await this.write(async (tx, emit) => {
      if (await repo.claimDueScheduled(tx, id)) {
        await this.lifecycle.transition(tx, emit, await this.locked(tx, id, false), 'published');
        return;
      }
      const current = await repo.findArticleById(tx, id);
      if (current?.status === 'scheduled' && current.publishAt && current.publishAt.getTime() > Date.now()) later = current.publishAt;
    });
    if (later) throw new RescheduleJob(later, 'publishAt moved later');
  }

  // ---------- internals ----------

  private async moveTo(id: number, to: 'published' | 'draft'): Promise<AdminResult> {
    const after = await this.write(async (tx, emit) => {
      const current = await this.locked(tx, id);
      return current.status === to ? current : this.lifecycle.transition(tx, emit, current, to);
    });
    return this.adminResult(after);
  }

  private async adminResult(r: ArticleRecord): Promise<AdminResult> {
    return { article: (await this.views.admin(this.db, [r]))[0], etag: ArticleViews.etag(r) };
  }

  /** The article in `tx`, locked for the rest of it (`lock: false` when the transaction holds it already); 404 when gone. */
  private async locked(tx: Db, id: number, lock = true): Promise<ArticleRecord> {
    const current = await repo.findArticleById(tx, id, { forUpdate: lock });
    if (!current) throw notFound(`Article ${id}`);
    return current;
  }

  /**
   * Runs a write in a transaction of the content event stream (what it emits is announced with it).
   * A unique violation on the slug (the column or a reserved old slug) is a taken slug; any other is a concurrent change.
   */
  private async write<T>(fn: (tx: Db, emit: Emit) => Promise<T>): Promise<T> {
    try {
      return await this.deps.events.transaction(this.db, fn);
    } catch (e) {
      const constraint = uniqueViolationOn(e);
      if (constraint === null) throw e;
      if (repo.SLUG_CONSTRAINTS.includes(constraint)) throw new AppError('conflict', 'The slug is already taken.');
      throw new AppError('conflict', 'A concurrent change got there first; read the article again and retry.');
    }
  }

  /** new tags are created on the way: tag lists show them */
  private async setTags(tx: Db, emit: Emit, id: number, names: string[]): Promise<void> {
    await repo.setArticleTags(tx, id, await ensureTags(tx, names));
    await emit({ type: 'taxonomy.changed', data: { kind: 'tag', slugs: names, created: true } });
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
