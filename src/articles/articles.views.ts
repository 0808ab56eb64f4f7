// What readers, editors and publishing listeners see of an article record.
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { ArticleEventData } from '../events/content-events.ts';
import type { MediaService } from '../media/media.service.ts';
import type { ArticleRecord, PublicArticleRecord } from './articles.repository.ts';
import type { AdminArticleView, ArticleView } from './articles.schemas.ts';
import { permalinkFor } from './permalink.ts';
import type { PublishedArticle } from './publishing.ts';

/** Per article: its announcement on X (`announcement`) and the pages of its posted announcements (`syndication`). */
export type Announcements = Map<number, { announcement: { status: string; url: string | null } | null; syndication: { network: string; url: string }[] }>;
export type AnnouncementLookup = (db: Db, articleIds: number[]) => Promise<Announcements>;

export interface ArticleViewsDeps {
  config: Config;
  /** filled by the announcements module, when wired */
  announcements?: AnnouncementLookup;
  /** the media library: feature images */
  media?: MediaService;
}

export class ArticleViews {
  constructor(private readonly deps: ArticleViewsDeps) {}

  static etag(r: { id: number; version: number }): string {
    return `"article-${r.id}-v${r.version}"`;
  }

  url(a: Pick<ArticleRecord, 'id' | 'slug' | 'publishedAt'>): string {
    return permalinkFor(this.deps.config, a);
  }

  /** The announcements of these articles, in one query (none when the module is not wired). */
  async announcements(db: Db, ids: number[]): Promise<Announcements> {
    return this.deps.announcements && ids.length ? this.deps.announcements(db, ids) : new Map();
  }

  /**
   * Public views; with `fields`, exactly the fields asked for (the record held only what they need).
   * `announcements`: looked up already (by id, alongside the records); else looked up here when shown.
   */
  async public(db: Db, records: PublicArticleRecord[], fields?: readonly string[], announcements?: Announcements): Promise<ArticleView[]> {
    const wanted = !fields || fields.includes('announcement') || fields.includes('syndication');
    const full = this.full(records, announcements ?? (wanted ? await this.announcements(db, records.map((r) => r.id)) : new Map()));
    if (!fields) return full;
    return full.map((v) => Object.fromEntries(fields.map((f) => [f, v[f as keyof ArticleView]])) as ArticleView);
  }

  /** Editors' views; one announcements query for the whole page. */
  async admin(db: Db, records: ArticleRecord[]): Promise<AdminArticleView[]> {
    const views = await this.public(db, records);
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

  /** What publishing listeners (announcements, outgoing pings) are told. */
  published(r: ArticleRecord): PublishedArticle {
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

  event(r: ArticleRecord, previousSlug?: string): ArticleEventData {
    return { id: r.id, slug: r.slug, url: this.url(r), ...(previousSlug !== undefined && previousSlug !== r.slug ? { previousSlug } : {}) };
  }

  private full(records: PublicArticleRecord[], announcements: Announcements): ArticleView[] {
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
}
