// A fake Mastodon instance on 127.0.0.1 for the announcement tests. Like Mastodon, it:
//  - wants `Authorization: Bearer <token>` and answers 401 otherwise;
//  - makes public statuses from POST /api/v1/statuses (JSON or form), remembering each
//    Idempotency-Key: a repeat answers the status made the first time;
//  - refuses text over 500 characters (grapheme clusters, every link counted 23) with 422;
//  - lists the account's statuses, newest first, paged with max_id and a Link header.
// Tests script what the next POST /api/v1/statuses requests get (an answer, a dropped
// connection, a 504 before the key was stored…). Its state (`statuses`, `account`) is
// plain data, and `route()` adds endpoints: the backfeed (#18) can hang favourites,
// boosts and replies on the statuses and serve them.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const MASTODON_TOKEN = 'fake-mastodon-token-abc123';

export interface FakeAccount {
  id: string;
  username: string;
  acct: string;
  url: string;
  displayName: string;
  /** the avatar's URL (Mastodon's avatar and avatar_static) */
  avatar?: string;
}

export interface FakeStatus {
  id: string;
  /** what was posted, as sent */
  text: string;
  /** as Mastodon renders it: HTML with the links as anchors */
  content: string;
  url: string;
  uri: string;
  visibility: string;
  createdAt: string;
  idempotencyKey: string | null;
  account: FakeAccount;
  /** for the backfeed: who favourited or boosted it, and the replies (empty until a test adds some) */
  favouritedBy: FakeAccount[];
  rebloggedBy: FakeAccount[];
  replies: FakeStatus[];
}

export interface MastodonRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | null;
  outcome: string;
}

export type MastodonScript =
  /** behave like Mastodon */
  | { kind: 'mastodon' }
  /** answer this, make nothing */
  | { kind: 'answer'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** make the status (and remember the key), then cut the connection before answering */
  | { kind: 'store-then-drop' }
  /** the slow server of mastodon#21840: the status is made, the proxy answers 504 before the key is stored */
  | { kind: 'store-then-504' }
  /** make the status, then never answer */
  | { kind: 'store-then-hang' }
  /** cut the connection, make nothing */
  | { kind: 'drop' };

export type Handler = (req: MastodonRequest, res: http.ServerResponse) => void | Promise<void>;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const URL_RE = /https?:\/\/[^\s<>"]+/g;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Mastodon's count, written apart from the app's: graphemes, every http(s) link as 23. */
export function countLikeMastodon(text: string): number {
  const links = text.match(URL_RE) ?? [];
  const rest = text.replace(URL_RE, '');
  return [...segmenter.segment(rest)].length + links.length * 23;
}

export const MASTODON_ANSWERS = {
  rateLimited: (reset: Date): MastodonScript => ({
    kind: 'answer',
    status: 429,
    body: JSON.stringify({ error: 'Too many requests' }),
    contentType: 'application/json; charset=utf-8',
    headers: { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset.toISOString() },
  }),
  /** what nginx in front of a struggling instance answers */
  proxyUnavailable: (): MastodonScript => ({
    kind: 'answer',
    status: 503,
    body: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>',
    contentType: 'text/html',
  }),
  outsideScopes: (): MastodonScript => ({
    kind: 'answer',
    status: 403,
    body: JSON.stringify({ error: 'This action is outside the authorized scopes' }),
    contentType: 'application/json; charset=utf-8',
  }),
  unprocessable: (error: string): MastodonScript => ({ kind: 'answer', status: 422, body: JSON.stringify({ error }), contentType: 'application/json; charset=utf-8' }),
};

export class FakeMastodon {
  readonly statuses: FakeStatus[] = [];
  readonly requests: MastodonRequest[] = [];
  readonly account: FakeAccount;
  /** tokens the instance accepts; empty it to revoke */
  tokens = new Set([MASTODON_TOKEN]);
  private readonly keys = new Map<string, string>();
  private readonly queue: MastodonScript[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private nextId = 113_000_000_000_000_000n;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {
    this.account = { id: '109999', username: 'inkwell', acct: 'inkwell', url: `${url}/@inkwell`, displayName: 'Inkwell' };
  }

  static async start(): Promise<FakeMastodon> {
    let fake!: FakeMastodon;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    server.on('connection', (s) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeMastodon(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  script(...next: MastodonScript[]): this {
    this.queue.push(...next);
    return this;
  }

  /** Removes an endpoint added with route(). */
  unroute(method: string, pattern: string): this {
    this.routes.delete(`${method} ${pattern}`);
    return this;
  }

  /** Someone else's reply to a status (ours or a reply), public. */
  reply(to: FakeStatus, account: FakeAccount, text: string): FakeStatus {
    const id = String(this.nextId++);
    const r: FakeStatus = {
      id,
      text,
      content: `<p>${escapeHtml(text)}</p>`,
      url: `${account.url}/${id}`,
      uri: `${account.url}/statuses/${id}`,
      visibility: 'public',
      createdAt: new Date().toISOString(),
      idempotencyKey: null,
      account,
      favouritedBy: [],
      rebloggedBy: [],
      replies: [],
    };
    to.replies.push(r);
    return r;
  }

  /** Adds an endpoint (`GET /api/v1/statuses/:id/context`…); `:id` segments match anything. */
  route(method: string, pattern: string, handler: Handler): this {
    this.routes.set(`${method} ${pattern}`, handler);
    return this;
  }

  reset(): void {
    this.statuses.length = 0;
    this.requests.length = 0;
    this.queue.length = 0;
    this.keys.clear();
    this.tokens = new Set([MASTODON_TOKEN]);
  }

  get postRequests(): MastodonRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/statuses');
  }

  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Makes a status as the account (also for tests that post "by hand"). */
  makeStatus(text: string, idempotencyKey: string | null = null, visibility = 'public'): FakeStatus {
    const id = String(this.nextId++);
    const content = `<p>${escapeHtml(text).replace(/https?:\/\/[^\s<>"]+/g, (u) => `<a href="${u}" rel="nofollow noopener" target="_blank">${u}</a>`)}</p>`;
    const status: FakeStatus = {
      id,
      text,
      content,
      url: `${this.url}/@inkwell/${id}`,
      uri: `${this.url}/users/inkwell/statuses/${id}`,
      visibility,
      createdAt: new Date().toISOString(),
      idempotencyKey,
      account: this.account,
      favouritedBy: [],
      rebloggedBy: [],
      replies: [],
    };
    this.statuses.push(status);
    return status;
  }

  /** A status as the API shows it. */
  json(s: FakeStatus): Record<string, unknown> {
    return {
      id: s.id,
      created_at: s.createdAt,
      in_reply_to_id: null,
      visibility: s.visibility,
      uri: s.uri,
      url: s.url,
      content: s.content,
      account: { id: s.account.id, username: s.account.username, acct: s.account.acct, url: s.account.url, display_name: s.account.displayName },
      favourites_count: s.favouritedBy.length,
      reblogs_count: s.rebloggedBy.length,
      replies_count: s.replies.length,
      media_attachments: [],
      mentions: [],
      tags: [],
      emojis: [],
      card: null,
    };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private log(entry: MastodonRequest): void {
    this.requests.push(entry);
    for (const w of this.waiters.filter((x) => this.requests.length >= x.count)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://m');
    let body: Record<string, unknown> | null = null;
    const type = req.headers['content-type'] ?? '';
    if (raw && type.startsWith('application/json')) body = JSON.parse(raw) as Record<string, unknown>;
    else if (raw) body = Object.fromEntries(new URLSearchParams(raw));
    const entry: MastodonRequest = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body, outcome: '' };
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8') => {
      entry.outcome ||= String(status);
      this.log(entry);
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) return send(401, { error: 'The access token is invalid' });

    for (const [key, handler] of this.routes) {
      const [method, pattern] = key.split(' ');
      const re = new RegExp(`^${pattern.replace(/:[a-z]+/gi, '[^/]+')}$`);
      if (method === req.method && re.test(u.pathname)) {
        entry.outcome = 'custom route';
        this.log(entry);
        return handler(entry, res);
      }
    }

    if (req.method === 'GET' && u.pathname === '/api/v1/accounts/verify_credentials') {
      return send(200, { id: this.account.id, username: this.account.username, acct: this.account.acct, url: this.account.url, display_name: this.account.displayName });
    }
    const list = /^\/api\/v1\/accounts\/([^/]+)\/statuses$/.exec(u.pathname);
    if (req.method === 'GET' && list) {
      const limit = Math.min(Number(u.searchParams.get('limit') ?? 20), 40);
      const maxId = u.searchParams.get('max_id');
      const mine = this.statuses
        .filter((s) => s.account.id === list[1] && (!maxId || BigInt(s.id) < BigInt(maxId)))
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
      const page = mine.slice(0, limit);
      const headers: Record<string, string> = {};
      if (mine.length > limit) headers.link = `<${this.url}${u.pathname}?limit=${limit}&max_id=${page.at(-1)!.id}>; rel="next"`;
      return send(200, page.map((s) => this.json(s)), headers);
    }
    // the backfeed's reads (#18): the thread below a status, who favourited and who boosted it
    const sub = /^\/api\/v1\/statuses\/(\d+)\/(context|favourited_by|reblogged_by)$/.exec(u.pathname);
    if (req.method === 'GET' && sub) {
      const s = this.statuses.find((x) => x.id === sub[1]);
      if (!s) return send(404, { error: 'Record not found' });
      const account = (a: FakeAccount) => ({ id: a.id, username: a.username, acct: a.acct, url: a.url, display_name: a.displayName, avatar: a.avatar ?? '', avatar_static: a.avatar ?? '' });
      if (sub[2] === 'favourited_by') return send(200, s.favouritedBy.map(account));
      if (sub[2] === 'reblogged_by') return send(200, s.rebloggedBy.map(account));
      const descendants: Record<string, unknown>[] = [];
      const walk = (parent: FakeStatus) => {
        for (const r of parent.replies) {
          descendants.push({ ...this.json(r), in_reply_to_id: parent.id, account: account(r.account) });
          walk(r);
        }
      };
      walk(s);
      return send(200, { ancestors: [], descendants });
    }
    if (req.method !== 'POST' || u.pathname !== '/api/v1/statuses') return send(404, { error: 'Record not found' });

    const text = typeof body?.status === 'string' ? body.status : '';
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const step = this.queue.shift() ?? { kind: 'mastodon' };
    const make = (rememberKey: boolean): { status: number; payload: unknown } => {
      if (key && this.keys.has(key)) {
        const earlier = this.statuses.find((s) => s.id === this.keys.get(key))!;
        return { status: 200, payload: this.json(earlier) };
      }
      if (!text.trim()) return { status: 422, payload: { error: "Validation failed: Text can't be blank" } };
      if (countLikeMastodon(text) > 500) return { status: 422, payload: { error: 'Validation failed: Text character limit of 500 exceeded' } };
      const s = this.makeStatus(text, key, typeof body?.visibility === 'string' ? body.visibility : 'public');
      if (key && rememberKey) this.keys.set(key, s.id);
      return { status: 200, payload: this.json(s) };
    };
    switch (step.kind) {
      case 'mastodon': {
        const r = make(true);
        return send(r.status, r.payload);
      }
      case 'answer':
        entry.outcome = `${step.status} (scripted)`;
        return send(step.status, step.body, step.headers, step.contentType);
      case 'store-then-drop':
        make(true);
        entry.outcome = 'made then dropped';
        this.log(entry);
        req.socket.destroy();
        return;
      case 'store-then-504':
        make(false);
        entry.outcome = 'made, then 504 before the key was stored';
        return send(504, '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>', {}, 'text/html');
      case 'store-then-hang':
        make(true);
        entry.outcome = 'made then hung';
        this.log(entry);
        return;
      case 'drop':
        entry.outcome = 'dropped';
        this.log(entry);
        req.socket.destroy();
        return;
    }
  }
}
