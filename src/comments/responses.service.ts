// The conversation: readers' comments (posted here), pingbacks and webmentions
// (stored by their own modules through `storeMention`), moderation and listing.
import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { AppError, notFound, type FieldError } from '../http/errors.ts';
import { parseExternalUrl } from '../lib/external-url.ts';
import { pageMeta, type PageMeta } from '../lib/pagination.ts';
import type { LimitStore } from '../limits/limits.store.ts';
import type { ArticlesService } from '../articles/articles.service.ts';
import { cleanText, commentToHtml, countLinks } from './comment-html.ts';
import { mayApprove, statusFor } from './moderation.ts';
import * as repo from './responses.repository.ts';
import { type ResponseStatus, type ResponseType, type SocialKind, type SocialNetwork } from './responses.table.ts';
import type { ContentEvents, Emit } from '../events/content-events.ts';
import type { AdminResponse, PostedCommentView, PublicResponse } from './responses.schemas.ts';

/** Replies nest at most this deep; deeper replies attach to the deepest allowed level's thread. */
export const MAX_DEPTH = 5;

/** A reaction from a social network or a microformats page, as the poller or a webmention found it. */
export interface SocialInput {
  articleId: number;
  network: SocialNetwork;
  kind: SocialKind;
  author: { name: string; url: string | null; photo: string | null };
  /** plain text (replies and mentions) */
  text: string;
  published: Date | null;
  /** the original post */
  originalUrl: string | null;
  /** a webmention's source page and our URL it names */
  sourceUrl?: string | null;
  targetUrl?: string | null;
  parentId?: number | null;
}

export interface CommentInput {
  authorName: string;
  authorEmail: string;
  authorUrl?: string;
  parentId?: string | number;
  body: string;
  /** the honeypot: people leave it empty */
  website?: string;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

export interface ResponsesDeps {
  db: Db;
  config: Config;
  articles: ArticlesService;
  /** COMMENT_MIN_INTERVAL's slots, shared by the processes of one site */
  limits: LimitStore;
  /** a response becoming public or leaving is announced here */
  events: ContentEvents;
}

/** A commenter's address as we accept it (the route schema checks it too, so a 400 lists it with the other fields) */
export const EMAIL_SOURCE = String.raw`[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+`;
const EMAIL = new RegExp(`^${EMAIL_SOURCE}$`);
export const PARENT_ID_MESSAGE = 'must be the id of the comment this one replies to (a number), or empty for a new thread';
export const EMAIL_MESSAGE = 'must be a valid email address (it is never shown)';
export const URL_MESSAGE = 'must be an http(s) URL';
export const REQUIRED_MESSAGE = 'is required';

/** An http(s) URL without credentials, of at most MAX_URL_LENGTH characters; null otherwise. */
export function safeHttpUrl(raw: string): string | null {
  const u = parseExternalUrl(raw);
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password) return null;
  return u.href;
}

/** A SHA-256 Gravatar URL: a stable picture per email without publishing the email. */
export function avatarFor(email: string | null): string | null {
  if (!email) return null;
  const hash = createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
  return `https://gravatar.com/avatar/${hash}?d=identicon&s=80`;
}

function toPublic(r: repo.ResponseRow): PublicResponse {
  return {
    id: r.id,
    type: r.type,
    authorName: r.authorName,
    authorUrl: r.authorUrl ?? r.sourceUrl ?? null,
    html: r.html,
    createdAt: r.createdAt.toISOString(),
    parentId: r.parentId,
    avatarUrl: r.type === 'comment' ? avatarFor(r.authorEmail) : null,
    network: r.network,
    // a plain webmention is a mention too (§13)
    kind: r.kind ?? (r.type === 'webmention' ? 'mention' : null),
    author: r.type === 'social' ? { name: r.authorName, url: r.authorUrl, photo: r.authorPhoto } : null,
    url: r.originalUrl,
  };
}

/** One response per original: a reply or mention by its post, a like or repost by who made it. */
export function socialKeyOf(s: Pick<SocialInput, 'kind' | 'author' | 'originalUrl' | 'sourceUrl'>): string | null {
  const post = s.originalUrl ?? s.sourceUrl ?? null;
  if (s.kind === 'like' || s.kind === 'repost') return s.author.url ? `${s.kind} ${s.author.url}` : post && `${s.kind} ${post}`;
  return post;
}

function toAdmin({ response: r, articleSlug, articleTitle }: { response: repo.ResponseRow; articleSlug: string; articleTitle: string }): AdminResponse {
  return {
    ...toPublic(r),
    status: r.status,
    articleId: r.articleId,
    articleSlug,
    articleTitle,
    authorEmail: r.authorEmail,
    sourceUrl: r.sourceUrl,
    targetUrl: r.targetUrl,
    ip: r.ip,
    userAgent: r.userAgent,
    updatedAt: r.updatedAt.toISOString(),
  };
}

export class ResponsesService {
  constructor(private readonly deps: ResponsesDeps) {}

  private get db() {
    return this.deps.db;
  }

  private async publicArticle(slug: string) {
    const article = await this.deps.articles.findPublicRef(slug);
    if (!article) throw notFound(`Article "${slug}"`);
    return article;
  }

  async listPublic(slug: string, q: { type?: ResponseType; kind?: SocialKind; page?: number; limit?: number }): Promise<{ data: PublicResponse[]; meta: { pagination: PageMeta } }> {
    const article = await this.publicArticle(slug);
    const limit = q.limit ?? 50;
    const page = q.page ?? 1;
    const { rows, total } = await repo.listApproved(this.db, article.id, { type: q.type, kind: q.kind, limit, offset: (page - 1) * limit });
    return { data: rows.map(toPublic), meta: { pagination: pageMeta({ page, limit, total }) } };
  }

  /** A reader's comment: validated, moderated, flood-checked, stored sanitised. */
  async postComment(slug: string, input: CommentInput, client: ClientInfo): Promise<PostedCommentView> {
    const errors: FieldError[] = [];
    const authorName = cleanText(input.authorName ?? '').replace(/\s+/g, ' ').trim();
    if (!authorName) errors.push({ pointer: '/body/authorName', message: REQUIRED_MESSAGE });
    else if (authorName.length > 100) errors.push({ pointer: '/body/authorName', message: 'must be at most 100 characters' });
    const authorEmail = (input.authorEmail ?? '').trim().toLowerCase();
    if (!EMAIL.test(authorEmail) || authorEmail.length > 254) errors.push({ pointer: '/body/authorEmail', message: EMAIL_MESSAGE });
    let authorUrl: string | null = null;
    if (input.authorUrl && input.authorUrl.trim()) {
      authorUrl = safeHttpUrl(input.authorUrl.trim());
      if (!authorUrl) errors.push({ pointer: '/body/authorUrl', message: URL_MESSAGE });
    }
    const bodyText = cleanText(input.body ?? '').trim();
    if (!bodyText) errors.push({ pointer: '/body/body', message: REQUIRED_MESSAGE });
    else if (bodyText.length > 10_000) errors.push({ pointer: '/body/body', message: 'must be at most 10000 characters' });
    const parentRaw = input.parentId === undefined || input.parentId === '' ? undefined : Number(input.parentId);
    if (parentRaw !== undefined && (!Number.isSafeInteger(parentRaw) || parentRaw < 1)) errors.push({ pointer: '/body/parentId', message: PARENT_ID_MESSAGE });
    if (errors.length) throw new AppError('validation', errors.map((e) => `${e.pointer} ${e.message}`).join('; '), { errors });

    const article = await this.publicArticle(slug);
    if (!article.commentsOpen) throw new AppError('forbidden', 'Comments are closed on this article.');

    // no transaction: under READ COMMITTED it would not make the checks below atomic with
    // the insert either, and it cost two more round trips (BEGIN, COMMIT) per comment
    let depth = 0;
    if (parentRaw !== undefined) {
      const parent = await repo.findResponse(this.db, parentRaw);
      if (!parent || parent.articleId !== article.id || parent.status !== 'approved') {
        throw new AppError('validation', '/body/parentId is not an approved response of this article', {
          errors: [{ pointer: '/body/parentId', message: 'is not an approved response of this article' }],
        });
      }
      if (parent.depth + 1 > MAX_DEPTH) {
        throw new AppError('validation', `/body/parentId replies nest at most ${MAX_DEPTH} levels deep`, {
          errors: [{ pointer: '/body/parentId', message: `replies nest at most ${MAX_DEPTH} levels deep; reply higher up the thread` }],
        });
      }
      depth = parent.depth + 1;
    }
    // the duplicate check compares the stored HTML, so it needs the rendering (linear since linkifyjs 4.4)
    const html = commentToHtml(bodyText);
    if (await repo.isDuplicate(this.db, article.id, authorEmail, html)) {
      throw new AppError('conflict', 'You already posted this comment here.');
    }
    // last: only a comment about to be stored takes the client's slot (one atomic claim,
    // so two comments racing through two processes cannot both pass)
    const interval = this.deps.config.commentMinIntervalSeconds;
    if (interval > 0) {
      const slot = await this.deps.limits.claim(`comment:${client.ip}`, interval * 1000);
      if (!slot.ok) {
        const wait = Math.max(1, Math.ceil(slot.waitMs / 1000));
        throw new AppError('too-many-requests', `You are commenting too quickly; wait ${wait} s.`, { headers: { 'retry-after': String(wait) } });
      }
    }
    const moderation = { authorEmail, linkCount: countLinks(html), honeypot: Boolean(input.website && input.website.trim()) };
    const values = {
      articleId: article.id,
      type: 'comment',
      status: statusFor(this.deps.config.commentModeration, moderation),
      parentId: parentRaw ?? null,
      depth,
      authorName,
      authorEmail,
      authorUrl,
      html,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 500) ?? null,
    } satisfies repo.NewResponse;
    // a comment held for moderation changes nothing public: no transaction (BEGIN and COMMIT cost
    // a tenth of a comment's CPU); one that may go public is stored with its events
    const stored = !mayApprove(this.deps.config.commentModeration, moderation)
      ? await repo.insertResponse(this.db, values)
      : await this.deps.events.transaction(this.db, async (tx, emit) => {
          const row = await repo.insertResponse(tx, values);
          if (row.status === 'approved') await emit({ type: 'response.published', data: { id: row.id, articleId: article.id, articleSlug: article.slug, type: row.type } });
          return row;
        });
    // a bot that filled the honeypot is told what a held comment is told: only approved is public
    const shownStatus = stored.status === 'approved' ? 'approved' : 'pending';
    return {
      ...toPublic(stored),
      status: shownStatus,
      message: shownStatus === 'approved' ? 'Thanks: your comment is published.' : 'Thanks: your comment is awaiting moderation.',
    };
  }

  /**
   * Stores (or refreshes) a pingback or webmention from `sourceUrl` under the
   * moderation policy. Returns null when that source already has a response on
   * this article and `update` is false (pingback fault 0x30).
   */
  async storeMention(
    db: Db,
    m: { articleId: number; type: 'pingback' | 'webmention'; sourceUrl: string; targetUrl: string; authorName: string; authorUrl?: string | null; html: string; ip?: string | null; userAgent?: string | null },
    opts: { update?: boolean } = {},
  ): Promise<repo.ResponseRow | null> {
    return this.deps.events.transaction(db, async (tx, emit) => {
      if (opts.update) {
        const existing = await repo.findMention(tx, m.articleId, m.sourceUrl);
        if (existing) {
          const row = await repo.refreshMention(tx, existing.id, { authorName: m.authorName, authorUrl: m.authorUrl ?? null, html: m.html, targetUrl: m.targetUrl });
          if (row.status === 'approved') await this.announce(tx, emit, 'response.published', row);
          return row;
        }
      }
      // null: this source already has a response on this article (a twin request won the race)
      const row = await repo.insertMention(tx, this.deps.config.commentModeration, {
        ...m,
        authorUrl: m.authorUrl ?? null,
        ip: m.ip ?? null,
        userAgent: m.userAgent ?? null,
      });
      if (row?.status === 'approved') await this.announce(tx, emit, 'response.published', row);
      return row;
    });
  }

  /**
   * Stores or refreshes a social response (§13). Likes, reposts and bookmarks are approved
   * at once; replies and mentions follow COMMENT_MODERATION, trusting an author whose profile
   * was approved before. A webmention's earlier plain mention from the same source becomes
   * this social response. Null when the reaction has nothing to key it by.
   */
  async storeSocial(tx: Db, s: SocialInput): Promise<repo.ResponseRow | null> {
    const socialKey = socialKeyOf(s);
    if (!socialKey) return null;
    const talks = s.kind === 'reply' || s.kind === 'mention';
    const values = {
      articleId: s.articleId,
      type: 'social' as const,
      network: s.network,
      kind: s.kind,
      socialKey,
      authorName: s.author.name,
      authorUrl: s.author.url,
      authorPhoto: s.author.photo,
      originalUrl: s.originalUrl,
      html: talks && s.text ? commentToHtml(s.text) : '',
      sourceUrl: s.sourceUrl ?? null,
      targetUrl: s.targetUrl ?? null,
      parentId: s.parentId ?? null,
      ...(s.published ? { createdAt: s.published } : {}),
    };
    const status = talks ? statusFor(this.deps.config.commentModeration, { socialAuthorUrl: s.author.url, linkCount: 0 }) : statusFor('open', { linkCount: 0 });
    return this.deps.events.transaction(tx, async (t, emit) => {
      const row = await repo.upsertSocial(t, { ...values, status });
      if (row.status === 'approved') await this.announce(t, emit, 'response.published', row);
      return row;
    });
  }

  /** Removes a network's polled responses of these kinds that the last poll no longer saw (withdrawn likes, deleted replies); returns how many. */
  async removeSocialExcept(db: Db, articleId: number, network: SocialNetwork, kinds: SocialKind[], seenKeys: string[]): Promise<number> {
    return this.deps.events.transaction(db, async (tx, emit) => {
      const rows = await repo.deleteSocialExcept(tx, articleId, network, kinds, seenKeys);
      for (const row of rows) if (row.status === 'approved') await this.announce(tx, emit, 'response.removed', row);
      return rows.length;
    });
  }

  /** Removes the mention from `sourceUrl` on an article (the source is gone or no longer links). */
  async removeMention(db: Db, articleId: number, sourceUrl: string): Promise<boolean> {
    return this.deps.events.transaction(db, async (tx, emit) => {
      const rows = await repo.deleteMentions(tx, articleId, sourceUrl);
      for (const row of rows) if (row.status === 'approved') await this.announce(tx, emit, 'response.removed', row);
      return rows.length > 0;
    });
  }

  /** Emits a response event, naming the response's article by its current slug. */
  private async announce(tx: Db, emit: Emit, type: 'response.published' | 'response.removed', row: repo.ResponseRow): Promise<void> {
    const article = await this.deps.articles.findRefById(tx, row.articleId);
    if (!article) return;
    await emit({ type, data: { id: row.id, articleId: row.articleId, articleSlug: article.slug, type: row.type } });
  }

  // ---------- admin ----------

  async listAdmin(q: { status?: ResponseStatus; type?: ResponseType; article?: string; page?: number; limit?: number }) {
    const limit = q.limit ?? 50;
    const page = q.page ?? 1;
    let articleId: number | undefined;
    if (q.article) {
      if (/^\d+$/.test(q.article)) articleId = Number(q.article);
      else articleId = (await this.deps.articles.findRef(q.article))?.id ?? -1;
    }
    const { rows, total } = await repo.listForAdmin(this.db, { status: q.status, type: q.type, articleId }, { limit, offset: (page - 1) * limit });
    const data = rows.map(toAdmin);
    return { data, meta: { pagination: pageMeta({ page, limit, total }) } };
  }

  async setStatus(id: number, status: ResponseStatus) {
    await this.deps.events.transaction(this.db, async (tx, emit) => {
      const before = await repo.findResponse(tx, id);
      if (!before) throw notFound(`Response ${id}`);
      const after = (await repo.setStatus(tx, id, status))!;
      if (before.status !== 'approved' && status === 'approved') await this.announce(tx, emit, 'response.published', after);
      if (before.status === 'approved' && status !== 'approved') await this.announce(tx, emit, 'response.removed', after);
    });
    return toAdmin((await repo.findForAdmin(this.db, id))!);
  }

  async remove(id: number): Promise<void> {
    await this.deps.events.transaction(this.db, async (tx, emit) => {
      const gone = await repo.deleteResponse(tx, id);
      if (!gone) throw notFound(`Response ${id}`);
      if (gone.status === 'approved') await this.announce(tx, emit, 'response.removed', gone);
    });
  }
}
