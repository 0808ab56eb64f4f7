// The security promises a reviewer would check first, enumerated from the
// OpenAPI document so that a new route cannot slip past them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

let t: TestApp;
let doc: { paths: Record<string, Record<string, { security?: unknown[] }>> };
let slug: string;
beforeAll(async () => {
  t = await createTestApp();
  slug = (await createArticle(t, { title: 'Security target' })).slug;
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => t.close());

const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    METHODS.filter((m) => ops[m]).map((m) => ({ method: m.toUpperCase() as Uppercase<(typeof METHODS)[number]>, path, secured: Boolean(ops[m]!.security?.length) })),
  );
const concrete = (path: string) => path.replace(/\{slug\}/g, slug).replace(/\{id\}/g, '1').replace(/\{[^}]+\}/g, 'x');

describe('admin authentication', () => {
  it('every /v1/admin operation is documented as secured and answers 401 without a valid token', async () => {
    const admin = operations().filter((o) => o.path.startsWith('/v1/admin'));
    expect(admin.length).toBeGreaterThan(12);
    for (const op of admin) {
      expect(op.secured, `${op.method} ${op.path} lacks security in the document`).toBe(true);
      for (const authorization of [undefined, 'Bearer ', 'Bearer iw_forged', `Bearer ${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`, `Basic ${Buffer.from('admin:admin').toString('base64')}`, t.token]) {
        const res = await t.app.inject({
          method: op.method,
          url: concrete(op.path),
          headers: authorization ? { authorization } : {},
          payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {},
        });
        expect(res.statusCode, `${op.method} ${op.path} with ${authorization}`).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('no operation outside /v1/admin requires a token, and none inside is public', () => {
    for (const op of operations()) expect(op.secured, `${op.method} ${op.path}`).toBe(op.path.startsWith('/v1/admin'));
  });

  it('a revoked token stops working at once', async () => {
    const { createToken, revokeToken } = await import('../../src/auth/tokens.service.ts');
    const { token } = await createToken(t.database.db, 'short-lived');
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/whoami', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    await revokeToken(t.database.db, 'short-lived');
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/whoami', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
  });
});

describe('headers on every answer', () => {
  it('security headers and a request id on every documented operation, success or error', async () => {
    for (const op of operations()) {
      const res = await t.app.inject({ method: op.method, url: concrete(op.path), payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {} });
      const what = `${op.method} ${op.path} → ${res.statusCode}`;
      expect(res.headers['x-content-type-options'], what).toBe('nosniff');
      expect(res.headers['x-frame-options'], what).toBeDefined();
      expect(res.headers['referrer-policy'], what).toBe('no-referrer');
      expect(res.headers['x-request-id'], what).toBeDefined();
      expect(res.statusCode, what).toBeLessThan(500);
    }
  });

  it('CORS is open for reads and public writes, closed for the admin API', async () => {
    // the public writes (a comment, a webmention) carry CORS (SPEC §11): a browser on another origin reads its answer
    const writes = operations().filter((o) => o.method !== 'GET' && o.path.startsWith('/v1/admin'));
    for (const op of writes) {
      const res = await t.app.inject({ method: op.method, url: concrete(op.path), headers: { origin: 'https://evil.example' }, payload: {} });
      expect(res.headers['access-control-allow-origin'], `${op.method} ${op.path}`).toBeUndefined();
    }
    const read = await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}`, headers: { origin: 'https://anyone.example' } });
    expect(read.headers['access-control-allow-origin']).toBe('*');
  });

  it('error bodies carry no stack traces or SQL', async () => {
    const probes = [
      { method: 'GET' as const, url: "/v1/articles?q=' OR 1=1 --" },
      { method: 'GET' as const, url: '/v1/articles?after=eyJrIjpbIngiLDFdLCJmIjoieCJ9' },
      { method: 'POST' as const, url: `/v1/articles/${slug}/comments`, payload: '{"authorName":' },
      { method: 'GET' as const, url: '/v1/articles/%E0%A4%A' },
    ];
    for (const p of probes) {
      const res = await t.app.inject({ ...p, headers: p.payload ? { 'content-type': 'application/json' } : {} });
      expect(res.statusCode, p.url).toBeLessThan(500);
      expect(res.body).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+|select |insert |relation "/i);
    }
  });
});
