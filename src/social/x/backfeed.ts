// Polling an X announcement (§13), only with X_BACKFEED=on: X's reads are paid, so every
// read request is counted against X_BACKFEED_MONTHLY_READS per calendar month (UTC), in
// the database, so that every process spends from one budget. Four reads per poll:
//   GET /2/tweets/search/recent?query=conversation_id:<id>  the replies (recent search: 7 days)
//   GET /2/tweets/:id/liking_users                           the likes
//   GET /2/tweets/:id/retweeted_by                           the reposts
//   GET /2/tweets/:id/quote_tweets                           quotes, stored as mentions
// more only past 100 of a kind (a page each, at most 3). A poll that would overspend
// is not made: polling waits for the next month. Recent search only sees the last 7 days,
// so once the post is older, replies no longer found are not taken for deleted.
import type { TwitterApi, TweetV2, UserV2 } from 'twitter-api-v2';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { SocialKind } from '../../comments/responses.table.ts';
import { spendBackfeedReads } from '../announcements/network-state.repository.ts';
import { nextMonthStart } from '../announcements/announce.worker.ts';
import { MalformedAnswerError, type Failure } from '../announcements/network.ts';
import type { Collected, PolledPost, Poller, Reaction } from '../backfeed/backfeed.ts';
import { classifyXFailure, createXClient, tweetUrl } from './x-client.ts';

const PAGE = 100;
const MAX_PAGES = 3;
/** how far back GET /2/tweets/search/recent looks */
const SEARCH_WINDOW_MS = 7 * 24 * 3_600_000;
/** search, liking_users, retweeted_by, quote_tweets */
export const X_READS_PER_POLL = 4;

const USER_FIELDS: ('name' | 'username' | 'profile_image_url')[] = ['name', 'username', 'profile_image_url'];
const TWEET_FIELDS: ('author_id' | 'created_at' | 'conversation_id' | 'referenced_tweets')[] = ['author_id', 'created_at', 'conversation_id', 'referenced_tweets'];

/** The month's reads are spent: nothing is read before `until`. */
class ReadCapError extends Error {
  override name = 'ReadCapError';
  constructor(
    readonly until: Date,
    message: string,
  ) {
    super(message);
  }
}

interface XPage<T> {
  data?: T[];
  includes?: { users?: UserV2[] };
  meta?: { result_count?: number; next_token?: string };
}

/** X's list answer, or MalformedAnswerError: a page without `meta.result_count`, or whose `data` is not a list, is not X's. */
function checked<T>(raw: unknown, what: string): XPage<T> {
  const p = raw as XPage<T> | null;
  if (!p || typeof p !== 'object' || Array.isArray(p) || !p.meta || typeof p.meta.result_count !== 'number' || (p.data !== undefined && !Array.isArray(p.data))) {
    throw new MalformedAnswerError(`X answered ${what} with ${JSON.stringify(raw ?? null).slice(0, 200)}`);
  }
  return p;
}

/** X usernames: 1 to 15 letters, digits, underscores. Anything else does not make a profile URL. */
const USERNAME = /^\w{1,15}$/;
const author = (u: UserV2) => ({ name: u.name || u.username, url: `https://x.com/${u.username}`, photo: u.profile_image_url ?? null });
const dateOf = (t: TweetV2) => {
  const d = new Date(t.created_at ?? '');
  return Number.isNaN(d.getTime()) ? null : d;
};
/** a reply's text starts with the @names it answers: the thread already says that */
const textOf = (t: TweetV2) => (typeof t.text === 'string' ? t.text.replace(/^(?:@\w{1,15}\s+)+/, '') : '');

/** Like Promise.all, but waits for every promise before throwing the first failure. */
async function allOrFirstError<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The numeric user id an OAuth 1.0a access token belongs to ("<user id>-<secret part>"). */
const tokenUserId = (accessToken: string) => /^(\d+)-/.exec(accessToken)?.[1];

export function xPoller(config: Pick<Config, 'twitter' | 'twitterApiUrl' | 'xBackfeed' | 'xBackfeedMonthlyReads'>, db: Db, timeoutMs: number): Poller {
  const credentials = config.twitter;
  const cap = config.xBackfeedMonthlyReads;
  let client: TwitterApi | undefined;
  let ownId: string | undefined;

  const spend = async (n: number) => {
    if (await spendBackfeedReads(db, 'x', n, cap)) return;
    const until = nextMonthStart();
    const month = new Date().toISOString().slice(0, 7);
    throw new ReadCapError(until, `X_BACKFEED_MONTHLY_READS (${cap}) is spent for ${month}: X is polled again from ${until.toISOString().slice(0, 10)}`);
  };

  /** Reads pages of a list (each page after the first spends one read); `full` is false when pages were left unread. */
  async function pages<T>(what: string, first: XPage<T>, next: (token: string) => Promise<unknown>): Promise<{ items: T[]; users: UserV2[]; full: boolean }> {
    const items: T[] = [];
    const users: UserV2[] = [];
    let page = first;
    for (let n = 1; ; n++) {
      items.push(...(page.data ?? []));
      users.push(...(page.includes?.users ?? []));
      const token = page.meta?.next_token;
      if (!token || !page.data?.length) return { items, users, full: true };
      if (n >= MAX_PAGES) return { items, users, full: false };
      await spend(1);
      page = checked<T>(await next(token), what);
    }
  }

  return {
    network: 'x',
    configured: config.xBackfeed && credentials !== undefined,
    classify(err: unknown, now = Date.now()): Failure {
      if (err instanceof ReadCapError) return { kind: 'rate-limited', reason: err.message, until: err.until.getTime() };
      if (err instanceof MalformedAnswerError) return { kind: 'transient', reason: err.message, ambiguous: false };
      return classifyXFailure(err, now);
    },
    async collect(post: PolledPost): Promise<Collected> {
      if (!credentials) return { reactions: [], complete: [] };
      client ??= createXClient(credentials, { baseUrl: config.twitterApiUrl, timeoutMs });
      const v2 = client.v2;
      if (!ownId) {
        ownId = tokenUserId(credentials.accessToken);
        if (!ownId) {
          await spend(1);
          ownId = (await v2.me()).data.id;
        }
      }
      const id = post.postId;
      await spend(X_READS_PER_POLL);
      const userPage = { max_results: PAGE, 'user.fields': USER_FIELDS };
      const tweetPage = { max_results: PAGE, expansions: ['author_id' as const], 'tweet.fields': TWEET_FIELDS, 'user.fields': USER_FIELDS };
      const query = `conversation_id:${id}`;
      // every read ends before the poll does (a failed one does not leave the others running)
      const [replies, likes, reposts, quotes] = await allOrFirstError([
        v2.search(query, tweetPage).then((p) => pages<TweetV2>('the search', checked(p.data, 'the search'), async (t) => (await v2.search(query, { ...tweetPage, next_token: t })).data)),
        v2.tweetLikedBy(id, userPage).then((p) => pages<UserV2>('liking_users', checked(p, 'liking_users'), (t) => v2.tweetLikedBy(id, { ...userPage, pagination_token: t }))),
        v2.tweetRetweetedBy(id, userPage).then((p) => pages<UserV2>('retweeted_by', checked(p, 'retweeted_by'), (t) => v2.tweetRetweetedBy(id, { ...userPage, pagination_token: t }))),
        v2.quotes(id, tweetPage).then((p) => pages<TweetV2>('quote_tweets', checked(p.data, 'quote_tweets'), async (t) => (await v2.quotes(id, { ...tweetPage, pagination_token: t })).data)),
      ]);

      const out: Reaction[] = [];
      for (const u of likes.items) if (USERNAME.test(u?.username) && u.id !== ownId) out.push({ kind: 'like', author: author(u), text: '', published: null, url: post.url });
      for (const u of reposts.items) if (USERNAME.test(u?.username) && u.id !== ownId) out.push({ kind: 'repost', author: author(u), text: '', published: null, url: post.url });

      // replies come newest first: the thread is rebuilt oldest first, so a parent comes before its replies
      const users = new Map([...replies.users, ...quotes.users].map((u) => [u.id, u]));
      const urls = new Map<string, string>();
      const byAge = replies.items.filter((t) => typeof t?.id === 'string' && /^\d+$/.test(t.id)).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      for (const t of byAge) {
        const who = users.get(t.author_id ?? '');
        if (!who || !USERNAME.test(who.username)) continue;
        const url = tweetUrl(t.id, who.username);
        urls.set(t.id, url);
        // our own post and our own answers in the thread are not reactions
        if (t.id === id || t.author_id === ownId) continue;
        const parentId = t.referenced_tweets?.find((r) => r.type === 'replied_to')?.id;
        const parentUrl = parentId && parentId !== id ? (urls.get(parentId) ?? null) : null;
        out.push({ kind: 'reply', author: author(who), text: textOf(t), published: dateOf(t), url, parentUrl });
      }
      for (const t of quotes.items) {
        const who = users.get(t?.author_id ?? '');
        if (!who || !USERNAME.test(who.username) || t.author_id === ownId) continue;
        out.push({ kind: 'mention', author: author(who), text: textOf(t), published: dateOf(t), url: tweetUrl(t.id, who.username) });
      }

      const complete: SocialKind[] = [];
      if (likes.full) complete.push('like');
      if (reposts.full) complete.push('repost');
      // recent search sees 7 days: a reply older than that is not found any more, yet not deleted
      if (replies.full && Date.now() - post.postedAt.getTime() < SEARCH_WINDOW_MS) complete.push('reply');
      if (quotes.full) complete.push('mention');
      return { reactions: out, complete };
    },
  };
}
