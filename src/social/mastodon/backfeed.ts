// Polling a Mastodon announcement (§13): GET /api/v1/statuses/{id}/context (the
// descendants are the replies, in thread order, parents first), /favourited_by and
// /reblogged_by (paged, a few pages at most). Three calls per poll, more only past
// 40 favourites or boosts (Mastodon's page).
import type { mastodon } from 'masto';
import type { Config } from '../../config.ts';
import { htmlToText } from '../../lib/html.ts';
import type { Collected, Poller, Reaction } from '../backfeed/backfeed.ts';
import type { SocialKind } from '../../comments/responses.table.ts';
import { classifyMastodonFailure, createMastodonClient } from './mastodon-client.ts';

const MAX_PAGES = 3;

const author = (a: mastodon.v1.Account) => ({ name: a.displayName || a.username, url: a.url ?? null, photo: a.avatarStatic || null });

/** A few pages of accounts; `full` is false when pages were left unread (then nobody missing is taken for withdrawn). */
async function accounts(paginator: mastodon.Paginator<mastodon.v1.Account[]>): Promise<{ items: mastodon.v1.Account[]; full: boolean }> {
  const items: mastodon.v1.Account[] = [];
  let pages = 0;
  for await (const page of paginator) {
    items.push(...page);
    if (page.length === 0) break;
    if (++pages >= MAX_PAGES) return { items, full: false };
  }
  return { items, full: true };
}

export function mastodonPoller(config: Pick<Config, 'mastodon'>, timeoutMs: number): Poller {
  const credentials = config.mastodon;
  let client: mastodon.rest.Client | undefined;
  return {
    network: 'mastodon',
    configured: credentials !== undefined,
    classify: classifyMastodonFailure,
    async collect(post, signal): Promise<Collected> {
      if (!credentials) return { reactions: [], complete: [] };
      client ??= createMastodonClient(credentials, timeoutMs);
      const status = client.v1.statuses.$select(post.postId);
      const meta = { requestInit: { signal } };
      const [context, favourites, boosts] = await Promise.all([
        status.context.fetch(undefined, meta),
        accounts(status.favouritedBy.list(undefined, meta)),
        accounts(status.rebloggedBy.list(undefined, meta)),
      ]);
      if (!context || !Array.isArray(context.descendants)) throw new TypeError('Mastodon answered a context without descendants');
      const urls = new Map<string, string>([[post.postId, post.url ?? '']]);
      const out: Reaction[] = [];
      for (const a of favourites.items) out.push({ kind: 'like', author: author(a), text: '', published: null, url: post.url });
      for (const a of boosts.items) out.push({ kind: 'repost', author: author(a), text: '', published: null, url: post.url });
      for (const s of context.descendants) {
        const url = s.url ?? s.uri;
        urls.set(s.id, url);
        // our own account answering in the thread is not a reaction
        if (post.url && s.account.url && post.url.startsWith(`${s.account.url}/`)) continue;
        const parent = s.inReplyToId && s.inReplyToId !== post.postId ? (urls.get(s.inReplyToId) ?? null) : null;
        out.push({ kind: 'reply', author: author(s.account), text: htmlToText(s.content ?? ''), published: new Date(s.createdAt), url, parentUrl: parent });
      }
      const complete: SocialKind[] = ['reply', 'mention'];
      if (favourites.full) complete.push('like');
      if (boosts.full) complete.push('repost');
      return { reactions: out, complete };
    },
  };
}
