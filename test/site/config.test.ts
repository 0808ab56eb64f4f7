import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
};

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: './data',
      apiUrl: 'http://127.0.0.1:3000',
      siteUrl: 'http://127.0.0.1:3000',
      permalink: '/{slug}/',
      announceTemplate: '{title} {url}',
      commentModeration: 'first-time',
      commentMinIntervalSeconds: 15,
      rateLimitWrites: { max: 20, windowMs: 60_000 },
      outboundAllowPrivate: false,
      frontend: true,
      twitter: undefined,
    });
  });

  it('derives SITE_URL from API_URL, and API_URL from HOST and PORT', () => {
    expect(loadConfig({ PORT: '8080' }).apiUrl).toBe('http://127.0.0.1:8080');
    expect(loadConfig({ API_URL: 'https://api.example.com/' }).siteUrl).toBe('https://api.example.com');
    expect(loadConfig({ API_URL: 'https://api.example.com', SITE_URL: 'https://example.com' }).siteUrl).toBe('https://example.com');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ API_URL: 'ftp://x' }, 'API_URL'],
    [{ SITE_URL: 'not a url' }, 'SITE_URL'],
    [{ PERMALINK: '/{title}/' }, 'PERMALINK'],
    [{ PERMALINK: 'no-slash/{slug}' }, 'PERMALINK'],
    [{ COMMENT_MODERATION: 'sometimes' }, 'COMMENT_MODERATION'],
    [{ COMMENT_MIN_INTERVAL: '-1' }, 'COMMENT_MIN_INTERVAL'],
    [{ RATE_LIMIT_WRITES: 'lots' }, 'RATE_LIMIT_WRITES'],
    [{ OUTBOUND_ALLOW_PRIVATE: 'maybe' }, 'OUTBOUND_ALLOW_PRIVATE'],
    [{ FRONTEND: 'perhaps' }, 'FRONTEND'],
    [{ ANNOUNCE_TEMPLATE: '{title}' }, 'ANNOUNCE_TEMPLATE'],
    [{ ANNOUNCE_TEMPLATE: '{title} {url} {nope}' }, 'ANNOUNCE_TEMPLATE'],
    [{ SITE_TWITTER: 'not a handle!' }, 'SITE_TWITTER'],
    [{ TWITTER_APP_KEY: 'k' }, 'TWITTER_APP_SECRET'],
    [{ TWITTER_API_URL: 'javascript:alert(1)' }, 'TWITTER_API_URL'],
    [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY'],
    [{ MASTODON_URL: 'https://mastodon.social' }, 'MASTODON_TOKEN'],
    [{ MASTODON_URL: 'mastodon.social', MASTODON_TOKEN: 't' }, 'MASTODON_URL'],
    [{ BLUESKY_HANDLE: 'blog.bsky.social' }, 'BLUESKY_APP_PASSWORD'],
    [{ BLUESKY_SERVICE: 'https://pds.example' }, 'BLUESKY_HANDLE'],
    [{ BLUESKY_HANDLE: 'not a handle', BLUESKY_APP_PASSWORD: 'p' }, 'BLUESKY_HANDLE'],
    [{ X_MONTHLY_LIMIT: 'lots' }, 'X_MONTHLY_LIMIT'],
    [{ X_BACKFEED: 'yes' }, 'X_BACKFEED'],
    [{ X_BACKFEED_MONTHLY_READS: '-1' }, 'X_BACKFEED_MONTHLY_READS'],
    [{ MASTODON_TEMPLATE: '{title}' }, 'MASTODON_TEMPLATE'],
    [{ BLUESKY_TEMPLATE: '{title} {url} {nope}' }, 'BLUESKY_TEMPLATE'],
  ])('rejects %o naming %s', (env, name) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toContain(name);
  });

  it('reads the networks: templates fall back to ANNOUNCE_TEMPLATE; Bluesky defaults to bsky.social; no X limit by default', () => {
    const c = loadConfig({
      ANNOUNCE_TEMPLATE: 'New: {title} {url}',
      X_TEMPLATE: '{title} {tags} {url}',
      MASTODON_URL: 'https://mastodon.example/',
      MASTODON_TOKEN: 'tok',
      BLUESKY_HANDLE: '@blog.bsky.social',
      BLUESKY_APP_PASSWORD: 'abcd-efgh-ijkl-mnop',
      X_MONTHLY_LIMIT: '100',
    });
    expect(c.announceTemplates).toEqual({ x: '{title} {tags} {url}', mastodon: 'New: {title} {url}', bluesky: 'New: {title} {url}' });
    expect(c.mastodon).toEqual({ url: 'https://mastodon.example', token: 'tok' });
    expect(c.bluesky).toEqual({ service: 'https://bsky.social', handle: 'blog.bsky.social', appPassword: 'abcd-efgh-ijkl-mnop' });
    expect(c.xMonthlyLimit).toBe(100);
    expect(loadConfig({})).toMatchObject({ mastodon: undefined, bluesky: undefined, xMonthlyLimit: undefined, xBackfeed: false, xBackfeedMonthlyReads: 100 });
    expect(loadConfig({ X_BACKFEED: 'on', X_BACKFEED_MONTHLY_READS: '500' })).toMatchObject({ xBackfeed: true, xBackfeedMonthlyReads: 500 });
  });

  it('RESPONSE_CACHE_MB: 32 by default, 0 keeps nothing, anything else but a whole number is refused', () => {
    expect(loadConfig({}).responseCacheMB).toBe(32);
    expect(loadConfig({ RESPONSE_CACHE_MB: '0' }).responseCacheMB).toBe(0);
    expect(problemsOf({ RESPONSE_CACHE_MB: '-1' })).toEqual(['RESPONSE_CACHE_MB="-1" must be an integer from 0 to 65536']);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ PORT: 'x', COMMENT_MODERATION: 'y', FRONTEND: 'z' })).toHaveLength(3);
  });

  it('accepts the documented forms', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/inkwell',
      RATE_LIMIT_WRITES: '5/second',
      OUTBOUND_ALLOW_PRIVATE: 'true',
      FRONTEND: 'off',
      SITE_TWITTER: '@inkwell_blog',
      PERMALINK: '/{yyyy}/{mm}/{slug}.html',
      TWITTER_APP_KEY: 'a',
      TWITTER_APP_SECRET: 'b',
      TWITTER_ACCESS_TOKEN: 'c',
      TWITTER_ACCESS_SECRET: 'd',
    });
    expect(c.rateLimitWrites).toMatchObject({ max: 5, windowMs: 1000 });
    expect(c.outboundAllowPrivate).toBe(true);
    expect(c.frontend).toBe(false);
    expect(c.siteTwitter).toBe('inkwell_blog');
    expect(c.twitter).toEqual({ appKey: 'a', appSecret: 'b', accessToken: 'c', accessSecret: 'd' });
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({}).trustProxy).toBe(false);
  });
});
