import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, {
    beforeReady: (app) => {
      app.post('/test/echo', { schema: { hide: true } }, async (req) => req.body);
      app.get('/test/boom', { schema: { hide: true } }, async () => {
        throw new Error('secret-internal detail');
      });
    },
  });
});
afterAll(() => t.close());

const isProblem = (res: { headers: Record<string, unknown>; json(): any }, status: number) => {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), title: expect.any(String), detail: expect.any(String) });
  return body;
};

describe('health', () => {
  it('GET /healthz answers 200 without touching the database', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
    expect(res.headers['cache-control']).toBe('no-store');
  });
  it('GET /readyz answers 200 with the database kind', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', database: t.database.kind });
  });
});

describe('problem+json for every error', () => {
  it('an unknown route is a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/thing' });
    expect(res.statusCode).toBe(404);
    const body = isProblem(res, 404);
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('a missing or wrong admin token is a 401 problem with a Bearer challenge', async () => {
    for (const authorization of [undefined, 'Bearer nope', 'Basic Zm9vOmJhcg==', `Bearer ${t.token}x`]) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/admin/whoami', headers: authorization ? { authorization } : {} });
      expect(res.statusCode, String(authorization)).toBe(401);
      isProblem(res, 401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('a valid admin token is accepted', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/whoami', headers: t.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ token: 'test', scope: 'admin', expiresAt: null });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('malformed JSON is a 400 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"title": ',
    });
    expect(res.statusCode).toBe(400);
    isProblem(res, 400);
  });

  it('a body over the limit is a 413 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    isProblem(res, 413);
  });

  it('an unexpected failure is a 500 problem without internals', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.statusCode).toBe(500);
    const body = isProblem(res, 500);
    expect(JSON.stringify(body)).not.toMatch(/secret-internal|at .*\.ts|stack/);
  });
});

describe('request ids, security headers and CORS', () => {
  it('echoes a sane incoming X-Request-Id and invents one otherwise', async () => {
    const mine = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const evil = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a\u0000b<script>' } });
    expect(evil.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets security headers on every answer', async () => {
    for (const url of ['/healthz', '/nope']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('opens CORS for public answers and exposes the paging headers, but not for the admin API', async () => {
    const read = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://front.example' } });
    expect(read.headers['access-control-allow-origin']).toBe('*');
    expect(String(read.headers['access-control-expose-headers'])).toContain('X-Total-Count');
    // public writes (the comment POST) are open too: test/http/cors.test.ts
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/admin/articles',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(String(preflight.headers['access-control-allow-methods'] ?? '')).not.toContain('POST');
    const write = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/articles',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(write.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document identical to the committed openapi/openapi.json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const served = res.json();
    expect(served.openapi).toBe('3.1.0');
    const committed = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));
    expect(served, 'openapi/openapi.json is stale: run `npm run openapi` and commit it').toEqual(committed);
  });

  it('serves the API reference (Scalar, its bundle from this server) at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<script src="js/scalar.js"></script>');
  });
});
