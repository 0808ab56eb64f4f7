// The one article factory. Articles are made by the real article service, so tests see
// exactly what editors produce: through the admin API (`createArticle`, for tests of HTTP)
// or straight through the service (`publishArticle`, for listeners and workers).
import type { CreateArticleInput } from '../../src/articles/articles.schemas.ts';
import type { PublishedArticle } from '../../src/articles/publishing.ts';
import type { Services } from '../../src/compose.ts';
import type { TestApp } from './app.ts';

/** What every factory-made article has unless the test says otherwise. */
const ARTICLE_DEFAULTS = { title: 'An article', markdown: 'Some words.' } as const;

/** Creates an article through the admin API; returns the admin view. */
export async function createArticle(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/admin/articles',
    headers: t.auth,
    payload: { ...ARTICLE_DEFAULTS, status: 'published', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`createArticle: ${res.statusCode} ${res.body}`);
  return res.json() as { id: number; slug: string; url: string; status: string; version: number; [k: string]: unknown };
}

export async function adminRequest(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method, url, headers: { ...t.auth, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

export type ArticleSpec = Partial<Omit<CreateArticleInput, 'status' | 'publishAt'>> & {
  /** published at this (past) time: the article is scheduled for it, then published, as an editor would */
  publishedAt?: Date;
};

// what the publishing listeners were handed, per app and article: the article "as listeners saw it"
const heard = new WeakMap<Services, Map<number, PublishedArticle>>();

function listenedTo(services: Services): Map<number, PublishedArticle> {
  let seen = heard.get(services);
  if (!seen) {
    const map = new Map<number, PublishedArticle>();
    services.publishing.subscribe({
      onPublished: async (_tx, article) => void map.set(article.id, article),
      onUpdated: async (_tx, article) => void map.set(article.id, article),
    });
    heard.set(services, (seen = map));
  }
  return seen;
}

let seq = 0;

/**
 * Creates and publishes an article through the article service (its publish transaction,
 * listeners included); returns the article as the publishing listeners saw it.
 */
export async function publishArticle(services: Services, spec: ArticleSpec = {}): Promise<PublishedArticle> {
  const seen = listenedTo(services);
  const { publishedAt, ...input } = spec;
  const { article } = await services.articles.create({
    ...ARTICLE_DEFAULTS,
    slug: `article-${Date.now().toString(36)}-${++seq}`,
    ...input,
    ...(publishedAt ? { status: 'scheduled', publishAt: publishedAt.toISOString() } : { status: 'published' }),
  });
  if (publishedAt) await services.articles.publish(article.id);
  const published = seen.get(article.id);
  if (!published) throw new Error(`publishArticle: the listeners did not hear article ${article.id} published`);
  return published;
}

/** Unpublishes through the article service. */
export async function unpublishArticle(services: Services, article: { id: number }): Promise<void> {
  await services.articles.unpublish(article.id);
}

/** Publishes again, through the article service, an article that was public before. */
export async function republishArticle(services: Services, article: { id: number }): Promise<void> {
  await services.articles.publish(article.id);
}
