// From a target URL (as a pingback or a webmention names it) to one of our articles.
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { parsePermalink } from '../../articles/permalink.ts';
import { findArticleRef, findRedirect, type ArticleRef } from '../../articles/articles.repository.ts';
import { MAX_URL_LENGTH, parseExternalUrl } from '../../lib/external-url.ts';

export type TargetResult =
  /** mentioned: `mentionFrom` already has a response on the article (false when not asked) */
  | { ok: true; article: ArticleRef; url: URL; mentioned: boolean }
  /** not-ours: not a permalink of this site · not-found: no such published article · closed: pings are closed */
  | { ok: false; reason: 'not-ours' | 'not-found' | 'closed'; detail: string };

/** who sent a pingback or a webmention: keys the per-source limits and names them in logs */
export interface Caller {
  ip: string;
  userAgent?: string;
}

/** the front door's say once the target is known, before anything is fetched */
export interface TargetHooks {
  /** throws to refuse (per-target rate limit): a fault 0x31 for pingback, a 429 for Webmention */
  admitTarget?(articleId: number): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Resolves a frontend permalink (SITE_URL + PERMALINK; query and fragment ignored) to a published article;
 * with `mentionFrom`, the same read also tells whether that source page already mentions it.
 */
export async function resolveTarget(
  db: Db,
  config: Pick<Config, 'siteUrl' | 'permalink'>,
  target: string,
  opts: { requireOpen?: boolean; mentionFrom?: string } = {},
): Promise<TargetResult> {
  const url = parseExternalUrl(target);
  if (!url) return { ok: false, reason: 'not-ours', detail: `The target is not an absolute URL of at most ${MAX_URL_LENGTH} characters.` };
  const parts = parsePermalink(config, url.href);
  if (!parts) return { ok: false, reason: 'not-ours', detail: 'The target is not an article permalink of this site.' };
  const ask = { mentionFrom: opts.mentionFrom };
  let article: (ArticleRef & { mentioned: boolean }) | null;
  if (parts.slug !== undefined) {
    // a renamed article still answers to the links made under its old slug
    article = await findArticleRef(db, { slug: parts.slug }, ask);
    const renamed = article ? null : await findRedirect(db, parts.slug);
    if (renamed) article = await findArticleRef(db, { slug: renamed }, ask);
  } else article = await findArticleRef(db, { id: parts.id! }, ask);
  const notFound = { ok: false, reason: 'not-found', detail: 'The target is not a published article.' } as const;
  if (!article || article.status !== 'published') return notFound;
  if (parts.id !== undefined && parts.id !== article.id) return notFound;
  const d = article.publishedAt;
  if (d && ((parts.yyyy && parts.yyyy !== String(d.getUTCFullYear())) || (parts.mm && parts.mm !== pad(d.getUTCMonth() + 1)) || (parts.dd && parts.dd !== pad(d.getUTCDate())))) {
    return notFound;
  }
  if (opts.requireOpen !== false && !article.pingsOpen) return { ok: false, reason: 'closed', detail: 'The target article does not accept pingbacks or webmentions.' };
  const { mentioned, ...ref } = article;
  return { ok: true, article: ref, url, mentioned };
}
