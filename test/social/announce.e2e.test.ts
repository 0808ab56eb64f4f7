// Through the HTTP API, as an editor and a frontend meet it: write and publish with
// the admin API, watch the post arrive on the fake X, read `announcement` on the
// public article.
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';
import { type FakeX, X } from '../helpers/fake-x.ts';
import { useAppWithFakeX, xConfig } from './support.ts';

let fake: FakeX;
let t: TestApp;

useAppWithFakeX((f, a) => ((fake = f), (t = a)));
beforeEach(() => fake.reset());

const drain = () => t.services.jobs.drainDue();
const publicArticle = async (slug: string) => {
  const res = await t.app.inject({ method: 'GET', url: `/v1/articles/${slug}` });
  return { status: res.statusCode, body: res.statusCode === 200 ? res.json() : null };
};
const announcementsOf = async (articleId: number) =>
  (await adminRequest(t, 'GET', `/v1/admin/announcements?article=${articleId}`)).json().data as { status: string; url: string | null; text: string }[];

describe('publishing through the admin API announces once', () => {
  it('create with status published → one post with the permalink; the public article shows where', async () => {
    const a = await createArticle(t, { title: 'Hello from the API', markdown: 'Body *here*.' });
    expect((await publicArticle(a.slug)).body.announcement).toEqual({ status: 'queued', url: null });
    await drain();
    expect(fake.posts.map((p) => p.text)).toEqual([`Hello from the API ${a.url}`]);
    const pub = await publicArticle(a.slug);
    expect(pub.body.announcement).toEqual({ status: 'posted', url: `https://x.com/inkwellblog/status/${fake.posts[0].id}` });
  });

  it('a draft published later, then unpublished and published again: one post', async () => {
    const a = await createArticle(t, { title: 'Draft first', status: 'draft' });
    expect(await announcementsOf(a.id)).toEqual([]);
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`)).statusCode).toBe(200);
    await drain();
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/unpublish`)).statusCode).toBe(200);
    expect((await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`)).statusCode).toBe(200);
    expect((await adminRequest(t, 'PATCH', `/v1/admin/articles/${a.id}`, { title: 'Draft first, edited' })).statusCode).toBe(200);
    await drain();
    expect(fake.posts.map((p) => p.text)).toEqual([`Draft first ${a.url}`]);
    expect(await announcementsOf(a.id)).toMatchObject([{ status: 'posted' }]);
  });

  it('unpublished before the worker ran → cancelled, nothing sent; published again → sent once', async () => {
    const a = await createArticle(t, { title: 'Second thoughts' });
    await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/unpublish`);
    await drain();
    expect(await announcementsOf(a.id)).toMatchObject([{ status: 'cancelled' }]);
    expect(fake.requests).toEqual([]);
    expect((await publicArticle(a.slug)).status).toBe(404);

    await adminRequest(t, 'POST', `/v1/admin/articles/${a.id}/publish`);
    await drain();
    expect(fake.posts).toHaveLength(1);
    expect((await publicArticle(a.slug)).body.announcement.status).toBe('posted');
  });

  it('announce: false → no announcement, nothing sent, `announcement: null`', async () => {
    const a = await createArticle(t, { title: 'Not for X', announce: false });
    await drain();
    expect(fake.requests).toEqual([]);
    expect(await announcementsOf(a.id)).toEqual([]);
    expect((await publicArticle(a.slug)).body.announcement).toBeNull();
  });

  it('tags become hashtags when the template asks for them', async () => {
    const tagged = await createTestApp(xConfig(fake, { announceTemplates: { ...t.config.announceTemplates, x: 'New: {title} {tags} {url}' } }), { database: t.database });
    try {
      const a = await createArticle(tagged, { title: 'Tagged', tags: ['Node.js', 'Web Dev', '2024'] });
      await tagged.services.jobs.drainDue();
      expect(fake.posts.map((p) => p.text)).toEqual([`New: Tagged #Nodejs #WebDev ${a.url}`]);
    } finally {
      await tagged.close();
    }
  });

  it('a failure is visible on the article and in the admin list; a retry posts it', async () => {
    fake.script(X.forbidden('You are not permitted to create this Tweet.'));
    const a = await createArticle(t, { title: 'Refused then retried' });
    await drain();
    expect((await publicArticle(a.slug)).body.announcement).toEqual({ status: 'failed', url: null });
    const [row] = (await adminRequest(t, 'GET', `/v1/admin/announcements?article=${a.id}`)).json().data;
    expect(row.lastError).toMatch(/You are not permitted/);
    expect((await adminRequest(t, 'POST', `/v1/admin/announcements/${row.id}/retry`)).statusCode).toBe(200);
    await drain();
    expect((await publicArticle(a.slug)).body.announcement.status).toBe('posted');
    expect(fake.posts).toHaveLength(1);
  });
});
