// Draft preview: an editor asks for a token, a frontend reads the article as it is now
// (any status, the latest edit) with it. Tokens are 32 random bytes; only their SHA-256
// is stored, so the table leaks none. They die at `PREVIEW_TTL`, when revoked, and with
// their article (ON DELETE CASCADE).
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { notFound } from '../http/errors.ts';
import { previewTokens } from './previews.table.ts';
import type { ArticlesService } from './articles.service.ts';
import type { ArticleView } from './articles.schemas.ts';

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
/** what a token looks like: anything else is unknown without a database read */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class PreviewsService {
  constructor(private readonly deps: { db: Db; config: Pick<Config, 'siteUrl' | 'previewTtlMs' | 'previewUrl'>; articles: ArticlesService }) {}

  async create(articleId: number): Promise<{ token: string; url: string; expiresAt: string }> {
    const { article } = await this.deps.articles.getAdmin(articleId);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.deps.config.previewTtlMs);
    await this.deps.db.insert(previewTokens).values({ tokenHash: hash(token), articleId, expiresAt });
    const fill: Record<string, string> = { '{siteUrl}': this.deps.config.siteUrl, '{token}': token, '{id}': String(article.id), '{slug}': encodeURIComponent(article.slug) };
    const url = this.deps.config.previewUrl.replace(/\{siteUrl\}|\{token\}|\{id\}|\{slug\}/g, (k) => fill[k]);
    return { token, url, expiresAt: expiresAt.toISOString() };
  }

  async revoke(token: string): Promise<void> {
    const rows = TOKEN.test(token) ? await this.deps.db.delete(previewTokens).where(eq(previewTokens.tokenHash, hash(token))).returning({ a: previewTokens.articleId }) : [];
    if (!rows.length) throw notFound('Preview token');
  }

  /** The article behind a live token, in the public shape; 404 for an unknown, revoked or expired token. */
  async read(token: string): Promise<ArticleView> {
    const [row] = TOKEN.test(token)
      ? await this.deps.db
          .select({ articleId: previewTokens.articleId })
          .from(previewTokens)
          .where(and(eq(previewTokens.tokenHash, hash(token)), gt(previewTokens.expiresAt, sql`now()`)))
      : [];
    const article = row ? await this.deps.articles.previewView(row.articleId) : null;
    if (!article) throw notFound('Preview (unknown, revoked or expired token)');
    return article;
  }
}
