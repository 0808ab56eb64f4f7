// The article template on API-shaped data, for states that are slow to reach through
// the whole stack (a posted announcement, a webmention, odd URLs in responses).
import { load } from 'cheerio';
import { describe, expect, it } from 'vitest';
import type { Article, Response, Site } from '../../src/frontend/api.ts';
import { articlePage, responsesHeading } from '../../src/frontend/article.page.ts';
import { html, safeUrl, trusted } from '../../src/frontend/html.ts';
import type { Paths } from '../../src/frontend/layout.ts';

const site: Site = {
  title: 'Blog',
  description: 'A blog',
  url: 'https://blog.example',
  twitter: null,
  pingbackUrl: 'https://blog.example/xmlrpc',
  webmentionUrl: 'https://blog.example/webmention',
  feeds: { rss: 'https://blog.example/feed.xml', atom: 'https://blog.example/feed.atom', json: 'https://blog.example/feed.json' },
};
const paths: Paths = {
  base: '',
  home: '/',
  tag: (s) => `/tags/${s}/`,
  stylesheet: '/assets/inkwell.css',
  comment: (s) => `/comments/${s}`,
  docs: 'https://blog.example/docs',
};
const article: Article = {
  id: 1,
  slug: 'hello',
  title: 'Hello',
  status: 'published',
  excerpt: 'Hi',
  html: '<p>Hi</p>',
  publishedAt: '2026-01-02T03:04:05.000Z',
  url: 'https://blog.example/hello/',
  readingTimeMinutes: 1,
  author: null,
  tags: [],
  counts: { comments: 1, pingbacks: 0, webmentions: 1 },
  commentsOpen: true,
  announcement: null,
  syndication: [],
};
const response = (r: Partial<Response>): Response => ({
  id: 1,
  type: 'comment',
  authorName: 'Someone',
  authorUrl: null,
  html: '<p>Words</p>',
  createdAt: '2026-01-03T00:00:00.000Z',
  parentId: null,
  ...r,
});
const render = (a: Partial<Article> = {}, responses: Response[] = []) =>
  load(articlePage({ site, paths, article: { ...article, ...a }, responses, form: {} }));

describe('the article template', () => {
  it('links the posted announcements as syndicated copies ("Also on Mastodon · Bluesky · X"), and nothing before', () => {
    const posted = render({
      announcement: { status: 'posted', url: 'https://x.com/blog/status/123' },
      syndication: [
        { network: 'mastodon', url: 'https://mastodon.example/@blog/1' },
        { network: 'bluesky', url: 'https://bsky.app/profile/blog.example/post/3l3qo2vutsw2b' },
        { network: 'x', url: 'https://x.com/blog/status/123' },
      ],
    });
    expect(posted('.syndication').text().replace(/\s+/g, ' ').trim()).toBe('Also on Mastodon · Bluesky · X');
    const links = posted('.h-entry a.u-syndication[rel="syndication"]');
    expect(links.map((_i, a) => posted(a).attr('href')).get()).toEqual([
      'https://mastodon.example/@blog/1',
      'https://bsky.app/profile/blog.example/post/3l3qo2vutsw2b',
      'https://x.com/blog/status/123',
    ]);
    expect(render({ syndication: [{ network: 'x', url: 'javascript:alert(1)' }] })('.syndication')).toHaveLength(0);
    expect(render({ announcement: { status: 'queued', url: null }, syndication: [] })('.syndication')).toHaveLength(0);
  });

  it('says "Follow us on Twitter" only when SITE_TWITTER is set', () => {
    expect(render()('a:contains("Follow us on Twitter")')).toHaveLength(0);
    const $ = load(articlePage({ site: { ...site, twitter: 'blog' }, paths, article, responses: [], form: {} }));
    expect($('a:contains("Follow us on Twitter")').attr('href')).toBe('https://x.com/blog');
  });

  it('counts responses the way readers say it', () => {
    expect(responsesHeading(0, 'T')).toBe('No Responses to “T”');
    expect(responsesHeading(1, 'T')).toBe('One Response to “T”');
    expect(responsesHeading(12, 'T')).toBe('12 Responses to “T”');
  });

  it('mentions show their source title as author, linked, with a label; no Reply link under them', () => {
    const $ = render({}, [
      response({ id: 1 }),
      response({ id: 2, type: 'webmention', authorName: 'Their post', authorUrl: 'https://their.example/post', html: '<p>[…] nice […]</p>' }),
    ]);
    expect($('#comment-2 .response-type').text()).toBe('Webmention:');
    expect($('#comment-2 .response-author a').attr('href')).toBe('https://their.example/post');
    expect($('#comment-2 .response-body').text()).toBe('[…] nice […]');
    expect($('#comment-2 .reply')).toHaveLength(0);
    expect($('#comment-1 .reply a').attr('href')).toBe('?replytocom=1#respond');
  });

  it('never turns a javascript: or relative author URL into a link', () => {
    const $ = render({}, [response({ id: 1, authorUrl: 'javascript:alert(1)' }), response({ id: 2, authorUrl: '//evil.example/' })]);
    expect($('.response-author a')).toHaveLength(0);
    expect($('#comment-1 .response-author').text()).toContain('Someone');
  });

  it('a reply whose parent is not shown stands at the top level instead of vanishing', () => {
    const $ = render({}, [response({ id: 5, parentId: 4 })]);
    expect($('.response-list > li#comment-5')).toHaveLength(1);
  });
});

describe('the html template tag', () => {
  it('escapes interpolations unless they are markup or trusted', () => {
    const name = '<b>"x"</b>';
    expect(html`<p title="${name}">${name}</p>`.value).toBe('<p title="&lt;b&gt;&quot;x&quot;&lt;/b&gt;">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</p>');
    expect(html`<div>${html`<i>${name}</i>`}${trusted('<em>ok</em>')}${[1, null, false, 'a&b']}</div>`.value).toBe(
      '<div><i>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</i><em>ok</em>1a&amp;b</div>',
    );
  });

  it('safeUrl keeps absolute http(s) only', () => {
    expect(safeUrl('https://a.example/x?y=1')).toBe('https://a.example/x?y=1');
    for (const bad of ['javascript:alert(1)', 'data:text/html,hi', '/relative', '', null, 'JaVaScRiPt:alert(1)']) expect(safeUrl(bad)).toBeNull();
  });
});
