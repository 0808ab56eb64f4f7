// The only reader of process.env. Every setting of SPEC §2 is declared once here,
// with its default and its validation side by side; a bad value stops the process
// with a message that names the variable and says what it accepts.
import { isHttpUrl } from './lib/url.ts';

import { is, trimEndWhere } from './lib/trim.ts';
import { parseDuration } from './lib/duration.ts';

export type ModerationPolicy = 'manual' | 'first-time' | 'open';

export interface RateLimit {
  max: number;
  /** window in milliseconds */
  windowMs: number;
  /** as written, for messages */
  text: string;
}

export interface TwitterCredentials {
  appKey: string;
  appSecret: string;
  accessToken: string;
  accessSecret: string;
}

export interface MastodonCredentials {
  /** the instance, e.g. https://mastodon.social */
  url: string;
  /** an access token with write:statuses (and read:accounts, to look for a post whose answer was lost) */
  token: string;
}

export interface BlueskyCredentials {
  /** the PDS or entryway, https://bsky.social by default */
  service: string;
  handle: string;
  appPassword: string;
}

/** The announcement text per network: its own template, else ANNOUNCE_TEMPLATE. */
export interface AnnounceTemplates {
  x: string;
  mastodon: string;
  bluesky: string;
}

export interface Config {
  port: number;
  host: string;
  /** unset → PGlite in dataDir; `memory://` → throwaway PGlite; `postgres://…` → PostgreSQL */
  databaseUrl: string | undefined;
  dataDir: string;
  apiUrl: string;
  siteUrl: string;
  permalink: string;
  siteTitle: string;
  siteDescription: string;
  siteTwitter: string | undefined;
  twitter: TwitterCredentials | undefined;
  twitterApiUrl: string | undefined;
  announceTemplate: string;
  announceTemplates: AnnounceTemplates;
  announceMaxAgeHours: number;
  mastodon: MastodonCredentials | undefined;
  bluesky: BlueskyCredentials | undefined;
  /** X_MONTHLY_LIMIT: posts on X per calendar month (UTC); undefined = unlimited */
  xMonthlyLimit: number | undefined;
  /** X_BACKFEED=on: poll X for reactions to our posts (off by default: X's reads are paid) */
  xBackfeed: boolean;
  /** X_BACKFEED_MONTHLY_READS: the most X reads the backfeed may spend per calendar month (UTC) */
  xBackfeedMonthlyReads: number;
  commentModeration: ModerationPolicy;
  commentMinIntervalSeconds: number;
  rateLimitWrites: RateLimit;
  outboundAllowPrivate: boolean;
  frontend: boolean;
  logLevel: string;
  /** Fastify trustProxy: false, true, a hop count, or addresses/CIDRs of trusted proxies */
  trustProxy: boolean | number | string[];
  /** SITE_ICON: an absolute URL (an uploaded image's `url`, say) named by /v1/site */
  siteIcon: string | undefined;
  media: MediaConfig;
  /** PREVIEW_TTL: how long a draft preview token lives (ms) */
  previewTtlMs: number;
  /** PREVIEW_URL: the frontend's preview page, with {siteUrl} {token} {id} {slug} */
  previewUrl: string;
  /** origins whose pages may call the public API and read its answers: `*` (any), or a list */
  corsOrigins: '*' | string[];
  /** RESPONSE_CACHE_MB: the bodies the public read cache keeps (0: every read is computed, as a miss) */
  responseCacheMB: number;
  /** ARTICLE_CACHE_MB: the serialised articles (their JSON and gzip pieces, in MiB) and list counts public reads keep between changes (0: none) */
  articleCacheMB: number;
  /**
   * SEARCH_EXACT_UP_TO: a search the planner expects to match at most this many articles
   * is ranked whole and counted; a broader one ranks its newest SEARCH_RANK_WINDOW matches
   * (the older follow newest first) and its total is the planner's estimate
   */
  searchExactUpTo: number;
  /** SEARCH_RANK_WINDOW: the matches a broad search ranks */
  searchRankWindow: number;
  /** DESK_IDLE: an editor's desk session ends after this long without a request (ms) */
  deskIdleMs: number;
}

export interface MediaConfig {
  /** the folder store (MEDIA_DIR, default DATA_DIR/media); unused with S3 */
  dir: string;
  /** MEDIA_MAX_BYTES: the largest upload */
  maxBytes: number;
  /** MEDIA_CONCURRENCY: images processed at once (each on sharp's thread pool); more wait their turn */
  concurrency: number;
  /** MEDIA_S3_BUCKET set: an S3-compatible bucket instead of the folder */
  s3: MediaS3Config | undefined;
}

export interface MediaS3Config {
  bucket: string;
  /** MEDIA_S3_ENDPOINT: an S3-compatible server (MinIO, R2…); addressed path-style */
  endpoint: string | undefined;
  region: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; unset: the SDK's default chain (instance roles…) */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const PERMALINK_TOKENS = ['{slug}', '{id}', '{yyyy}', '{mm}', '{dd}'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000 };

/** Reads and validates the whole configuration, collecting every problem before failing. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}="${raw}" must be an integer from ${min} to ${max}`);
      return def;
    }
    return n;
  };

  const oneOf = <T extends string>(name: string, def: T, allowed: readonly T[]): T => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}="${raw}" must be one of: ${allowed.join(', ')}`);
      return def;
    }
    return raw as T;
  };

  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (['true', '1', 'on', 'yes'].includes(raw)) return true;
    if (['false', '0', 'off', 'no'].includes(raw)) return false;
    problems.push(`${name}="${env[name]}" must be true/false (also on/off, 1/0, yes/no)`);
    return def;
  };

  const httpUrl = (name: string, raw: string | undefined): string | undefined => {
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!isHttpUrl(u)) throw new Error('scheme');
      if (u.search || u.hash) throw new Error('query');
      return trimEndWhere(u.href, is('/'));
    } catch {
      problems.push(`${name}="${raw}" must be an absolute http(s) URL without query or fragment, e.g. https://blog.example.com`);
      return undefined;
    }
  };

  const port = int('PORT', 3000, 0, 65535);
  const host = get('HOST') ?? '127.0.0.1';

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined && !/^(postgres|postgresql):\/\/.+/.test(databaseUrl) && databaseUrl !== 'memory://') {
    problems.push(`DATABASE_URL must be postgres://user:pass@host:port/db or memory:// (leave it unset for the embedded database in DATA_DIR)`);
  }

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const apiUrl = httpUrl('API_URL', get('API_URL')) ?? `http://${urlHost}:${port}`;
  const siteUrl = httpUrl('SITE_URL', get('SITE_URL')) ?? apiUrl;

  const permalink = get('PERMALINK') ?? '/{slug}/';
  if (!permalink.startsWith('/')) problems.push(`PERMALINK="${permalink}" must start with "/"`);
  if (!permalink.includes('{slug}') && !permalink.includes('{id}')) {
    problems.push(`PERMALINK="${permalink}" must contain {slug} or {id} (available: ${PERMALINK_TOKENS.join(' ')})`);
  }
  const unknownTokens = (permalink.match(/\{[^{}]*\}/g) ?? []).filter((t) => !PERMALINK_TOKENS.includes(t));
  if (unknownTokens.length) problems.push(`PERMALINK has unknown placeholders ${unknownTokens.join(' ')} (available: ${PERMALINK_TOKENS.join(' ')})`);

  const siteTwitterRaw = get('SITE_TWITTER');
  let siteTwitter: string | undefined;
  if (siteTwitterRaw !== undefined) {
    const handle = siteTwitterRaw.replace(/^@/, '');
    if (/^[A-Za-z0-9_]{1,15}$/.test(handle)) siteTwitter = handle;
    else problems.push(`SITE_TWITTER="${siteTwitterRaw}" must be an X handle such as @inkwell (letters, digits, _; at most 15)`);
  }

  const twitterVars = ['TWITTER_APP_KEY', 'TWITTER_APP_SECRET', 'TWITTER_ACCESS_TOKEN', 'TWITTER_ACCESS_SECRET'] as const;
  const twitterSet = twitterVars.filter((n) => get(n) !== undefined);
  let twitter: TwitterCredentials | undefined;
  if (twitterSet.length === twitterVars.length) {
    twitter = {
      appKey: get('TWITTER_APP_KEY')!,
      appSecret: get('TWITTER_APP_SECRET')!,
      accessToken: get('TWITTER_ACCESS_TOKEN')!,
      accessSecret: get('TWITTER_ACCESS_SECRET')!,
    };
  } else if (twitterSet.length > 0) {
    const missing = twitterVars.filter((n) => !twitterSet.includes(n));
    problems.push(`Twitter/X credentials are incomplete: set all four of ${twitterVars.join(', ')} or none (missing ${missing.join(', ')})`);
  }

  const template = (name: string, def: string): string => {
    const value = get(name) ?? def;
    if (!value.includes('{url}')) problems.push(`${name}="${value}" must contain {url}`);
    const unknown = (value.match(/\{[^{}]*\}/g) ?? []).filter((t) => !['{title}', '{url}', '{excerpt}', '{tags}', '{author}'].includes(t));
    if (unknown.length) problems.push(`${name} has unknown placeholders ${unknown.join(' ')} (available: {title} {url} {excerpt} {tags} {author})`);
    return value;
  };
  const announceTemplate = template('ANNOUNCE_TEMPLATE', '{title} {url}');
  const announceTemplates: AnnounceTemplates = {
    x: get('X_TEMPLATE') === undefined ? announceTemplate : template('X_TEMPLATE', announceTemplate),
    mastodon: get('MASTODON_TEMPLATE') === undefined ? announceTemplate : template('MASTODON_TEMPLATE', announceTemplate),
    bluesky: get('BLUESKY_TEMPLATE') === undefined ? announceTemplate : template('BLUESKY_TEMPLATE', announceTemplate),
  };

  /** all of a network's variables, or none of them */
  const together = (label: string, names: string[], optional: string[] = []): boolean => {
    const set = names.filter((n) => get(n) !== undefined);
    if (set.length === names.length) return true;
    if (set.length > 0 || optional.some((n) => get(n) !== undefined)) {
      problems.push(`${label} settings are incomplete: set all of ${names.join(', ')} or none (missing ${names.filter((n) => !set.includes(n)).join(', ')})`);
    }
    return false;
  };
  let mastodon: MastodonCredentials | undefined;
  if (together('Mastodon', ['MASTODON_URL', 'MASTODON_TOKEN'])) {
    const url = httpUrl('MASTODON_URL', get('MASTODON_URL'));
    if (url) mastodon = { url, token: get('MASTODON_TOKEN')! };
  }
  let bluesky: BlueskyCredentials | undefined;
  if (together('Bluesky', ['BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'], ['BLUESKY_SERVICE'])) {
    const service = httpUrl('BLUESKY_SERVICE', get('BLUESKY_SERVICE') ?? 'https://bsky.social');
    const handle = get('BLUESKY_HANDLE')!.replace(/^@/, '');
    if (!/^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(handle)) {
      problems.push(`BLUESKY_HANDLE="${get('BLUESKY_HANDLE')}" must be a handle such as inkwell.bsky.social`);
    } else if (service) bluesky = { service, handle, appPassword: get('BLUESKY_APP_PASSWORD')! };
  }
  const xMonthlyLimit = get('X_MONTHLY_LIMIT') === undefined ? undefined : int('X_MONTHLY_LIMIT', 0, 0, 10_000_000);

  const rateRaw = get('RATE_LIMIT_WRITES') ?? '20/minute';
  let rateLimitWrites: RateLimit = { max: 20, windowMs: 60_000, text: '20/minute' };
  const rm = /^(\d+)\s*\/\s*(second|minute|hour)$/.exec(rateRaw);
  if (rm && Number(rm[1]) > 0) rateLimitWrites = { max: Number(rm[1]), windowMs: UNITS[rm[2]], text: rateRaw };
  else problems.push(`RATE_LIMIT_WRITES="${rateRaw}" must look like 20/minute (a positive count per second, minute or hour)`);

  const trustRaw = get('TRUST_PROXY');
  let trustProxy: boolean | number | string[] = false;
  if (trustRaw !== undefined) {
    if (/^(true|false)$/i.test(trustRaw)) trustProxy = trustRaw.toLowerCase() === 'true';
    else if (/^\d{1,2}$/.test(trustRaw)) trustProxy = Number(trustRaw);
    else if (/^[0-9a-fA-F.:/,\s]+$/.test(trustRaw)) trustProxy = trustRaw.split(',').map((x) => x.trim()).filter(Boolean);
    else problems.push(`TRUST_PROXY="${trustRaw}" must be true, false, a hop count, or comma-separated proxy addresses/CIDRs (e.g. 127.0.0.1,10.0.0.0/8)`);
  }

  const dataDir = get('DATA_DIR') ?? './data';
  const s3Bucket = get('MEDIA_S3_BUCKET');
  const accessKeyId = get('AWS_ACCESS_KEY_ID');
  const secretAccessKey = get('AWS_SECRET_ACCESS_KEY');
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both or neither');
  const media: MediaConfig = {
    dir: get('MEDIA_DIR') ?? `${trimEndWhere(dataDir, is('/'))}/media`,
    maxBytes: int('MEDIA_MAX_BYTES', 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    concurrency: int('MEDIA_CONCURRENCY', 2, 1, 64),
    s3: s3Bucket
      ? {
          bucket: s3Bucket,
          endpoint: httpUrl('MEDIA_S3_ENDPOINT', get('MEDIA_S3_ENDPOINT')),
          region: get('MEDIA_S3_REGION') ?? get('AWS_REGION') ?? 'us-east-1',
          credentials:
            accessKeyId && secretAccessKey
              ? { accessKeyId, secretAccessKey, ...(get('AWS_SESSION_TOKEN') ? { sessionToken: get('AWS_SESSION_TOKEN') } : {}) }
              : undefined,
        }
      : undefined,
  };
  if (!s3Bucket && get('MEDIA_S3_ENDPOINT')) problems.push('MEDIA_S3_ENDPOINT is set but MEDIA_S3_BUCKET is not: name the bucket too');
  const ttlRaw = get('PREVIEW_TTL') ?? '24h';
  const ttl = parseDuration(ttlRaw);
  const previewTtlMs = ttl ?? 86_400_000;
  if (ttl === null) problems.push(`PREVIEW_TTL="${ttlRaw}" must be a positive duration such as 30m, 24h or 7d`);
  const previewUrl = get('PREVIEW_URL') ?? '{siteUrl}/preview/{token}/';
  const unknownPreview = (previewUrl.match(/\{[^{}]*\}/g) ?? []).filter((t) => !['{siteUrl}', '{token}', '{id}', '{slug}'].includes(t));
  if (unknownPreview.length) problems.push(`PREVIEW_URL has unknown placeholders ${unknownPreview.join(' ')} (available: {siteUrl} {token} {id} {slug})`);
  else if (!previewUrl.includes('{token}')) problems.push('PREVIEW_URL must contain {token}');
  const deskIdleRaw = get('DESK_IDLE') ?? '2h';
  const deskIdleMs = parseDuration(deskIdleRaw) ?? 7_200_000;
  if (parseDuration(deskIdleRaw) === null) problems.push(`DESK_IDLE="${deskIdleRaw}" must be a positive duration such as 30m or 2h`);
  const corsRaw = get('CORS_ORIGINS') ?? '*';
  let corsOrigins: '*' | string[] = '*';
  if (corsRaw !== '*') {
    corsOrigins = [];
    for (const item of corsRaw.split(',').map((x) => x.trim()).filter(Boolean)) {
      let origin: string | undefined;
      try {
        const u = new URL(item);
        if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin === item.replace(/\/$/, '')) origin = u.origin;
      } catch {
        // reported below
      }
      if (origin) corsOrigins.push(origin);
      else problems.push(`CORS_ORIGINS has "${item}": each entry must be an origin such as https://www.example.com (scheme, host, optional port; no path), or set * for any`);
    }
    if (!corsOrigins.length) problems.push('CORS_ORIGINS must be * or a comma-separated list of origins');
  }

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir,
    apiUrl,
    siteUrl,
    permalink,
    siteTitle: get('SITE_TITLE') ?? 'Inkwell',
    siteDescription: get('SITE_DESCRIPTION') ?? 'A blog on Inkwell',
    siteTwitter,
    twitter,
    twitterApiUrl: httpUrl('TWITTER_API_URL', get('TWITTER_API_URL')),
    announceTemplate,
    announceTemplates,
    mastodon,
    bluesky,
    xMonthlyLimit,
    xBackfeed: oneOf('X_BACKFEED', 'off', ['on', 'off']) === 'on',
    xBackfeedMonthlyReads: int('X_BACKFEED_MONTHLY_READS', 100, 0, 10_000_000),
    announceMaxAgeHours: int('ANNOUNCE_MAX_AGE_HOURS', 48, 1, 24 * 365),
    commentModeration: oneOf<ModerationPolicy>('COMMENT_MODERATION', 'first-time', ['manual', 'first-time', 'open']),
    commentMinIntervalSeconds: int('COMMENT_MIN_INTERVAL', 15, 0, 86_400),
    rateLimitWrites,
    outboundAllowPrivate: bool('OUTBOUND_ALLOW_PRIVATE', false),
    frontend: bool('FRONTEND', true),
    logLevel: oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    trustProxy,
    siteIcon: httpUrl('SITE_ICON', get('SITE_ICON')),
    media,
    previewTtlMs,
    previewUrl,
    corsOrigins,
    responseCacheMB: int('RESPONSE_CACHE_MB', 32, 0, 65_536),
    articleCacheMB: int('ARTICLE_CACHE_MB', 32, 0, 65_536),
    searchExactUpTo: int('SEARCH_EXACT_UP_TO', 2_000, 0, 1_000_000_000),
    searchRankWindow: int('SEARCH_RANK_WINDOW', 100, 1, 100_000),
    deskIdleMs,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** A valid configuration for tests and tools, overriding only what is given. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ DATABASE_URL: 'memory://', LOG_LEVEL: 'silent' }), ...overrides };
}
