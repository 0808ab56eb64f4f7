// Status changes inside a write's transaction: the row's stamp, the publishing listeners
// (announcements, outgoing pings) and the content events, and the scheduling job.
import type { Db } from '../db/client.ts';
import type { Emit } from '../events/content-events.ts';
import * as repo from './articles.repository.ts';
import type { ArticleRecord } from './articles.repository.ts';
import { enqueuePublish } from './articles.scheduling.ts';
import type { ArticleStatus } from './articles.table.ts';
import type { ArticleViews } from './articles.views.ts';
import type { PublishingEvents } from './publishing.ts';

export interface LifecycleDeps {
  publishing: PublishingEvents;
  views: ArticleViews;
  /** wakes the job runner after scheduling (tests drain by hand) */
  nudgeJobs?: () => void;
}

export class ArticleLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  /** Moves `current` (read in `tx`, locked) to status `to`, running the listeners that care; returns the record as it is now. */
  async transition(tx: Db, emit: Emit, current: ArticleRecord, to: ArticleStatus): Promise<ArticleRecord> {
    const from = current.status;
    if (from === to && to !== 'scheduled') return current;
    if (to === 'published') {
      const after: ArticleRecord = { ...current, ...(await repo.markPublished(tx, current.id)) };
      await this.deps.publishing.published(tx, this.deps.views.published(after), { firstTime: current.firstPublishedAt === null });
      await emit({ type: 'article.published', data: this.deps.views.event(after) });
      return after;
    }
    const after: ArticleRecord = { ...current, ...(await repo.setStatus(tx, current.id, to)) };
    if (from === 'published') {
      await this.deps.publishing.unpublished(tx, { id: after.id, slug: after.slug });
      await emit({ type: 'article.unpublished', data: this.deps.views.event(after) });
    }
    if (to === 'scheduled' && after.publishAt) await this.schedule(tx, after.id, after.publishAt);
    return after;
  }

  /** Queues (or moves) the job that publishes the article at `at`. */
  async schedule(tx: Db, id: number, at: Date): Promise<void> {
    await enqueuePublish(tx, id, at);
    this.deps.nudgeJobs?.();
  }

  /** Deletes an article: its listeners hear it leave first when it was public. */
  async remove(tx: Db, emit: Emit, current: ArticleRecord): Promise<void> {
    const wasPublished = current.status === 'published';
    if (wasPublished) await this.deps.publishing.unpublished(tx, { id: current.id, slug: current.slug });
    await emit({ type: 'article.deleted', data: { ...this.deps.views.event(current), wasPublished } });
    await repo.deleteArticle(tx, current.id);
  }
}
