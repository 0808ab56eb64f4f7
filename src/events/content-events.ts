// One stream of typed content events. Services announce every change that public
// reads can see here, and only here:
//  - inside the writing transaction, to the transactional listeners (webhook
//    deliveries, the /v1/changes log): their rows commit or roll back with the change;
//  - after the commit, to the other listeners (the response cache, a nudge of the
//    job runner): they never see a change that did not happen.
// A write path opens its transaction through `transaction()`, so it cannot tell one
// listener and forget another.
import type { Db } from '../db/client.ts';
import type { ResponseType } from '../comments/responses.table.ts';

/** An article as events name it: enough to find it again (`url` is its frontend permalink). */
export interface ArticleEventData {
  id: number;
  slug: string;
  url: string;
  /** set when the slug changed in this write */
  previousSlug?: string;
}

/** A response (comment, pingback, webmention…) as events name it. */
export interface ResponseEventData {
  id: number;
  articleId: number;
  articleSlug: string;
  type: ResponseType;
}

/** The events webhooks can subscribe to (SPEC §11), in the order the document lists them. */
export const WEBHOOK_EVENT_TYPES = ['article.published', 'article.updated', 'article.unpublished', 'article.deleted', 'response.published', 'response.removed'] as const;

export type ContentEvent =
  /** an article went public (first time or again) */
  | { type: 'article.published'; data: ArticleEventData }
  /** a public article changed (body, title, slug, tags, flags…) */
  | { type: 'article.updated'; data: ArticleEventData }
  /** a public article stopped being public (draft, archived, scheduled again) */
  | { type: 'article.unpublished'; data: ArticleEventData }
  /** an article was deleted (whatever its status) */
  | { type: 'article.deleted'; data: ArticleEventData & { wasPublished: boolean } }
  /** a response became public (posted approved, approved by an editor, a mention refreshed) */
  | { type: 'response.published'; data: ResponseEventData }
  /** a public response stopped being public (deleted, held, marked spam) */
  | { type: 'response.removed'; data: ResponseEventData }
  /** tags or authors were created, changed or deleted (names or slugs as given); `created`: only created or assigned by an article's write, none renamed or removed */
  | { type: 'taxonomy.changed'; data: { kind: 'tag' | 'author'; slugs: string[]; created?: boolean } }
  /** an announcement's public status changed (articles show it) */
  | { type: 'announcement.changed'; data: { articleId: number | null } }
  /** articles came in through an import since then (quiet: no webhook; /v1/changes lists them) */
  | { type: 'articles.imported'; data: { since: string } }
  /** a library image changed (its alt text shows in articles that use it) */
  | { type: 'media.changed'; data: { id: number } };


/**
 * What a change shows in, for the caches of public reads. `article`: whose public JSON it
 * changes: that one article's (its id), no article's (null), or any's ('all'). `lists`:
 * whether it may change which articles a list holds, in what order, or how many.
 * A response changes its article's counts, an announcement its `announcement` and
 * `syndication`: that article alone. Publishing, editing, unpublishing or deleting an
 * article changes that article and the lists, not the JSON of any other article. Tags
 * created or assigned on the way of an article's write rename nothing (what the article
 * shows comes with its own event). A renamed or removed tag or author, an edited image, an
 * import: anything.
 */
export interface Change {
  article: number | null | 'all';
  lists: boolean;
}

/** Anything may have changed (a renamed tag or author, an edited image, an import, a missed notification). */
export const EVERYTHING: Change = { article: 'all', lists: true };

export function changeOf(event: ContentEvent): Change {
  switch (event.type) {
    case 'response.published':
    case 'response.removed':
      return { article: event.data.articleId, lists: false };
    case 'announcement.changed':
      return event.data.articleId === null ? EVERYTHING : { article: event.data.articleId, lists: false };
    case 'article.published':
    case 'article.updated':
    case 'article.unpublished':
    case 'article.deleted':
      return { article: event.data.id, lists: true };
    case 'taxonomy.changed':
      return event.data.created ? { article: null, lists: false } : EVERYTHING;
    default:
      return EVERYTHING;
  }
}

/** Told of any change of public content, and what it shows in. */
export type ChangeListener = (change: Change) => void;

/** Called inside the writing transaction; throwing rolls the change back. */
export type TransactionalListener = (tx: Db, event: ContentEvent) => Promise<void>;
/** Called once the change committed; must not throw. */
export type CommittedListener = (event: ContentEvent) => void;
/** Records an event in the current transaction (runs the transactional listeners now, the others after commit). */
export type Emit = (event: ContentEvent) => Promise<void>;

export class ContentEvents {
  private readonly inTx: TransactionalListener[] = [];
  private readonly committed = new Set<CommittedListener>();
  private readonly anyChange = new Set<ChangeListener>();

  /** Listen inside the writing transaction: outbox rows that must commit with the change. */
  onTransaction(listener: TransactionalListener): void {
    this.inTx.push(listener);
  }

  /** Listen after commit. Returns the unsubscribe function. */
  onCommit(listener: CommittedListener): () => void {
    this.committed.add(listener);
    return () => this.committed.delete(listener);
  }

  /**
   * Listen for any change of public content: committed here, or in another process
   * (`changedElsewhere`). The caches of public reads drop their copies on it, or only what
   * it shows in (`changeOf`). Returns the unsubscribe function.
   */
  onAnyChange(listener: ChangeListener): () => void {
    this.anyChange.add(listener);
    return () => this.anyChange.delete(listener);
  }

  /** Another process changed public content (what it told, else anything), or its word may have been missed (the bus reconnected). */
  changedElsewhere(change: Change = EVERYTHING): void {
    for (const l of this.anyChange) l(change);
  }

  /**
   * Runs `fn` in one transaction on `db`. What it emits reaches the transactional
   * listeners inside that transaction and the others after it committed (not at all
   * when it rolled back).
   */
  async transaction<T>(db: Db, fn: (tx: Db, emit: Emit) => Promise<T>): Promise<T> {
    const emitted: ContentEvent[] = [];
    const out = await db.transaction(async (t) => {
      const tx = t as unknown as Db;
      return fn(tx, async (event) => {
        for (const l of this.inTx) await l(tx, event);
        emitted.push(event);
      });
    });
    for (const event of emitted) this.afterCommit(event);
    return out;
  }

  /** One event as its own transaction (a change that was already committed alone, or that no outbox needs to follow). */
  async emit(db: Db, event: ContentEvent): Promise<void> {
    if (!this.inTx.length) return this.afterCommit(event);
    await this.transaction(db, (_tx, emit) => emit(event));
  }

  private afterCommit(event: ContentEvent): void {
    const change = changeOf(event);
    for (const l of this.anyChange) l(change);
    for (const l of this.committed) l(event);
  }
}
