// Polling a Bluesky announcement (§13) over the site's one stored session (never a
// login per poll): app.bsky.feed.getPostThread (the replies, nested), getLikes and
// getRepostedBy (paged), and searchPosts for the article's URL: posts by others that
// link the article without replying are mentions. Four calls per poll, more only past
// 100 likes, reposts or mentions.
import { Agent, AppBskyFeedDefs, AppBskyFeedPost, type AppBskyActorDefs } from '@atproto/api';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import { loadSession, storeSession } from '../announcements/network-state.repository.ts';
import type { Collected, Poller, Reaction } from '../backfeed/backfeed.ts';
import type { SocialKind } from '../../comments/responses.table.ts';
import { classifyBlueskyFailure, postUrl } from './bluesky-client.ts';
import { BlueskySession } from './bluesky-session.ts';

const PAGE = 100;
const MAX_PAGES = 3;
const THREAD_DEPTH = 10;

const profileUrl = (handle: string) => `https://bsky.app/profile/${handle}`;
const author = (a: Pick<AppBskyActorDefs.ProfileViewBasic, 'handle' | 'displayName' | 'avatar'>) => ({ name: a.displayName || a.handle, url: profileUrl(a.handle), photo: a.avatar ?? null });
const urlOf = (p: AppBskyFeedDefs.PostView) => postUrl(p.author.handle, p.uri.split('/').pop() ?? '');
const textOf = (p: AppBskyFeedDefs.PostView) => (AppBskyFeedPost.isRecord(p.record) && typeof p.record.text === 'string' ? p.record.text : '');
const dateOf = (p: AppBskyFeedDefs.PostView) => {
  const raw = AppBskyFeedPost.isRecord(p.record) && typeof p.record.createdAt === 'string' ? p.record.createdAt : p.indexedAt;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** Follows a cursor for a few pages; `full` is false when pages were left unread (then nobody missing is taken for withdrawn). */
async function paged<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; cursor?: string }>): Promise<{ items: T[]; full: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const r = await page(cursor);
    items.push(...r.items);
    if (!r.cursor || r.items.length === 0) return { items, full: true };
    cursor = r.cursor;
  }
  return { items, full: false };
}

export function blueskyPoller(config: Pick<Config, 'bluesky'>, db: Db, timeoutMs: number): Poller {
  const credentials = config.bluesky;
  const session = credentials
    ? new BlueskySession(credentials, { load: () => loadSession(db, 'bluesky'), save: (json) => storeSession(db, 'bluesky', json) }, timeoutMs)
    : undefined;
  const agent = session ? new Agent(session) : undefined;
  return {
    network: 'bluesky',
    configured: credentials !== undefined,
    classify: classifyBlueskyFailure,
    async collect(post, signal): Promise<Collected> {
      if (!session || !agent) return { reactions: [], complete: [] };
      const { did } = await session.current();
      const uri = post.postId;
      const feed = agent.app.bsky.feed;
      const [thread, likes, reposts, found] = await Promise.all([
        feed.getPostThread({ uri, depth: THREAD_DEPTH, parentHeight: 0 }, { signal }),
        paged(async (cursor) => {
          const r = await feed.getLikes({ uri, limit: PAGE, cursor }, { signal });
          return { items: r.data.likes, cursor: r.data.cursor };
        }),
        paged(async (cursor) => {
          const r = await feed.getRepostedBy({ uri, limit: PAGE, cursor }, { signal });
          return { items: r.data.repostedBy, cursor: r.data.cursor };
        }),
        paged(async (cursor) => {
          const r = await feed.searchPosts({ q: post.articleUrl, url: post.articleUrl, limit: PAGE, cursor }, { signal });
          return { items: r.data.posts, cursor: r.data.cursor };
        }),
      ]);
      const out: Reaction[] = [];
      for (const l of likes.items) out.push({ kind: 'like', author: author(l.actor), text: '', published: new Date(l.createdAt), url: post.url });
      for (const a of reposts.items) out.push({ kind: 'repost', author: author(a), text: '', published: null, url: post.url });

      const seen = new Set<string>([uri]);
      const walk = (node: AppBskyFeedDefs.ThreadViewPost, parentUrl: string | null) => {
        for (const r of node.replies ?? []) {
          if (!AppBskyFeedDefs.isThreadViewPost(r)) continue;
          const url = urlOf(r.post);
          seen.add(r.post.uri);
          if (r.post.author.did !== did) out.push({ kind: 'reply', author: author(r.post.author), text: textOf(r.post), published: dateOf(r.post), url, parentUrl });
          walk(r, r.post.author.did !== did ? url : null);
        }
      };
      if (!AppBskyFeedDefs.isThreadViewPost(thread.data.thread)) throw new TypeError('Bluesky answered a thread that is not a post (deleted or blocked)');
      walk(thread.data.thread, null);
      for (const p of found.items) {
        if (p.author.did === did || seen.has(p.uri)) continue;
        seen.add(p.uri);
        out.push({ kind: 'mention', author: author(p.author), text: textOf(p), published: dateOf(p), url: urlOf(p) });
      }
      const complete: SocialKind[] = ['reply'];
      if (likes.full) complete.push('like');
      if (reposts.full) complete.push('repost');
      if (found.full) complete.push('mention');
      return { reactions: out, complete };
    },
  };
}
