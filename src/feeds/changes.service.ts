// Delta sync (/v1/changes): a listener of the content event stream writes each
// article's latest change in the transaction of the change; readers walk the log
// with an opaque cursor. Tombstones are kept TOMBSTONE_DAYS days, then pruned by a job.
import type { Db } from '../db/client.ts';
import { AppError } from '../http/errors.ts';
import { enqueue, RescheduleJob, type JobRunner } from '../jobs/kernel.ts';
import type { ContentEvent, ContentEvents } from '../events/content-events.ts';
import * as repo from './changes.repository.ts';

export const TOMBSTONE_DAYS = 30;
export const PRUNE_JOB = 'changes.prune';
const DAY_MS = 86_400_000;

export interface ChangeView {
  cursor: string;
  kind: 'article';
  id: number;
  slug: string;
  change: 'upsert' | 'delete';
  at: string;
}

const CURSOR = /^(\d{1,18})\.(\d{1,18})$/;
const encode = (xid: number, seq: number) => `${xid}.${seq}`;

export class ChangesService {
  constructor(private readonly deps: { db: Db; events: ContentEvents; jobs: JobRunner }) {
    deps.events.onTransaction((tx, event) => this.record(tx, event));
    deps.jobs.register({
      kind: PRUNE_JOB,
      concurrency: 1,
      handler: async () => {
        await repo.pruneTombstones(deps.db, TOMBSTONE_DAYS);
        throw new RescheduleJob(new Date(Date.now() + DAY_MS), 'pruned; again tomorrow');
      },
    });
  }

  /** Queues the daily tombstone pruning (once per database: the key dedupes). */
  async schedulePruning(): Promise<void> {
    await enqueue(this.deps.db, { kind: PRUNE_JOB, key: 'daily', runAt: new Date(Date.now() + DAY_MS) });
  }

  private async record(tx: Db, e: ContentEvent): Promise<void> {
    switch (e.type) {
      case 'article.published':
      case 'article.updated':
        return repo.recordChange(tx, e.data, 'upsert');
      case 'article.unpublished':
        return repo.recordChange(tx, e.data, 'delete');
      case 'article.deleted':
        if (e.data.wasPublished) await repo.recordChange(tx, e.data, 'delete');
        return;
      case 'articles.imported':
        return repo.recordImported(tx, new Date(e.data.since));
      case 'response.published':
      case 'response.removed':
        // a new response on a public article is an upsert of that article
        return repo.recordChange(tx, { id: e.data.articleId, slug: e.data.articleSlug }, 'upsert', { onlyIfPublished: true });
    }
  }

  async list(q: { since?: string; limit?: number }): Promise<{ data: ChangeView[]; meta: { nextCursor: string } }> {
    let after: [number, number] = [0, 0];
    if (q.since !== undefined) {
      const m = CURSOR.exec(q.since);
      if (!m) throw new AppError('validation', '/query/since is not a cursor', { errors: [{ pointer: '/query/since', message: 'is not a cursor: pass `meta.nextCursor` or a `cursor` of an earlier answer' }] });
      after = [Number(m[1]), Number(m[2])];
    }
    const rows = await repo.changesAfter(this.deps.db, after, q.limit ?? 100);
    const data = rows.map((r) => ({ cursor: encode(r.xid, r.seq), kind: 'article' as const, id: r.articleId, slug: r.slug, change: r.change, at: r.at.toISOString() }));
    return { data, meta: { nextCursor: data.at(-1)?.cursor ?? encode(...after) } };
  }
}
