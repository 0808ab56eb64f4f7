// A fake X API v2 on 127.0.0.1 for the announcement and backfeed tests. Like X, it:
//  - verifies the OAuth 1.0a HMAC-SHA1 signature of every request (RFC 5849 §3.4),
//    recomputed from the method, the URL, the oauth_* and query/form parameters and
//    the consumer and token secrets, and refuses bad ones (and replayed nonces) with 401;
//  - stores posts and refuses identical text with 403 "duplicate content";
//  - refuses text over 280 weighted characters with 400;
//  - answers the backfeed's reads (GET /2/tweets/search/recent with conversation_id:,
//    /2/tweets/:id/liking_users, /retweeted_by, /quote_tweets) from reactions the tests
//    add and withdraw, paged with max_results and a token, with only the fields and
//    expansions asked for, and refuses with 400 what X refuses (an unknown parameter,
//    field or expansion, max_results out of range); recent search sees 7 days.
// Tests script what the next requests get: any answer of reference/twitter.md §3
// (401, 403 variants, 429 with reset headers, 503 with HTML…), or a misbehaving
// connection (store then drop, drop, hang, answer slowly).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import twitter from 'twitter-text';
import type { TwitterCredentials } from '../../src/config.ts';

export const FAKE_CREDENTIALS: TwitterCredentials = {
  appKey: 'fake-consumer-key',
  appSecret: 'fake-consumer-secret with spaces & symbols!',
  accessToken: '1234567890-fakeAccessToken',
  accessSecret: 'fake-access-secret~*',
};

export interface Post {
  id: string;
  text: string;
}

/** The account the fake credentials belong to (an access token starts with its user's id). */
export const OWN_USER = { id: FAKE_CREDENTIALS.accessToken.split('-')[0], name: 'Inkwell', username: 'inkwellblog' };

export interface XUser {
  id: string;
  name: string;
  username: string;
  profile_image_url?: string;
}

/** A post by someone else: a reply in a conversation, or a quote. */
export interface XTweet {
  id: string;
  text: string;
  author: XUser;
  created_at: string;
  conversation_id: string;
  replied_to?: string;
  quoted?: string;
}

const USER_FIELDS = new Set(['created_at', 'description', 'entities', 'id', 'location', 'name', 'pinned_tweet_id', 'profile_image_url', 'protected', 'public_metrics', 'url', 'username', 'verified', 'withheld']);
const TWEET_FIELDS = new Set(['attachments', 'author_id', 'context_annotations', 'conversation_id', 'created_at', 'entities', 'geo', 'id', 'in_reply_to_user_id', 'lang', 'public_metrics', 'possibly_sensitive', 'referenced_tweets', 'reply_settings', 'source', 'text', 'withheld', 'edit_history_tweet_ids']);
const EXPANSIONS = new Set(['author_id', 'referenced_tweets.id', 'in_reply_to_user_id', 'referenced_tweets.id.author_id', 'entities.mentions.username', 'attachments.media_keys']);
const SEARCH_WINDOW_MS = 7 * 24 * 3_600_000;

export interface LoggedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** why the signature was refused; null when it verified */
  authProblem: string | null;
  /** what the fake did */
  outcome: string;
}

/** What the fake does with one request to POST /2/tweets (after the signature is checked). */
export type Scripted =
  /** behave like X: post it (201), or 403 if the same text is already posted */
  | { kind: 'x' }
  /** answer this, post nothing */
  | { kind: 'answer'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** post it like X would, then cut the connection before answering: "did it work?" */
  | { kind: 'store-then-drop' }
  /** cut the connection without posting */
  | { kind: 'drop' }
  /** post it, then never answer (the client must time out, or the process dies) */
  | { kind: 'store-then-hang' }
  /** behave like X, but answer after `ms` */
  | { kind: 'slow'; ms: number }
  /** behave like X and add these headers (rate-limit windows on a success) */
  | { kind: 'x-with-headers'; headers: Record<string, string> };

const problem = (status: number, body: Record<string, unknown>, headers?: Record<string, string>): Scripted => ({
  kind: 'answer',
  status,
  body: JSON.stringify(body),
  contentType: 'application/problem+json',
  headers,
});

const unix = (d: Date | number) => String(Math.floor((typeof d === 'number' ? d : d.getTime()) / 1000));

/** Answers X gives, as observed (reference/twitter.md §3). */
export const X = {
  duplicate: () =>
    problem(403, { detail: 'You are not allowed to create a Tweet with duplicate content.', type: 'about:blank', title: 'Forbidden', status: 403 }),
  unauthorized: () => problem(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }),
  oauth1Permissions: () =>
    problem(403, {
      title: 'Forbidden',
      type: 'https://api.twitter.com/2/problems/oauth1-permissions',
      status: 403,
      detail: 'Your client app is not configured with the appropriate oauth1 app permissions for this endpoint.',
    }),
  unsupportedAuthentication: () =>
    problem(403, {
      title: 'Unsupported Authentication',
      type: 'https://api.twitter.com/2/problems/unsupported-authentication',
      status: 403,
      detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].',
    }),
  forbidden: (detail = 'You are not permitted to create this Tweet.') => problem(403, { title: 'Forbidden', type: 'about:blank', status: 403, detail }),
  tooLong: () =>
    problem(400, {
      title: 'Invalid Request',
      type: 'https://api.twitter.com/2/problems/invalid-request',
      status: 400,
      detail: 'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
    }),
  paymentRequired: () =>
    problem(402, { title: 'Payment Required', type: 'https://api.twitter.com/2/problems/payment-required', status: 402, detail: 'Your enrolled account does not have any credits.' }),
  /** 429 with the 15-minute window exhausted until `reset` */
  rateLimited: (reset: Date) =>
    problem(
      429,
      { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' },
      { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': unix(reset) },
    ),
  /** 429 where only the user's 24-hour window is exhausted; the 15-minute one has room and resets sooner */
  userDayLimited: (windowReset: Date, dayReset: Date) =>
    problem(
      429,
      { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' },
      {
        'x-rate-limit-limit': '100',
        'x-rate-limit-remaining': '97',
        'x-rate-limit-reset': unix(windowReset),
        'x-user-limit-24hour-limit': '17',
        'x-user-limit-24hour-remaining': '0',
        'x-user-limit-24hour-reset': unix(dayReset),
      },
    ),
  usageCapped: (windowReset: Date) =>
    problem(
      429,
      {
        title: 'UsageCapExceeded',
        period: 'Monthly',
        scope: 'Product',
        detail: 'Usage cap exceeded: Monthly product cap',
        type: 'https://api.twitter.com/2/problems/usage-capped',
      },
      { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '99', 'x-rate-limit-reset': unix(windowReset) },
    ),
  serverErrorJson: () => problem(500, { title: 'Internal Server Error', type: 'about:blank', status: 500, detail: 'Internal Server Error' }),
  unavailableHtml: (): Scripted => ({
    kind: 'answer',
    status: 503,
    contentType: 'text/html; charset=utf-8',
    body: '<!DOCTYPE html><html><head><title>Over capacity</title></head><body><h1>Something is technically wrong.</h1><p>Thanks for noticing—we’re going to fix it up and have things back to normal soon.</p></body></html>',
  }),
};

// --- OAuth 1.0a (RFC 5849) -----------------------------------------------------

/** RFC 3986 percent-encoding as RFC 5849 §3.6 requires (unreserved characters only stay as they are). */
export function pct(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseAuthorization(header: string | undefined): Record<string, string> | null {
  if (!header || !/^OAuth\s+/i.test(header)) return null;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_%.~-]+)="([^"]*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header.replace(/^OAuth\s+/i, '')))) out[decodeURIComponent(m[1])] = decodeURIComponent(m[2]);
  return out;
}

/** The signature base string of RFC 5849 §3.4.1, from what arrived on the wire. */
export function signatureBaseString(method: string, baseUrl: string, params: [string, string][]): string {
  const normalized = params
    .map(([k, v]) => [pct(k), pct(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return [method.toUpperCase(), pct(baseUrl), pct(normalized)].join('&');
}

function verifyOAuth(req: http.IncomingMessage, body: string, creds: TwitterCredentials, nonces: Set<string>): string | null {
  const oauth = parseAuthorization(req.headers.authorization);
  if (!oauth) return 'no OAuth Authorization header';
  if (oauth.oauth_signature_method !== 'HMAC-SHA1') return `signature method ${oauth.oauth_signature_method}`;
  if (oauth.oauth_version !== undefined && oauth.oauth_version !== '1.0') return `version ${oauth.oauth_version}`;
  if (oauth.oauth_consumer_key !== creds.appKey) return 'unknown consumer key';
  if (oauth.oauth_token !== creds.accessToken) return 'unknown token';
  const ts = Number(oauth.oauth_timestamp);
  if (!Number.isInteger(ts) || Math.abs(ts - Date.now() / 1000) > 300) return 'timestamp out of range';
  if (!oauth.oauth_nonce) return 'no nonce';
  // §3.4.1.2: scheme and host lower case, default port omitted, no query
  const host = (req.headers.host ?? '').toLowerCase();
  const url = new URL(req.url ?? '/', `http://${host}`);
  const baseUrl = `http://${host.replace(/:80$/, '')}${url.pathname}`;
  // §3.4.1.3: oauth_* (without the signature and realm), the query, and a form body; a JSON body is not signed
  const params: [string, string][] = Object.entries(oauth).filter(([k]) => k !== 'oauth_signature' && k !== 'realm');
  for (const [k, v] of url.searchParams) params.push([k, v]);
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) params.push([k, v]);
  }
  const key = `${pct(creds.appSecret)}&${pct(creds.accessSecret)}`;
  const expected = createHmac('sha1', key).update(signatureBaseString(req.method ?? 'GET', baseUrl, params)).digest();
  const given = Buffer.from(oauth.oauth_signature ?? '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad signature';
  // a signed request is good once: X refuses a replay of the same timestamp and nonce
  const nonceKey = `${ts}:${oauth.oauth_nonce}`;
  if (nonces.has(nonceKey)) return 'nonce replayed';
  nonces.add(nonceKey);
  return null;
}

// --- the server ----------------------------------------------------------------

export class FakeX {
  readonly posts: Post[] = [];
  readonly requests: LoggedRequest[] = [];
  private readonly queue: Scripted[] = [];
  private readonly nonces = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private nextId = 1_790_000_000_000_000_000n;
  /** credentials X accepts; change to make every signature fail like revoked keys would */
  credentials: TwitterCredentials;
  /** others' posts: replies (in a conversation) and quotes */
  readonly tweets: XTweet[] = [];
  /** who liked / reposted each post (by post id), in the order X lists them */
  readonly likes = new Map<string, XUser[]>();
  readonly retweets = new Map<string, XUser[]>();
  private readonly readQueue: Scripted[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    credentials: TwitterCredentials,
  ) {
    this.credentials = credentials;
  }

  static async start(credentials: TwitterCredentials = FAKE_CREDENTIALS): Promise<FakeX> {
    let fake!: FakeX;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    server.on('connection', (s) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeX(server, `http://127.0.0.1:${port}`, credentials);
    return fake;
  }

  /** What the next POST /2/tweets requests get, in order; after these, it behaves like X. */
  script(...next: Scripted[]): this {
    this.queue.push(...next);
    return this;
  }

  /** What the next GET requests (the backfeed's reads) get, in order (`answer` or `drop`); after these, it behaves like X. */
  scriptReads(...next: Scripted[]): this {
    this.readQueue.push(...next);
    return this;
  }

  /** Forget posts, reactions, requests and scripts (between tests). */
  reset(): void {
    this.posts.length = 0;
    this.requests.length = 0;
    this.queue.length = 0;
    this.tweets.length = 0;
    this.likes.clear();
    this.retweets.clear();
    this.readQueue.length = 0;
  }

  /** `user` replies to post `to` (ours or a reply), `ago` ms ago. */
  reply(to: string, user: XUser, text: string, ago = 60_000): XTweet {
    const parent = this.tweets.find((t) => t.id === to);
    const tweet: XTweet = { id: String(this.nextId++), text, author: user, created_at: new Date(Date.now() - ago).toISOString(), conversation_id: parent?.conversation_id ?? to, replied_to: to };
    this.tweets.push(tweet);
    return tweet;
  }

  /** `user` quotes post `of`. */
  quote(of: string, user: XUser, text: string): XTweet {
    const tweet: XTweet = { id: String(this.nextId++), text, author: user, created_at: new Date().toISOString(), conversation_id: '', quoted: of };
    tweet.conversation_id = tweet.id;
    this.tweets.push(tweet);
    return tweet;
  }

  /** Deletes another's post (a reply, a quote). */
  deleteTweet(id: string): void {
    const i = this.tweets.findIndex((t) => t.id === id);
    if (i >= 0) this.tweets.splice(i, 1);
  }

  /** GET requests received so far (the backfeed's reads). */
  get readRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.method === 'GET');
  }

  /** POST /2/tweets requests received so far. */
  get tweetRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets');
  }

  /** Resolves once `count` requests have arrived in all. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private log(entry: LoggedRequest): void {
    this.requests.push(entry);
    for (const w of this.waiters.filter((x) => this.requests.length >= x.count)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: LoggedRequest = { method: req.method ?? '', path, headers: req.headers, body, authProblem: null, outcome: '' };
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8') => {
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };

    entry.authProblem = verifyOAuth(req, body, this.credentials, this.nonces);
    if (entry.authProblem) {
      entry.outcome = `401 (${entry.authProblem})`;
      this.log(entry);
      return send(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }, {}, 'application/problem+json');
    }
    if (req.method === 'GET') return this.read(req, path, entry, send);
    if (req.method !== 'POST' || path !== '/2/tweets') {
      entry.outcome = '404';
      this.log(entry);
      return send(404, { title: 'Not Found Error', type: 'https://api.twitter.com/2/problems/resource-not-found', status: 404, detail: `no route ${req.method} ${path}` });
    }
    let text: unknown;
    try {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new Error('not JSON');
      text = (JSON.parse(body) as { text?: unknown }).text;
    } catch {
      text = undefined;
    }
    if (typeof text !== 'string' || !text) {
      entry.outcome = '400 (no text)';
      this.log(entry);
      return send(400, { title: 'Invalid Request', type: 'https://api.twitter.com/2/problems/invalid-request', status: 400, detail: 'One or more parameters to your request was invalid.' });
    }

    const step = this.queue.shift() ?? { kind: 'x' };
    // like X: post it, or refuse what is too long or already posted
    const post = (): { status: number; payload: unknown } => {
      const parsed = twitter.parseTweet(text as string);
      if (!parsed.valid) return { status: 400, payload: JSON.parse((X.tooLong() as { body: string }).body) };
      if (this.posts.some((p) => p.text === text)) return { status: 403, payload: JSON.parse((X.duplicate() as { body: string }).body) };
      const id = String(this.nextId++);
      this.posts.push({ id, text: text as string });
      return { status: 201, payload: { data: { id, text: text as string, edit_history_tweet_ids: [id] } } };
    };
    const answer = (r: { status: number; payload: unknown }, headers: Record<string, string> = {}) =>
      send(r.status, r.payload, headers, r.status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8');

    switch (step.kind) {
      case 'x': {
        const r = post();
        entry.outcome = String(r.status);
        this.log(entry);
        return answer(r);
      }
      case 'x-with-headers': {
        const r = post();
        entry.outcome = String(r.status);
        this.log(entry);
        return answer(r, step.headers);
      }
      case 'answer':
        entry.outcome = `${step.status} (scripted)`;
        this.log(entry);
        return send(step.status, step.body, step.headers, step.contentType);
      case 'store-then-drop': {
        const r = post();
        entry.outcome = `${r.status} then dropped`;
        this.log(entry);
        req.socket.destroy();
        return;
      }
      case 'drop':
        entry.outcome = 'dropped';
        this.log(entry);
        req.socket.destroy();
        return;
      case 'store-then-hang': {
        const r = post();
        entry.outcome = `${r.status} then hung`;
        this.log(entry);
        return; // the socket stays open until the client gives up or close()
      }
      case 'slow': {
        const r = post();
        entry.outcome = `${r.status} after ${step.ms} ms`;
        this.log(entry);
        setTimeout(() => {
          if (!res.destroyed) answer(r);
        }, step.ms);
        return;
      }
    }
  }

  // --- the backfeed's reads ------------------------------------------------------

  private read(
    req: http.IncomingMessage,
    path: string,
    entry: LoggedRequest,
    send: (status: number, payload: unknown, headers?: Record<string, string>, contentType?: string) => void,
  ): void {
    const step = this.readQueue.shift();
    if (step?.kind === 'answer') {
      entry.outcome = `${step.status} (scripted)`;
      this.log(entry);
      return send(step.status, step.body, step.headers, step.contentType);
    }
    if (step?.kind === 'drop') {
      entry.outcome = 'dropped';
      this.log(entry);
      req.socket.destroy();
      return;
    }
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const invalid = (detail: string) => {
      entry.outcome = `400 (${detail})`;
      this.log(entry);
      send(400, { errors: [{ parameters: {}, message: detail }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' }, {}, 'application/problem+json');
    };
    const answer = (body: unknown) => {
      entry.outcome = '200';
      this.log(entry);
      send(200, body);
    };

    let m: RegExpExecArray | null;
    let allowed: string[];
    let min: number;
    let items: XTweet[] | XUser[];
    let tokenParam = 'pagination_token';
    if (path === '/2/tweets/search/recent') {
      allowed = ['query', 'max_results', 'next_token', 'expansions', 'tweet.fields', 'user.fields', 'sort_order', 'since_id', 'start_time'];
      min = 10;
      tokenParam = 'next_token';
      const conversation = /^conversation_id:(\d+)$/.exec(q.get('query') ?? '')?.[1];
      if (!conversation) return invalid(`this fake answers only query=conversation_id:<id>, not ${JSON.stringify(q.get('query'))}`);
      const since = Date.now() - SEARCH_WINDOW_MS;
      items = this.tweets.filter((t) => t.conversation_id === conversation && Date.parse(t.created_at) >= since).reverse();
    } else if ((m = /^\/2\/tweets\/(\d+)\/(liking_users|retweeted_by)$/.exec(path))) {
      allowed = ['max_results', 'pagination_token', 'user.fields', 'expansions', 'tweet.fields'];
      min = 1;
      items = (m[2] === 'liking_users' ? this.likes : this.retweets).get(m[1]) ?? [];
    } else if ((m = /^\/2\/tweets\/(\d+)\/quote_tweets$/.exec(path))) {
      allowed = ['max_results', 'pagination_token', 'expansions', 'tweet.fields', 'user.fields', 'media.fields', 'place.fields', 'poll.fields', 'exclude'];
      min = 10;
      const of = m[1];
      items = this.tweets.filter((t) => t.quoted === of).reverse();
    } else {
      entry.outcome = '404';
      this.log(entry);
      return send(404, { title: 'Not Found Error', type: 'https://api.twitter.com/2/problems/resource-not-found', status: 404, detail: `no route GET ${path}` });
    }
    for (const key of q.keys()) if (!allowed.includes(key)) return invalid(`The query parameter [${key}] is not one of [${allowed.join(',')}]`);
    const list = (name: string, known: Set<string>) => {
      const values = q.get(name)?.split(',') ?? [];
      const bad = values.find((v) => !known.has(v));
      return bad === undefined ? new Set(values) : bad;
    };
    const userFields = list('user.fields', USER_FIELDS);
    const tweetFields = list('tweet.fields', TWEET_FIELDS);
    const expansions = list('expansions', EXPANSIONS);
    for (const [name, v] of [['user.fields', userFields], ['tweet.fields', tweetFields], ['expansions', expansions]] as const) {
      if (typeof v === 'string') return invalid(`The \`${name}\` query parameter value [${v}] is not one of the allowed values`);
    }
    const max = q.has('max_results') ? Number(q.get('max_results')) : min === 1 ? 100 : 10;
    if (!Number.isInteger(max) || max < min || max > 100) return invalid(`The \`max_results\` query parameter value [${q.get('max_results')}] is not between ${min} and 100`);
    const offset = q.has(tokenParam) ? Number(q.get(tokenParam)) : 0;
    if (!Number.isInteger(offset) || offset < 0) return invalid(`The \`${tokenParam}\` query parameter value [${q.get(tokenParam)}] is invalid`);

    const uf = userFields as Set<string>;
    const tf = tweetFields as Set<string>;
    const user = (u: XUser) => ({ id: u.id, name: u.name, username: u.username, ...(uf.has('profile_image_url') && u.profile_image_url ? { profile_image_url: u.profile_image_url } : {}) });
    const tweet = (t: XTweet) => ({
      id: t.id,
      text: t.text,
      edit_history_tweet_ids: [t.id],
      ...(tf.has('author_id') ? { author_id: t.author.id } : {}),
      ...(tf.has('created_at') ? { created_at: t.created_at } : {}),
      ...(tf.has('conversation_id') ? { conversation_id: t.conversation_id } : {}),
      ...(tf.has('referenced_tweets') && (t.replied_to || t.quoted) ? { referenced_tweets: [{ type: t.replied_to ? 'replied_to' : 'quoted', id: (t.replied_to ?? t.quoted)! }] } : {}),
    });
    const page = items.slice(offset, offset + max);
    const meta = { result_count: page.length, ...(offset + max < items.length ? { next_token: String(offset + max) } : {}) };
    if (!page.length) return answer({ meta });
    const isTweets = path.endsWith('/recent') || path.endsWith('/quote_tweets');
    if (!isTweets) return answer({ data: (page as XUser[]).map(user), meta });
    const tweets = page as XTweet[];
    const authors = [...new Map(tweets.map((t) => [t.author.id, t.author])).values()];
    return answer({ data: tweets.map(tweet), ...((expansions as Set<string>).has('author_id') ? { includes: { users: authors.map(user) } } : {}), meta });
  }
}
