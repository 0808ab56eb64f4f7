// Articles import nothing of Twitter or pingbacks (the admin view's `announcement`
// field is filled through a lookup the composition root hands in). Whoever cares about
// publishing subscribes here; the article service calls the listeners inside its own
// transaction, so their outbox rows commit (or roll back) with the article.
import type { Db } from '../db/client.ts';

/** What listeners get: the article as the public will see it. */
export interface PublishedArticle {
  id: number;
  slug: string;
  title: string;
  excerpt: string;
  /** sanitised HTML of the body */
  html: string;
  /** frontend permalink (SITE_URL + PERMALINK) */
  url: string;
  publishedAt: Date;
  author: { slug: string; name: string } | null;
  tags: { slug: string; name: string }[];
  /** false: the editor asked not to announce it */
  announce: boolean;
  pingsOpen: boolean;
}

export interface PublishingListener {
  /** the article went public (first time or again); `firstTime` is true only once per article, ever */
  onPublished?(tx: Db, article: PublishedArticle, info: { firstTime: boolean }): Promise<void>;
  /** a public article's content changed; `previousHtml` is what readers saw before */
  onUpdated?(tx: Db, article: PublishedArticle, info: { previousHtml: string }): Promise<void>;
  /** the article stopped being public (unpublished, archived, deleted) */
  onUnpublished?(tx: Db, article: { id: number; slug: string }): Promise<void>;
}

export class PublishingEvents {
  private readonly listeners: PublishingListener[] = [];

  subscribe(listener: PublishingListener): void {
    this.listeners.push(listener);
  }

  async published(tx: Db, article: PublishedArticle, info: { firstTime: boolean }): Promise<void> {
    for (const l of this.listeners) await l.onPublished?.(tx, article, info);
  }

  async updated(tx: Db, article: PublishedArticle, info: { previousHtml: string }): Promise<void> {
    for (const l of this.listeners) await l.onUpdated?.(tx, article, info);
  }

  async unpublished(tx: Db, article: { id: number; slug: string }): Promise<void> {
    for (const l of this.listeners) await l.onUnpublished?.(tx, article);
  }
}
