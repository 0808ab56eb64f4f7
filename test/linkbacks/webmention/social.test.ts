// Webmentions whose source carries microformats2 (what Bridgy sends for reactions on
// Mastodon and Bluesky, and what IndieWeb sites send) become social responses: kind from
// the h-entry, author from its h-card, one response per original.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { startFakeBlog, type FakeBlog } from '../../helpers/fake-blogs.ts';
import { NO_LIMIT, publish } from '../support.ts';

let t: TestApp;
let blog: FakeBlog;
let article: { id: number; slug: string; url: string };

/** The shape of a Bridgy response page (granary's microformats2 HTML template). */
function bridgyPage(o: { kind: 'u-in-reply-to' | 'u-like-of' | 'u-repost-of'; author: string; profile: string; photo?: string; url: string; text?: string; published?: string }) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<article class="h-entry">
  ${o.published ? `<time class="dt-published" datetime="${o.published}">${o.published}</time>` : ''}
  <span class="p-author h-card"><a class="p-name u-url" href="${o.profile}">${o.author}</a>${o.photo ? `<img class="u-photo" src="${o.photo}" alt="">` : ''}</span>
  <a class="u-url" href="${o.url}">${o.url}</a>
  <div class="e-content p-name">${o.text ?? ''}</div>
  <a class="${o.kind}" href="${article.url}"></a>
</article></body></html>`;
}

async function mention(path: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/webmention',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ source: blog.url(path), target: article.url }).toString(),
  });
  expect(res.statusCode, res.body).toBe(202);
  await t.services.jobs.drainDue();
  return (await t.app.inject({ method: 'GET', url: new URL(res.headers.location as string).pathname })).json();
}

const publicResponses = async (query = '') => (await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}/responses${query}` })).json();

beforeAll(async () => {
  blog = await startFakeBlog();
  // the reference frontend serves the site when the API is the site
  t = await createTestApp({ apiUrl: 'http://blog.test', siteUrl: 'http://blog.test', outboundAllowPrivate: true, commentModeration: 'first-time', rateLimitWrites: NO_LIMIT });
  article = await publish(t, { title: 'Echoed' });
});
afterAll(async () => {
  await t.close();
  await blog.close();
});

describe('social webmentions', () => {
  it('stores a like at once as a social response with its author and network', async () => {
    blog.page('/like/mastodon/1', {
      body: bridgyPage({ kind: 'u-like-of', author: 'Ana', profile: 'https://mastodon.example/@ana', photo: 'https://files.mastodon.example/ana.png', url: 'https://mastodon.example/@blog/1#favorited-by-7' }),
    });
    const status = await mention('/like/mastodon/1');
    expect(status).toMatchObject({ status: 'accepted', detail: 'The like was recorded.' });
    const likes = await publicResponses('?type=social&kind=like');
    expect(likes.data).toHaveLength(1);
    expect(likes.data[0]).toMatchObject({
      type: 'social',
      kind: 'like',
      network: 'web',
      html: '',
      author: { name: 'Ana', url: 'https://mastodon.example/@ana', photo: 'https://files.mastodon.example/ana.png' },
      url: 'https://mastodon.example/@blog/1#favorited-by-7',
    });
  });

  it('holds a reply from a new author under first-time moderation, with its text sanitised and its date kept', async () => {
    blog.page('/reply/1', {
      body: bridgyPage({
        kind: 'u-in-reply-to',
        author: 'Ben <b>Bold</b>',
        profile: 'https://ben.example/',
        url: 'https://ben.example/notes/1',
        text: 'Agreed! <script>alert(1)</script> See https://ben.example/more',
        published: '2026-11-20T10:00:00Z',
      }),
    });
    expect(await mention('/reply/1')).toMatchObject({ status: 'accepted', detail: 'The reply was recorded.' });
    expect((await publicResponses('?kind=reply')).data).toHaveLength(0);
    const held = await t.app.inject({ method: 'GET', url: '/v1/admin/responses?status=pending&type=social', headers: t.auth });
    const [reply] = held.json().data;
    expect(reply).toMatchObject({ kind: 'reply', authorName: 'Ben Bold', createdAt: '2026-11-20T10:00:00.000Z' });
    expect(reply.html).not.toContain('<script');
    expect(reply.html).toContain('rel="nofollow ugc"');
    await t.app.inject({ method: 'PATCH', url: `/v1/admin/responses/${reply.id}`, headers: t.auth, payload: { status: 'approved' } });

    // the same author, approved once, is trusted next time
    blog.page('/reply/2', { body: bridgyPage({ kind: 'u-in-reply-to', author: 'Ben', profile: 'https://ben.example/', url: 'https://ben.example/notes/2', text: 'Again' }) });
    await mention('/reply/2');
    expect((await publicResponses('?kind=reply')).data.map((r: { url: string }) => r.url)).toEqual(['https://ben.example/notes/1', 'https://ben.example/notes/2']);
    // a webmention reply (an h-entry with u-in-reply-to) counts among the article's replies, not as a comment or webmention
    const counts = (await t.app.inject({ method: 'GET', url: `/v1/articles/${article.slug}` })).json().counts;
    expect(counts).toMatchObject({ replies: 2, comments: 0, webmentions: 0 });
  });

  it('keeps one response per original: a repeat refreshes it, and a withdrawn reaction is removed', async () => {
    blog.page('/like/mastodon/1', {
      body: bridgyPage({ kind: 'u-like-of', author: 'Ana L.', profile: 'https://mastodon.example/@ana', url: 'https://mastodon.example/@blog/1#favorited-by-7' }),
    });
    await mention('/like/mastodon/1');
    const likes = (await publicResponses('?kind=like')).data;
    expect(likes).toHaveLength(1);
    expect(likes[0].author.name).toBe('Ana L.');

    blog.page('/like/mastodon/1', { status: 410, body: 'gone' });
    expect(await mention('/like/mastodon/1')).toMatchObject({ status: 'removed' });
    expect((await publicResponses('?kind=like')).data).toHaveLength(0);
  });

  it('reads a Bridgy source path as the network', async () => {
    blog.page('/repost/bluesky/did:plc:blog/3k/did:plc:cy', {
      body: bridgyPage({ kind: 'u-repost-of', author: 'Cy', profile: 'https://bsky.app/profile/cy.example', url: 'https://bsky.app/profile/cy.example/post/3l' }),
    });
    // the fake blog stands in for brid.gy: the network comes from the original's host here
    await mention('/repost/bluesky/did:plc:blog/3k/did:plc:cy');
    const [repost] = (await publicResponses('?kind=repost')).data;
    expect(repost).toMatchObject({ network: 'bluesky', kind: 'repost', author: { name: 'Cy' } });
  });

  it('leaves a page without microformats a plain webmention (kind mention), as before', async () => {
    blog.page('/plain', { body: `<html><head><title>A plain page</title></head><body><p>See <a href="${article.url}">this</a>.</p></body></html>` });
    await mention('/plain');
    const [plain] = (await publicResponses('?type=webmention')).data;
    expect(plain).toMatchObject({ type: 'webmention', kind: 'mention', authorName: 'A plain page', author: null });
  });
});

describe('on the article page', () => {
  it('shows the summary line, the facepile and the replies with their network', async () => {
    blog.page('/like/2', { body: bridgyPage({ kind: 'u-like-of', author: 'Dee', profile: 'https://bsky.app/profile/dee.example', url: 'https://bsky.app/profile/dee.example/post/9#liked' }) });
    await mention('/like/2');
    const page = await t.app.inject({ method: 'GET', url: `/${article.slug}/` });
    expect(page.statusCode).toBe(200);
    const body = page.body;
    expect(body).toContain('Mentioned on Bluesky by Cy and Dee');
    expect(body).toContain('Mentioned on the web by');
    expect(body).toMatch(/<h3>Likes <span class="count">1<\/span><\/h3>/);
    expect(body).toMatch(/<h3>Reposts <span class="count">1<\/span><\/h3>/);
    expect(body).toContain(`<span class="response-type">Reply:</span> <a class="url" href="https://ben.example/"`);
    // faces are initials linked to profiles: no picture from a stranger's host
    expect(body).not.toContain('files.mastodon.example');
  });
});
