// Microformats2 shapes as real senders publish them. Each fixture names where its shape
// comes from; the markup is written for this test after those shapes, not copied.
import { describe, expect, it } from 'vitest';
import { networkOf, readEntry } from '../../../src/linkbacks/verify/microformats.ts';

const TARGET = 'https://blog.example/why-send-a-thank-you-note/';

// Bridgy's response pages are rendered by granary's microformats2 HTML template
// (snarfed/granary, granary/microformats2.py `object_to_html`): one h-entry with a p-author
// h-card (p-name u-url, u-photo), a u-url, dt-published, e-content and the response property.
const bridgyReply = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=https://mastodon.example/@ana/1001"></head><body>
<article class="h-entry">
  <span class="p-uid">tag:mastodon.example,2013:1001</span>
  <time class="dt-published" datetime="2026-11-20T10:00:00+00:00">2026-11-20T10:00:00+00:00</time>
  <span class="p-author h-card">
    <a class="p-name u-url" href="https://mastodon.example/@ana">Ana Lima</a>
    <img class="u-photo" src="https://files.mastodon.example/ana.png" alt="" />
  </span>
  <a class="u-url" href="https://mastodon.example/@ana/1001">https://mastodon.example/@ana/1001</a>
  <div class="e-content p-name">Thank-you notes got me my <b>last job</b>.</div>
  <a class="u-in-reply-to" href="${TARGET}"></a>
</article></body></html>`;

const bridgyLike = `<!DOCTYPE html><html><body>
<article class="h-entry">
  <span class="p-uid">tag:bsky.app,2013:at://did:plc:ben/app.bsky.feed.post/3k#liked_by_did:plc:cy</span>
  <span class="p-author h-card"><a class="p-name u-url" href="https://bsky.app/profile/cy.example">Cy</a>
    <img class="u-photo" src="https://cdn.bsky.example/avatar/cy.jpg" alt="" /></span>
  <a class="u-url" href="https://bsky.app/profile/blog.example/post/3k#liked_by_did:plc:cy"></a>
  <div class="e-content p-name"></div>
  <a class="u-like-of" href="${TARGET}"></a>
</article></body></html>`;

// An IndieWeb WordPress reply (the IndieWeb plugin's Autonomie theme and the "Post Kinds"
// plugin): the reply context is an h-cite inside u-in-reply-to, the author h-card sits in the
// entry's header, the date is a dt-published <time>.
const indiewebReply = `<html><head><title>Re: thank-you notes</title></head><body>
<main><article class="h-entry post">
  <header><div class="u-in-reply-to h-cite"><p>In reply to: <a class="u-url p-name" href="${TARGET}">Why Send a Thank You Note</a></p></div>
  <span class="p-author h-card"><img class="u-photo" src="/avatar.jpg" alt=""><a class="u-url p-name" href="/">Dana Whitfield</a></span>
  <time class="dt-published" datetime="2026-11-21T08:30:00-05:00">Nov 21</time></header>
  <div class="e-content"><p>I send one after every interview.</p><p>Always by email, the same day.</p></div>
</article></main></body></html>`;

describe('readEntry', () => {
  it('reads a Bridgy reply: kind, author with photo, text, date, original URL', () => {
    const e = readEntry(bridgyReply, 'https://brid.gy/comment/mastodon/@blog/1000/1001', TARGET);
    expect(e).toEqual({
      kind: 'reply',
      author: { name: 'Ana Lima', url: 'https://mastodon.example/@ana', photo: 'https://files.mastodon.example/ana.png' },
      text: 'Thank-you notes got me my last job.',
      published: new Date('2026-11-20T10:00:00Z'),
      url: 'https://mastodon.example/@ana/1001',
    });
    expect(networkOf('https://brid.gy/comment/mastodon/@blog/1000/1001', e!.url)).toBe('mastodon');
  });

  it('reads a Bridgy like from Bluesky', () => {
    const e = readEntry(bridgyLike, 'https://brid.gy/like/bluesky/did:plc:blog/3k/did:plc:cy', TARGET);
    expect(e?.kind).toBe('like');
    expect(e?.author).toEqual({ name: 'Cy', url: 'https://bsky.app/profile/cy.example', photo: 'https://cdn.bsky.example/avatar/cy.jpg' });
    expect(networkOf('https://brid.gy/like/bluesky/did:plc:blog/3k/did:plc:cy', e!.url)).toBe('bluesky');
  });

  it('reads an IndieWeb reply whose reply context is an h-cite, resolving relative URLs', () => {
    const e = readEntry(indiewebReply, 'https://dana.example/2026/11/re-thank-you/', TARGET);
    expect(e).toMatchObject({
      kind: 'reply',
      author: { name: 'Dana Whitfield', url: 'https://dana.example/', photo: 'https://dana.example/avatar.jpg' },
      text: 'I send one after every interview. Always by email, the same day.',
      published: new Date('2026-11-21T13:30:00Z'),
    });
    expect(networkOf('https://dana.example/2026/11/re-thank-you/', e!.url)).toBe('web');
  });

  it('tells reposts and bookmarks, and calls an entry that only links a mention', () => {
    const page = (prop: string) => `<div class="h-entry"><a class="p-author h-card" href="https://x.example/">X</a><a class="${prop}" href="${TARGET}">post</a></div>`;
    expect(readEntry(page('u-repost-of'), 'https://x.example/r', TARGET)?.kind).toBe('repost');
    expect(readEntry(page('u-bookmark-of'), 'https://x.example/b', TARGET)?.kind).toBe('bookmark');
    expect(readEntry(page('u-url'), 'https://x.example/m', TARGET)?.kind).toBe('mention');
    // a like of something else is not a like of ours
    expect(readEntry(page('u-like-of').replace(TARGET, 'https://elsewhere.example/'), 'https://x.example/l', TARGET)?.kind).toBe('mention');
  });

  it('answers null for a page without h-entry (the caller keeps the title and excerpt)', () => {
    expect(readEntry('<html><title>t</title><p><a href="' + TARGET + '">x</a></p></html>', 'https://x.example/', TARGET)).toBeNull();
  });

  it('keeps hostile microformats safe and bounded', () => {
    const hostile = `<div class="h-entry">
      <div class="p-author h-card"><a class="u-url" href="javascript:alert(1)">${'N'.repeat(5000)}</a>
        <img class="u-photo" src="https://evil.example/${'p'.repeat(10 * 1024 * 1024 / 10)}.png"><span class="p-name">${'N'.repeat(5000)}</span></div>
      <div class="e-content"><script>alert(1)</script>${'word '.repeat(2000)}</div>
      <a class="u-in-reply-to" href="${TARGET}"></a></div>`;
    const e = readEntry(hostile, 'https://evil.example/post', TARGET)!;
    expect(e.kind).toBe('reply');
    expect(e.author!.url).toBeNull();
    expect(e.author!.photo).toBeNull();
    expect(e.author!.name.length).toBeLessThanOrEqual(100);
    expect(e.text).not.toContain('<script');
    expect(e.text.length).toBeLessThanOrEqual(2000);
  });
});
