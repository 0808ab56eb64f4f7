// The fake X itself, and the guarantee that no test can reach the real one.
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeX, FAKE_CREDENTIALS, signatureBaseString } from '../helpers/fake-x.ts';
import { takeNetworkAttempts } from '../helpers/no-network.ts';
import { classifyXFailure, createXClient, postTweet, xRequestPlugin } from '../../src/social/x/x-client.ts';

let fake: FakeX;
beforeAll(async () => {
  fake = await FakeX.start();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.credentials = FAKE_CREDENTIALS;
});

describe('the fake X verifies OAuth 1.0a signatures (RFC 5849)', () => {
  it('builds the signature base string of the RFC’s own example (§3.4.1.1)', () => {
    // POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b, body c2&a3=2+q, from the RFC
    const params: [string, string][] = [
      ['b5', '=%3D'],
      ['a3', 'a'],
      ['c@', ''],
      ['a2', 'r b'],
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
      ['c2', ''],
      ['a3', '2 q'],
    ];
    expect(signatureBaseString('POST', 'http://example.com/request', params)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('accepts a request signed with the right secrets and posts it', async () => {
    const client = createXClient(FAKE_CREDENTIALS, { baseUrl: fake.url, timeoutMs: 2000 });
    const posted = await postTweet(client, 'Hello from the test', 5000);
    expect(posted.id).toMatch(/^\d{19}$/);
    expect(fake.posts).toEqual([{ id: posted.id, text: 'Hello from the test' }]);
    const [req] = fake.tweetRequests;
    expect(req.authProblem).toBeNull();
    expect(req.headers.authorization).toMatch(/^OAuth oauth_consumer_key="fake-consumer-key"/);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
  });

  it('refuses with 401, like X, a signature made with another secret', async () => {
    const client = createXClient({ ...FAKE_CREDENTIALS, accessSecret: 'not-the-secret' }, { baseUrl: fake.url, timeoutMs: 2000 });
    const err = await postTweet(client, 'nope', 5000).catch((e: unknown) => e);
    expect(classifyXFailure(err).kind).toBe('auth');
    expect(fake.tweetRequests[0]).toMatchObject({ authProblem: 'bad signature', outcome: '401 (bad signature)' });
    expect(fake.posts).toEqual([]);
  });

  it('refuses a replayed request (same nonce and signature) and a tampered URL', async () => {
    const client = createXClient(FAKE_CREDENTIALS, { baseUrl: fake.url, timeoutMs: 2000 });
    await postTweet(client, 'original', 5000);
    const { headers, body } = fake.tweetRequests[0];
    const resend = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(`${fake.url}${path}`, { method: 'POST', headers: { authorization: headers.authorization!, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await resend('/2/tweets')).toBe(401);
    expect(await resend('/2/tweets?extra=1')).toBe(401);
    expect(fake.tweetRequests.slice(1).map((r) => r.authProblem)).toEqual(['nonce replayed', 'bad signature']);
    expect(fake.posts).toHaveLength(1);
  });

  it('refuses identical text with the 2026 duplicate body (no errors array)', async () => {
    const client = createXClient(FAKE_CREDENTIALS, { baseUrl: fake.url, timeoutMs: 2000 });
    await postTweet(client, 'same', 5000);
    const err = await postTweet(client, 'same', 5000).catch((e: unknown) => e);
    expect(classifyXFailure(err)).toMatchObject({ kind: 'duplicate' });
    expect(fake.posts).toHaveLength(1);
  });
});

describe('TWITTER_API_URL points the client elsewhere; nothing reaches the real X', () => {
  it('the plugin rewrites X’s origins, keeps the /2/ path, and sets the timeout', async () => {
    const plugin = xRequestPlugin({ baseUrl: 'http://127.0.0.1:9/', timeoutMs: 1234 });
    const params = { url: 'https://api.x.com/2/tweets', method: 'POST' } as { url: string; method: string; timeout?: number };
    await plugin.onBeforeRequestConfig!({ params } as never);
    expect(params).toMatchObject({ url: 'http://127.0.0.1:9/2/tweets', timeout: 1234 });
    // idempotent: a re-sent request is not rewritten twice
    await plugin.onBeforeRequestConfig!({ params } as never);
    expect(params.url).toBe('http://127.0.0.1:9/2/tweets');
  });

  it('without it the client goes to api.x.com, which the no-network guard stops', async () => {
    const client = createXClient(FAKE_CREDENTIALS, { timeoutMs: 1000 });
    await expect(postTweet(client, 'must not leave', 3000)).rejects.toThrow(/no-network guard.*api\.x\.com/);
    expect(takeNetworkAttempts()).toEqual(['api.x.com']);
  });
});
