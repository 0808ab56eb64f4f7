// What fetch() sends (SPEC §11, issue 14 item 7): `body: new FormData(form)` is
// multipart/form-data; generic fetch wrappers send `Content-Type: application/json`
// with an empty body on a bodyless POST.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

let t: TestApp;
let slug: string;
beforeAll(async () => {
  t = await createTestApp({ commentMinIntervalSeconds: 0, commentModeration: 'open' });
  slug = (await createArticle(t, { title: 'Form data' })).slug;
});
afterAll(() => t.close());

/** The bytes and Content-Type fetch() sends for this FormData. */
async function encoded(form: FormData) {
  const req = new Request('http://127.0.0.1/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': req.headers.get('content-type')! } };
}

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  return f;
};

describe('multipart/form-data on the comment endpoint', () => {
  it('new FormData(form) posts a comment', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/articles/${slug}/comments`,
      ...(await encoded(form({ authorName: 'Ada', authorEmail: 'ada@example.com', authorUrl: '', parentId: '', body: 'Sent as FormData.' }))),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ authorName: 'Ada', status: 'approved', html: '<p>Sent as FormData.</p>' });
  });

  it('its fields are validated like JSON: every bad field at once', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, ...(await encoded(form({ authorName: 'Ada', authorEmail: 'nope', colour: 'red' }))) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/body/authorEmail', '/body/body', '/body/colour']);
  });

  it('a file part is refused with 415; a malformed body with 400', async () => {
    const f = form({ authorName: 'Ada', authorEmail: 'ada@example.com', body: 'With a file' });
    f.append('attachment', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
    const res = await t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, ...(await encoded(f)) });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().detail).toMatch(/"attachment"/);
    const broken = await t.app.inject({
      method: 'POST',
      url: `/v1/articles/${slug}/comments`,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      payload: '--x\r\nContent-Disposition: form-data; name="body"\r\n\r\ncut off',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('an empty body declared as JSON', () => {
  it('POST …/publish with Content-Type: application/json and no body publishes', async () => {
    const draft = await createArticle(t, { title: 'Publish me', status: 'draft' });
    const res = await t.app.inject({ method: 'POST', url: `/v1/admin/articles/${draft.id}/publish`, headers: { ...t.auth, 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('published');
  });

  it('a route that needs a body still says so, as a 400 naming it', async () => {
    const res = await adminRequest(t, 'POST', '/v1/admin/articles', undefined, { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{"title":' });
    expect(bad.statusCode).toBe(400);
  });
});
