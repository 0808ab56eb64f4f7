import { boolean, customType, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { authors, tags } from '../taxonomy/taxonomy.table.ts';
import { media } from '../media/media.table.ts';

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

export const ARTICLE_STATUSES = ['draft', 'scheduled', 'published', 'archived'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

export const articles = pgTable(
  'articles',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    slug: text('slug').notNull().unique(),
    title: text('title').notNull(),
    /** the source as written, when the editor wrote Markdown */
    markdown: text('markdown'),
    /** sanitised HTML, what readers get */
    html: text('html').notNull(),
    /** plain text of the body, for search and excerpts */
    text: text('text').notNull().default(''),
    excerpt: text('excerpt').notNull().default(''),
    customExcerpt: boolean('custom_excerpt').notNull().default(false),
    status: text('status').$type<ArticleStatus>().notNull().default('draft'),
    publishAt: timestamp('publish_at', { withTimezone: true }),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    /** set once, the first time the article goes public; never cleared */
    firstPublishedAt: timestamp('first_published_at', { withTimezone: true }),
    authorId: integer('author_id').references(() => authors.id, { onDelete: 'set null' }),
    commentsOpen: boolean('comments_open').notNull().default(true),
    pingsOpen: boolean('pings_open').notNull().default(true),
    announce: boolean('announce').notNull().default(true),
    /** shown above the article, in lists and feeds; a library image can't be deleted while in use */
    featureImageId: integer('feature_image_id').references(() => media.id, { onDelete: 'restrict' }),
    readingTimeMinutes: integer('reading_time_minutes').notNull().default(1),
    /** bumped on every write; the admin ETag and If-Match are built from it */
    version: integer('version').notNull().default(1),
    /** maintained by a trigger: weighted, accent-folded */
    search: tsvector('search'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // DESC NULLS FIRST = what `order by published_at desc, id desc` means in PostgreSQL: the list
    // walks this index and stops after one page (and backwards for `order=publishedAt`)
    index('articles_public_idx').on(t.publishedAt.desc().nullsFirst(), t.id.desc().nullsFirst()).where(sql`${t.status} = 'published'`),
    index('articles_author_idx').on(t.authorId, t.publishedAt.desc()),
    index('articles_status_idx').on(t.status, t.updatedAt.desc()),
    index('articles_due_idx').on(t.publishAt).where(sql`${t.status} = 'scheduled'`),
    index('articles_search_idx').using('gin', t.search),
    index('articles_feature_image_idx').on(t.featureImageId).where(sql`${t.featureImageId} is not null`),
  ],
);

/** Old slugs keep answering with 301 to the article's current slug. */
export const slugRedirects = pgTable('slug_redirects', {
  slug: text('slug').primaryKey(),
  articleId: integer('article_id')
    .notNull()
    .references(() => articles.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const articleTags = pgTable(
  'article_tags',
  {
    articleId: integer('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    tagId: integer('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
    position: integer('position').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.articleId, t.tagId] }), index('article_tags_tag_idx').on(t.tagId, t.articleId)],
);
