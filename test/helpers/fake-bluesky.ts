// A fake Bluesky PDS on 127.0.0.1 for the announcement tests. Like the PDS, it:
//  - logs in with createSession (handle + app password) and counts the logins, issues
//    access and refresh JWTs, answers an expired access token with 400 ExpiredToken,
//    rotates refresh tokens on refreshSession (a reused one answers the same next
//    session, as the PDS's grace period does);
//  - creates app.bsky.feed.post records under the caller's record key, and answers a
//    key it already has with a generic 500 (bluesky-social/atproto#3718, #4725);
//  - answers getRecord (400 RecordNotFound when absent) and uploadBlob;
//  - refuses a post over 300 graphemes and facets whose byte ranges miss the text;
//  - stores a blob under the type its bytes show (the PDS sniffs them), and checks a link
//    card's thumb when the record refers to it, as the PDS does: a blob it has, the same
//    type and size, an image, at most 1,000,000 bytes (app.bsky.embed.external's limit).
// Tests script what the next createRecord requests get. Its state (`posts`, `blobs`,
// the session counters) is plain data, and `route()` adds XRPC methods: the backfeed
// (#18) can hang likes, reposts and replies on the posts and serve them.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

export const BLUESKY_HANDLE = 'inkwell.bsky.test';
export const BLUESKY_PASSWORD = 'abcd-efgh-ijkl-mnop';
export const BLUESKY_DID = 'did:plc:inkwellfaketest0000000';

export interface FakePost {
  rkey: string;
  uri: string;
  cid: string;
  /** the record as sent */
  record: Record<string, unknown> & { text: string; facets?: Facet[]; embed?: Record<string, unknown> };
  /** for the backfeed: empty until a test adds some */
  likes: { did: string; handle: string; createdAt: string }[];
  reposts: { did: string; handle: string; createdAt: string }[];
  replies: FakePost[];
}

export interface Facet {
  index: { byteStart: number; byteEnd: number };
  features: { $type: string; uri?: string; tag?: string }[];
}

export interface BlueskyRequest {
  method: string;
  /** the XRPC method, e.g. com.atproto.repo.createRecord */
  nsid: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> | null;
  bytes: Buffer;
  outcome: string;
}

export type BlueskyScript =
  | { kind: 'pds' }
  | { kind: 'answer'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** store the record, then cut the connection before answering */
  | { kind: 'store-then-drop' }
  /** store the record, then answer a generic 500 */
  | { kind: 'store-then-500' }
  /** store the record, then never answer */
  | { kind: 'store-then-hang' }
  | { kind: 'drop' };

export type Handler = (req: BlueskyRequest, res: http.ServerResponse) => void | Promise<void>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): BlueskyScript => ({
  kind: 'answer',
  status,
  body: JSON.stringify(body),
  contentType: 'application/json; charset=utf-8',
  headers,
});

export const BLUESKY_ANSWERS = {
  rateLimited: (reset: Date) =>
    json(429, { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' }, {
      'ratelimit-limit': '5000',
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(Math.floor(reset.getTime() / 1000)),
      'ratelimit-policy': '5000;w=3600',
    }),
  proxyUnavailable: (): BlueskyScript => ({
    kind: 'answer',
    status: 503,
    body: '<html><head><title>503 Service Unavailable</title></head><body>upstream connect error</body></html>',
    contentType: 'text/html',
  }),
  invalidRecord: () => json(400, { error: 'InvalidRequest', message: 'Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes' }),
};

/** app.bsky.embed.external#external thumb: maxSize */
const THUMB_MAX_BYTES = 1_000_000;

/** The image type the bytes show, as the PDS sniffs an upload; null when they are not one of these. */
function sniff(b: Buffer): string | null {
  if (b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (b.subarray(4, 12).toString('latin1') === 'ftypavif') return 'image/avif';
  return null;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** A real CIDv1 (sha-256, base32): the client checks the format. codec 0x71 dag-cbor (records), 0x55 raw (blobs). */
export function cidOf(bytes: Buffer | string, codec: 0x71 | 0x55): string {
  const digest = createHash('sha256').update(bytes).digest();
  const raw = Buffer.concat([Buffer.from([0x01, codec, 0x12, 0x20]), digest]);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = 'b';
  for (const byte of raw) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

interface Session {
  did: string;
  access: string;
  refresh: string;
}

export class FakeBluesky {
  readonly posts: FakePost[] = [];
  /** mimeType: what the client declared (Content-Type); sniffed: what the bytes are */
  readonly blobs: { cid: string; mimeType: string; sniffed: string | null; bytes: Buffer }[] = [];
  readonly requests: BlueskyRequest[] = [];
  /** the app password the account accepts; change it to make logins fail */
  password = BLUESKY_PASSWORD;
  createSessionCalls = 0;
  refreshSessionCalls = 0;
  private readonly access = new Map<string, { did: string; expired: boolean }>();
  /** refresh token → the session it was exchanged for (null while unused) */
  private readonly refresh = new Map<string, Session | null>();
  private readonly queue: BlueskyScript[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly sockets = new Set<Socket>();
  private seq = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeBluesky> {
    let fake!: FakeBluesky;
    const server = http.createServer((req, res) => void fake.handle(req, res));
    server.on('connection', (s) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeBluesky(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  script(...next: BlueskyScript[]): this {
    this.queue.push(...next);
    return this;
  }

  /** Adds an XRPC method (`app.bsky.feed.getLikes`…). */
  route(nsid: string, handler: Handler): this {
    this.routes.set(nsid, handler);
    return this;
  }

  unroute(nsid: string): this {
    this.routes.delete(nsid);
    return this;
  }

  reset(): void {
    this.posts.length = 0;
    this.blobs.length = 0;
    this.requests.length = 0;
    this.queue.length = 0;
    this.password = BLUESKY_PASSWORD;
  }

  /** Every access token issued so far now answers 400 ExpiredToken (the PDS's access JWTs live about two hours). */
  expireAccessTokens(): void {
    for (const a of this.access.values()) a.expired = true;
  }

  calls(nsid: string): BlueskyRequest[] {
    return this.requests.filter((r) => r.nsid === nsid);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private newSession(did: string): Session {
    const n = ++this.seq;
    const s = { did, access: `access-${n}-${Math.random().toString(36).slice(2)}`, refresh: `refresh-${n}-${Math.random().toString(36).slice(2)}` };
    this.access.set(s.access, { did, expired: false });
    this.refresh.set(s.refresh, null);
    return s;
  }

  private sessionBody(s: Session) {
    return { did: s.did, handle: BLUESKY_HANDLE, accessJwt: s.access, refreshJwt: s.refresh, active: true, email: 'blog@example.com', emailConfirmed: true, didDoc: undefined };
  }

  private store(rkey: string, record: FakePost['record']): FakePost {
    const uri = `at://${BLUESKY_DID}/app.bsky.feed.post/${rkey}`;
    const cid = cidOf(JSON.stringify(record), 0x71);
    const post: FakePost = { rkey, uri, cid, record, likes: [], reposts: [], replies: [] };
    this.posts.push(post);
    return post;
  }

  /** Why the PDS would refuse this post record, or null. */
  private invalid(record: FakePost['record']): string | null {
    if (record.$type !== 'app.bsky.feed.post') return 'Invalid $type';
    if (typeof record.text !== 'string') return 'Record/text must be a string';
    if ([...segmenter.segment(record.text)].length > 300) return 'Record/text must not be longer than 300 graphemes';
    const bytes = Buffer.byteLength(record.text, 'utf8');
    for (const f of record.facets ?? []) {
      if (f.index.byteStart < 0 || f.index.byteEnd > bytes || f.index.byteStart > f.index.byteEnd) return 'Record/facets has a byte range outside the text';
    }
    if (typeof record.createdAt !== 'string') return 'Record/createdAt must be a datetime';
    const thumb = (record.embed?.external as { thumb?: { $type?: string; ref?: { $link?: string }; mimeType?: string; size?: number } } | undefined)?.thumb;
    if (thumb) {
      const blob = this.blobs.find((b) => b.cid === thumb.ref?.$link);
      if (thumb.$type !== 'blob' || !blob) return 'Could not find blob: the thumb refers to no uploaded blob';
      const stored = blob.sniffed ?? blob.mimeType;
      if (thumb.mimeType !== stored) return `Referenced Mimetype does not match stored Mimetype (${thumb.mimeType} vs ${stored})`;
      if (!stored.startsWith('image/')) return `Wrong type of file. It is ${stored} but it must match image/*.`;
      if (thumb.size !== blob.bytes.length) return 'Referenced size does not match the stored blob';
      if (blob.bytes.length > THUMB_MAX_BYTES) return `BlobTooLarge: This file is too large. It is ${blob.bytes.length} bytes but the maximum size is ${THUMB_MAX_BYTES}.`;
    }
    return null;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://b');
    const nsid = u.pathname.replace(/^\/xrpc\//, '');
    let body: Record<string, unknown> | null = null;
    if (bytes.length && (req.headers['content-type'] ?? '').startsWith('application/json')) body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const entry: BlueskyRequest = { method: req.method ?? '', nsid, query: u.searchParams, headers: req.headers, body, bytes, outcome: '' };
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, contentType = 'application/json; charset=utf-8') => {
      entry.outcome ||= String(status);
      this.requests.push(entry);
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

    if (nsid === 'com.atproto.server.createSession') {
      this.createSessionCalls++;
      if (body?.identifier !== BLUESKY_HANDLE || body?.password !== this.password) {
        return send(401, { error: 'AuthenticationRequired', message: 'Invalid identifier or password' });
      }
      return send(200, this.sessionBody(this.newSession(BLUESKY_DID)));
    }
    if (nsid === 'com.atproto.server.refreshSession') {
      this.refreshSessionCalls++;
      if (!bearer || !this.refresh.has(bearer)) return send(400, { error: 'ExpiredToken', message: 'Token has been revoked' });
      const next = this.refresh.get(bearer) ?? this.newSession(BLUESKY_DID);
      this.refresh.set(bearer, next); // a reuse within the grace period answers the same next session
      return send(200, this.sessionBody(next));
    }

    const session = bearer ? this.access.get(bearer) : undefined;
    if (!session) return send(401, { error: 'AuthenticationRequired', message: 'Authentication Required' });
    if (session.expired) return send(400, { error: 'ExpiredToken', message: 'Token has expired' });

    const custom = this.routes.get(nsid);
    if (custom) {
      entry.outcome = 'custom route';
      this.requests.push(entry);
      return custom(entry, res);
    }
    if (nsid === 'com.atproto.server.getSession') return send(200, { did: session.did, handle: BLUESKY_HANDLE, active: true });
    if (nsid === 'com.atproto.repo.getRecord') {
      const post = this.posts.find((p) => p.rkey === u.searchParams.get('rkey') && u.searchParams.get('collection') === 'app.bsky.feed.post');
      if (!post) return send(400, { error: 'RecordNotFound', message: `Could not locate record: at://${u.searchParams.get('repo')}/${u.searchParams.get('collection')}/${u.searchParams.get('rkey')}` });
      return send(200, { uri: post.uri, cid: post.cid, value: post.record });
    }
    if (nsid === 'com.atproto.repo.uploadBlob') {
      const cid = cidOf(bytes, 0x55);
      const mimeType = String(req.headers['content-type'] ?? 'application/octet-stream');
      const sniffed = sniff(bytes);
      this.blobs.push({ cid, mimeType, sniffed, bytes });
      return send(200, { blob: { $type: 'blob', ref: { $link: cid }, mimeType: sniffed ?? mimeType, size: bytes.length } });
    }
    if (nsid !== 'com.atproto.repo.createRecord' || req.method !== 'POST') return send(501, { error: 'MethodNotImplemented', message: `Method Not Implemented: ${nsid}` });

    if (body?.repo !== session.did || body?.collection !== 'app.bsky.feed.post' || typeof body?.rkey !== 'string') {
      return send(400, { error: 'InvalidRequest', message: 'Input must have repo, collection and rkey' });
    }
    const rkey = body.rkey;
    const record = body.record as FakePost['record'];
    const step = this.queue.shift() ?? { kind: 'pds' };
    const create = (): { status: number; payload: unknown } => {
      // today's PDS: a key it already has is an internal error, not "already there"
      if (this.posts.some((p) => p.rkey === rkey)) return { status: 500, payload: { error: 'InternalServerError', message: 'Internal Server Error' } };
      const problem = this.invalid(record);
      if (problem) return { status: 400, payload: { error: 'InvalidRequest', message: `Invalid app.bsky.feed.post record: ${problem}` } };
      const post = this.store(rkey, record);
      return { status: 200, payload: { uri: post.uri, cid: post.cid, commit: { cid: cidOf(`commit ${post.uri}`, 0x71), rev: '3l3qo2vutsw2b' }, validationStatus: 'valid' } };
    };
    switch (step.kind) {
      case 'pds': {
        const r = create();
        return send(r.status, r.payload);
      }
      case 'answer':
        entry.outcome = `${step.status} (scripted)`;
        return send(step.status, step.body, step.headers, step.contentType);
      case 'store-then-drop':
        create();
        entry.outcome = 'stored then dropped';
        this.requests.push(entry);
        req.socket.destroy();
        return;
      case 'store-then-hang':
        create();
        entry.outcome = 'stored then hung';
        this.requests.push(entry);
        return;
      case 'store-then-500':
        create();
        entry.outcome = 'stored then 500';
        return send(500, { error: 'InternalServerError', message: 'Internal Server Error' });
      case 'drop':
        entry.outcome = 'dropped';
        this.requests.push(entry);
        req.socket.destroy();
        return;
    }
  }
}
