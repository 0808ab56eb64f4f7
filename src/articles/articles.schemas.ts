import { Type, type Static, type TSchemaOptions } from 'typebox';
import { DateTime, literalUnion, Nullable, PaginationMeta, typedRef } from '../http/schemas.ts';
import { FeatureImage } from '../media/media.schemas.ts';
import { ARTICLE_STATUSES } from './articles.table.ts';
import { ERROR_MESSAGE_KEYWORD } from '../http/problem.plugin.ts';
import { SLUG_MAX, SLUG_MESSAGE, SLUG_PATTERN } from '../lib/slug.ts';

const TagRef = Type.Object({ slug: Type.String(), name: Type.String() }, { description: 'A tag: link to /v1/tags/{slug}' });
const AuthorRef = Type.Object({ slug: Type.String(), name: Type.String() }, { description: 'An author: link to /v1/authors/{slug}' });
export const ArticleStatusSchema = literalUnion(ARTICLE_STATUSES);

export const ANNOUNCEMENT_STATUSES = ['queued', 'sending', 'posted', 'failed', 'paused', 'cancelled', 'expired', 'skipped'] as const;

export const Article = Type.Object(
  {
    id: Type.Integer({ description: 'Stable numeric id' }),
    slug: Type.String({ description: 'URL slug; a renamed slug answers 301 to the new one' }),
    title: Type.String(),
    excerpt: Type.String({ description: 'Plain text; the editor’s own or the first ~280 characters of the body' }),
    html: Type.String({ description: 'Sanitised HTML of the body, safe to render as is' }),
    status: literalUnion(ARTICLE_STATUSES, { description: 'Always `published` on public reads' }),
    publishedAt: Nullable(DateTime('When it went public')),
    updatedAt: DateTime('Last change'),
    url: Type.String({ description: 'Permalink on the frontend (`SITE_URL` + `PERMALINK`)' }),
    author: Nullable(AuthorRef),
    tags: Type.Array(TagRef),
    readingTimeMinutes: Type.Integer({ minimum: 1 }),
    commentsOpen: Type.Boolean(),
    pingsOpen: Type.Boolean(),
    counts: Type.Object(
      {
        comments: Type.Integer(),
        pingbacks: Type.Integer(),
        webmentions: Type.Integer(),
        likes: Type.Integer({ description: 'Social responses of kind `like`, from every network (polled or through webmentions)' }),
        reposts: Type.Integer({ description: 'Social responses of kind `repost`, from every network' }),
        replies: Type.Integer({
          description:
            'Social responses of kind `reply`: replies on Mastodon, Bluesky and X, and webmentions whose source is an h-entry with `u-in-reply-to` (network `web`). Reader comments are counted in `comments`; a plain webmention (no h-entry) in `webmentions`',
        }),
      },
      { description: 'Approved responses by type; likes, reposts and replies are counted among social responses (`type=social`), mentions and bookmarks are not counted apart' },
    ),
    announcement: Nullable(
      Type.Object(
        {
          status: Type.String({ description: `One of ${ANNOUNCEMENT_STATUSES.join(', ')}` }),
          url: Nullable(Type.String({ description: 'The tweet, once posted' })),
        },
        { description: 'The announcement on X; null when none was queued (announce: false, or not yet published). See `syndication` for every network' },
      ),
    ),
    syndication: Type.Array(
      Type.Object({
        network: Type.String({ description: '`mastodon`, `bluesky` or `x`', examples: ['mastodon'] }),
        url: Type.String({ description: 'The post’s public page' }),
      }),
      { description: 'Where the article was announced: one entry per posted announcement (Mastodon, Bluesky, X, in that order); link them with rel="syndication"' },
    ),
    featureImage: FeatureImage,
  },
  { $id: 'Article', title: 'Article' },
);
export type ArticleView = Static<typeof Article>;
export const ArticleRef = typedRef(Article);

/** What editors see beyond the public shape. */
const AdminArticleFields = Type.Object({
  markdown: Nullable(Type.String({ description: 'The Markdown source, when written in Markdown' })),
  customExcerpt: Type.Boolean({ description: 'true when the excerpt was written by the editor' }),
  publishAt: Nullable(DateTime('When a scheduled article goes public')),
  announce: Type.Boolean(),
  version: Type.Integer({ description: 'Bumped on every change; the ETag is built from it' }),
  createdAt: DateTime('Creation time'),
});
export const AdminArticle = Type.Intersect([Type.Ref('Article'), AdminArticleFields], { $id: 'AdminArticle', title: 'AdminArticle' });
export type AdminArticleView = ArticleView & Static<typeof AdminArticleFields>;
export const adminArticleRef = (options?: TSchemaOptions) => Type.Unsafe<AdminArticleView>(Type.Ref('AdminArticle', options));

const TITLE_MAX = 300;
const BODY_MAX = 500_000;

const writeFields = {
  title: Type.String({ minLength: 1, maxLength: TITLE_MAX, description: 'Plain text' }),
  slug: Type.String({ minLength: 1, maxLength: SLUG_MAX, pattern: SLUG_PATTERN, [ERROR_MESSAGE_KEYWORD]: SLUG_MESSAGE, description: 'Lowercase letters, digits and dashes; generated from the title when omitted' }),
  markdown: Type.String({ maxLength: BODY_MAX, description: 'Body in Markdown (GFM); rendered to sanitised HTML on save' }),
  html: Type.String({ maxLength: BODY_MAX, description: 'Body in HTML, sanitised on save (use either `markdown` or `html`)' }),
  excerpt: Type.String({ maxLength: 1000, description: 'Plain text; derived from the body when omitted or empty' }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 30, description: 'Tag names or slugs; new ones are created' }),
  authorSlug: Nullable(Type.String({ minLength: 1, maxLength: 120, description: 'An existing author' })),
  status: literalUnion(ARTICLE_STATUSES, { description: '`scheduled` needs `publishAt`' }),
  publishAt: Nullable(Type.String({ format: 'date-time', description: 'For `scheduled`: when to publish' })),
  commentsOpen: Type.Boolean(),
  pingsOpen: Type.Boolean(),
  announce: Type.Boolean({ description: 'Announce on X when first published (default true)' }),
  featureImage: Nullable(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'A media id (`POST /v1/admin/media`), or null for none' })),
};

export const CreateArticleBody = Type.Object(
  {
    title: writeFields.title,
    slug: Type.Optional(writeFields.slug),
    markdown: Type.Optional(writeFields.markdown),
    html: Type.Optional(writeFields.html),
    excerpt: Type.Optional(writeFields.excerpt),
    tags: Type.Optional(writeFields.tags),
    authorSlug: Type.Optional(writeFields.authorSlug),
    status: Type.Optional(writeFields.status),
    publishAt: Type.Optional(writeFields.publishAt),
    commentsOpen: Type.Optional(writeFields.commentsOpen),
    pingsOpen: Type.Optional(writeFields.pingsOpen),
    announce: Type.Optional(writeFields.announce),
    featureImage: Type.Optional(writeFields.featureImage),
  },
  { additionalProperties: false, examples: [{ title: 'Hello, world', markdown: 'My *first* post.', tags: ['News'], status: 'published' }] },
);
export type CreateArticleInput = Static<typeof CreateArticleBody>;

/** Every field of a create, all optional: send only what changes. */
export const UpdateArticleBody = Type.Partial(CreateArticleBody, { additionalProperties: false, minProperties: 1 });
export type UpdateArticleInput = Static<typeof UpdateArticleBody>;

/** `fields=`: a sparse read */
export const FieldsParam = Type.String({
  maxLength: 500,
  description: 'Only these top-level fields, comma-separated (`fields=title,slug,excerpt,url,publishedAt`); an unknown name answers 400 listing the valid ones. Without `html` the body is not even read.',
});

export const ListArticlesQuery = Type.Object(
  {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: '1-based page number' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page, 1–100 (default 20). A larger value answers 400, never a silent cap.' })),
    after: Type.Optional(Type.String({ maxLength: 512, description: 'Keyset cursor: `meta.pagination.nextCursor` of the previous page. Walks every article exactly once even while new ones are published. Not with `page` or `order=relevance`.' })),
    tag: Type.Optional(Type.String({ maxLength: 120, description: 'Only articles with this tag slug' })),
    author: Type.Optional(Type.String({ maxLength: 120, description: 'Only articles by this author slug' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Full-text search (web search syntax: `"exact phrase"`, `-exclude`, `or`), accent-insensitive, title weighted above excerpt above body. A search matching up to ~2,000 articles (the server\'s `SEARCH_EXACT_UP_TO`) ranks every match and counts them; a broader one ranks its 100 newest matches (`SEARCH_RANK_WINDOW`), lists the older ones after them newest first, and gives an estimated total (`meta.pagination.estimated`)' })),
    since: Type.Optional(Type.String({ description: 'Published at or after (ISO 8601 date or date-time)' })),
    until: Type.Optional(Type.String({ description: 'Published before (ISO 8601 date or date-time; a bare date includes that whole day)' })),
    id: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}(,[0-9]{1,10}){0,99}$', description: 'Only these ids, comma-separated (up to 100): `id=3,7`. Published ones only; unknown ids are ignored.' })),
    fields: Type.Optional(FieldsParam),
    order: Type.Optional(Type.Union([Type.Literal('-publishedAt'), Type.Literal('publishedAt'), Type.Literal('relevance')], { description: '`-publishedAt` (newest first) by default; `relevance` (the default when `q` is given) needs `q`' })),
  },
  { additionalProperties: false },
);
export type ListArticlesParams = Static<typeof ListArticlesQuery>;

/** Shared component schemas, added once at the root so every scope can $ref them. */
export const articleComponentSchemas = [Article, AdminArticle, PaginationMeta];
