// Draft preview: tokens, expiry, revocation, the article's deletion, the headers, and the
// reference frontend's page.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const preview = async (id: number) => {
  const res = await adminRequest(t, 'POST', `/v1/admin/articles/${id}/preview`);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { token: string; url: string; expiresAt: string };
};

describe('draft preview', () => {
  it('shows a draft, its latest edit, in the public shape, never cached nor indexed', async () => {
    const draft = await createArticle(t, { title: 'Secret draft', status: 'draft', markdown: 'First words.' });
    expect((await t.app.inject({ method: 'GET', url: `/v1/articles/${draft.slug}` })).statusCode).toBe(404);
    const p = await preview(draft.id);
    expect(p.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.url).toBe(`http://blog.test/preview/${p.token}/`);
    const ttl = new Date(p.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(23.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000);
    // only a hash is stored
    const stored = await t.database.db.execute(sql`select token_hash from preview_tokens`);
    expect(JSON.stringify(stored)).not.toContain(p.token);

    const res = await t.app.inject({ method: 'GET', url: `/v1/preview/${p.token}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers['x-robots-tag']).toBe('noindex');
    expect(res.headers.etag).toBeUndefined();
    expect(res.json()).toMatchObject({ id: draft.id, title: 'Secret draft', status: 'draft' });
    expect(res.json().html).toContain('First words.');
    const publicKeys = Object.keys((await t.app.inject({ method: 'GET', url: `/v1/articles/${(await createArticle(t, { title: 'Shape' })).slug}` })).json()).sort();
    expect(Object.keys(res.json()).sort()).toEqual(publicKeys);

    await adminRequest(t, 'PATCH', `/v1/admin/articles/${draft.id}`, { markdown: 'Second words.' });
    const again = await t.app.inject({ method: 'GET', url: `/v1/preview/${p.token}` });
    expect(again.json().html).toContain('Second words.');
    expect(t.app.responseCache.get(`/v1/preview/${p.token}`)).toBeUndefined();
  });

  it('fills PREVIEW_URL', async () => {
    const other = await createTestApp({ previewUrl: 'https://front.test/api/draft?token={token}&id={id}&slug={slug}', previewTtlMs: 60_000 });
    try {
      const a = await createArticle(other, { title: 'Templated', status: 'draft' });
      const res = await adminRequest(other, 'POST', `/v1/admin/articles/${a.id}/preview`);
      const { token, url, expiresAt } = res.json();
      expect(url).toBe(`https://front.test/api/draft?token=${token}&id=${a.id}&slug=templated`);
      expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    } finally {
      await other.close();
    }
  });

  it('404s for unknown, revoked, expired tokens and those of a deleted article', async () => {
    const a = await createArticle(t, { title: 'Short lived', status: 'draft' });
    const [p1, p2, p3] = [await preview(a.id), await preview(a.id), await preview(a.id)];
    for (const token of ['nope', 'A'.repeat(43), `${p1.token.slice(0, -1)}x`]) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/preview/${token}` });
      expect(res.statusCode, token).toBe(404);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await adminRequest(t, 'DELETE', `/v1/admin/previews/${p1.token}`)).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: `/v1/preview/${p1.token}` })).statusCode).toBe(404);
    expect((await adminRequest(t, 'DELETE', `/v1/admin/previews/${p1.token}`)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/preview/${p2.token}` })).statusCode).toBe(200);

    await t.database.db.execute(sql`update preview_tokens set expires_at = now() - interval '1 second' where article_id = ${a.id}`);
    expect((await t.app.inject({ method: 'GET', url: `/v1/preview/${p2.token}` })).statusCode).toBe(404);

    const b = await createArticle(t, { title: 'Deleted later', status: 'draft' });
    const p4 = await preview(b.id);
    expect((await t.app.inject({ method: 'GET', url: `/v1/preview/${p4.token}` })).statusCode).toBe(200);
    await adminRequest(t, 'DELETE', `/v1/admin/articles/${b.id}`);
    expect((await t.app.inject({ method: 'GET', url: `/v1/preview/${p4.token}` })).statusCode).toBe(404);
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${b.id}/preview`)).statusCode).toBe(404);
    expect(p3.token).not.toBe(p2.token);
  });

  it('the reference frontend shows a banner and no reply form', async () => {
    const a = await createArticle(t, { title: 'Frontend preview', status: 'draft', markdown: 'Draft body.' });
    const p = await preview(a.id);
    const page = await t.app.inject({ method: 'GET', url: `/preview/${p.token}/`, headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('private, no-store');
    expect(page.headers['x-robots-tag']).toBe('noindex');
    expect(page.body).toContain('class="preview-banner"');
    expect(page.body).toContain('>Preview<');
    expect(page.body).toContain('Draft body.');
    expect(page.body).not.toContain('<form');
    expect(page.body).toContain('<meta name="robots" content="noindex">');
    const gone = await t.app.inject({ method: 'GET', url: '/preview/unknown-token/', headers: { accept: 'text/html' } });
    expect(gone.statusCode).toBe(404);
  });
});
