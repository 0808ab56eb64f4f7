// Reactions for the backfeed's fakes, shared by the backfeed tests and the echo
// screenshot: Mastodon accounts, and Bluesky's reads (getPostThread, getLikes,
// getRepostedBy, searchPosts) served from a state the test changes between polls.
import type { ServerResponse } from 'node:http';
import { TID } from '@atproto/common-web';
import type { FakeAccount } from '../helpers/fake-mastodon.ts';
import { BLUESKY_DID, BLUESKY_HANDLE, cidOf, type FakeBluesky } from '../helpers/fake-bluesky.ts';

/** Someone on Mastodon (another instance). */
export const account = (name: string): FakeAccount => ({
  id: String(200 + name.length),
  username: name.toLowerCase(),
  acct: `${name.toLowerCase()}@other.example`,
  url: `https://other.example/@${name.toLowerCase()}`,
  displayName: name,
  avatar: `https://other.example/avatars/${name.toLowerCase()}.png`,
});

export interface Person {
  did: string;
  handle: string;
  displayName: string;
  avatar: string;
}
export interface BskyPost {
  author: Person;
  rkey: string;
  text: string;
  createdAt: string;
  replies: BskyPost[];
}
/** Someone on Bluesky. */
export const person = (name: string): Person => ({
  did: `did:plc:${name.toLowerCase()}${'x'.repeat(24 - name.length)}`,
  handle: `${name.toLowerCase()}.bsky.test`,
  displayName: name,
  avatar: `https://cdn.bsky.test/${name.toLowerCase()}.jpg`,
});
/** The blog's own Bluesky account. */
export const me: Person = { did: BLUESKY_DID, handle: BLUESKY_HANDLE, displayName: 'Inkwell', avatar: '' };
export const bpost = (author: Person, text: string): BskyPost => ({ author, rkey: TID.nextStr(), text, createdAt: '2026-11-30T12:00:00.000Z', replies: [] });

export interface BskyReactions {
  likes: Person[];
  reposts: Person[];
  replies: BskyPost[];
  mentions: BskyPost[];
  /** every read answers 500 */
  failing: boolean;
}
export const newBskyReactions = (): BskyReactions => ({ likes: [], reposts: [], replies: [], mentions: [], failing: false });

const uriOf = (p: { author: Person; rkey: string }) => `at://${p.author.did}/app.bsky.feed.post/${p.rkey}`;
const view = (p: BskyPost) => ({
  uri: uriOf(p),
  cid: cidOf(p.rkey, 0x71),
  author: { did: p.author.did, handle: p.author.handle, displayName: p.author.displayName, ...(p.author.avatar ? { avatar: p.author.avatar } : {}) },
  record: { $type: 'app.bsky.feed.post', text: p.text, createdAt: p.createdAt },
  indexedAt: p.createdAt,
});
const profile = (p: Person) => ({ did: p.did, handle: p.handle, displayName: p.displayName, avatar: p.avatar });
const thread = (p: BskyPost): Record<string, unknown> => ({ $type: 'app.bsky.feed.defs#threadViewPost', post: view(p), replies: p.replies.map(thread) });

/** Serves the Bluesky backfeed's reads on `b` from `state`; `announced` is our post. */
export function serveBskyReactions(b: FakeBluesky, state: BskyReactions, announced: () => BskyPost): void {
  const answer = (res: ServerResponse, body: unknown): void => {
    const failing = state.failing;
    res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(failing ? { error: 'InternalServerError', message: 'Internal Server Error' } : body));
  };
  b.route('app.bsky.feed.getPostThread', (_req, res) => answer(res, { thread: thread({ ...announced(), replies: state.replies }) }));
  b.route('app.bsky.feed.getLikes', (req, res) =>
    answer(res, { uri: req.query.get('uri'), likes: state.likes.map((p) => ({ actor: profile(p), createdAt: '2026-11-30T12:01:00.000Z', indexedAt: '2026-11-30T12:01:00.000Z' })) }),
  );
  b.route('app.bsky.feed.getRepostedBy', (req, res) => answer(res, { uri: req.query.get('uri'), repostedBy: state.reposts.map(profile) }));
  b.route('app.bsky.feed.searchPosts', (_req, res) => answer(res, { posts: [view(announced()), ...state.mentions.map(view)] }));
}
