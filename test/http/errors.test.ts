// SPEC §11 "Errors a person can act on": a 400 lists every invalid field at once, a
// wrong enum value names the allowed values, and each problem `type` leads to a page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { PROBLEMS } from '../../src/http/errors.ts';

let t: TestApp;
let slug: string;
beforeAll(async () => {
  t = await createTestApp({ commentMinIntervalSeconds: 0 });
  slug = (await createArticle(t, { title: 'Errors' })).slug;
});
afterAll(() => t.close());

const comment = (payload: unknown) =>
  t.app.inject({ method: 'POST', url: `/v1/articles/${slug}/comments`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

describe('a 400 lists every invalid field at once', () => {
  it('an empty comment names the three required fields', async () => {
    const res = await comment({});
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { pointer: '/body/authorName', message: 'is required' },
      { pointer: '/body/authorEmail', message: 'is required' },
      { pointer: '/body/body', message: 'is required' },
    ]);
  });

  it('a bad email and a missing body are reported together', async () => {
    const res = await comment({ authorName: 'A', authorEmail: 'bad' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.sort((a: { pointer: string }, b: { pointer: string }) => a.pointer.localeCompare(b.pointer))).toEqual([
      { pointer: '/body/authorEmail', message: 'must be a valid email address (it is never shown)' },
      { pointer: '/body/body', message: 'is required' },
    ]);
  });

  it('a bad parentId says what it must be, not a regular expression', async () => {
    const res = await comment({ authorName: 'A', authorEmail: 'a@example.com', body: 'Hi', parentId: 'abc' });
    expect(res.statusCode).toBe(400);
    const [error] = res.json().errors;
    expect(error.pointer).toBe('/body/parentId');
    expect(error.message).toMatch(/^must be the id of the comment this one replies to/);
    expect(res.body).not.toMatch(/\^\[0-9\]/);
  });

  it('a padded email still passes, as the service trims it', async () => {
    const res = await comment({ authorName: 'A', authorEmail: '  Ada@Example.com ', body: 'Padded' });
    expect(res.statusCode).toBe(201);
  });
});

describe('a wrong enum value names the allowed values, once', () => {
  it('?order=bogus', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/articles?order=bogus' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ pointer: '/query/order', message: 'must be one of: -publishedAt, publishedAt, relevance' }]);
    expect(res.json().detail).toBe('/query/order must be one of: -publishedAt, publishedAt, relevance');
  });

  it('an article {"status":"publish"}', async () => {
    const res = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'T', markdown: 'M', status: 'publish' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ pointer: '/body/status', message: 'must be one of: draft, scheduled, published, archived' }]);
  });

  it('a moderation {"status":"approve"}, with an unknown field beside it', async () => {
    const res = await adminRequest(t, 'PATCH', '/v1/admin/responses/1', { status: 'approve', colour: 'red' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { pointer: '/body/colour', message: 'is not a known parameter' },
      { pointer: '/body/status', message: 'must be one of: pending, approved, spam, trash' },
    ]);
  });
});

describe('problem types resolve to a page for people', () => {
  it('every code of the closed list has its page; the type of a real answer leads there', async () => {
    for (const [code, p] of Object.entries(PROBLEMS)) {
      const res = await t.app.inject({ method: 'GET', url: `/problems/${code}` });
      expect(res.statusCode, code).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain(`<h1>${p.title}</h1>`);
      expect(res.body).toContain(String(p.status));
    }
    const problem = (await t.app.inject({ method: 'GET', url: '/v1/articles/no-such-article' })).json();
    const page = await t.app.inject({ method: 'GET', url: problem.type });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/There is no such resource/);
    expect((await t.app.inject({ method: 'GET', url: '/problems/no-such-problem' })).statusCode).toBe(400);
  });
});
