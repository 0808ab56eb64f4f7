import { describe, expect, it } from 'vitest';
import twitter from 'twitter-text';
import { renderAnnouncement as render, toHashtag, type AnnouncementInput } from '../../src/social/announcements/announcement-text.ts';
import { weightedLength, xLengthRule } from '../../src/social/x/x-text.ts';

const renderAnnouncement = (template: string, input: AnnouncementInput) => render(template, input, xLengthRule);

const URL = 'https://blog.example.com/a-post/';
const input = (over: Partial<AnnouncementInput> = {}): AnnouncementInput => ({
  title: 'Hello',
  url: URL,
  excerpt: '',
  author: null,
  tags: [],
  ...over,
});
const graphemes = (s: string) => Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s), (g) => g.segment);

/** Whatever we render must be what X itself would accept, with the link intact at the end. */
function expectPostable(text: string, url = URL) {
  const parsed = twitter.parseTweet(text);
  expect(parsed.valid, text).toBe(true);
  expect(parsed.weightedLength).toBeLessThanOrEqual(280);
  expect(text.endsWith(` ${url}`), text).toBe(true);
  expect(twitter.extractUrls(text)).toContain(url);
}

describe('weighted length as X counts it', () => {
  it('counts every URL 23, CJK and emoji 2, after NFC', () => {
    expect(weightedLength('a'.repeat(280))).toBe(280);
    expect(weightedLength('字'.repeat(140))).toBe(280);
    expect(weightedLength('👩‍👩‍👧‍👦')).toBe(2);
    expect(weightedLength(`https://example.com/${'x'.repeat(300)}`)).toBe(23);
    expect(weightedLength('See example.com now')).toBe(31);
    expect(weightedLength('e\u0301')).toBe(1);
  });
});

describe('rendering ANNOUNCE_TEMPLATE', () => {
  it('fills the default template as is when it fits', () => {
    const r = renderAnnouncement('{title} {url}', input({ title: 'Hello, world' }));
    expect(r).toEqual({ valid: true, text: `Hello, world ${URL}`, weightedLength: 12 + 1 + 23 });
  });

  it('a very long URL still counts 23, so a title that fits stays whole', () => {
    const url = `https://blog.example.com/${'very-long-slug-'.repeat(30)}/`;
    const title = 'T'.repeat(280 - 1 - 23);
    const r = renderAnnouncement('{title} {url}', input({ title, url }));
    expect(r.text).toBe(`${title} ${url}`);
    expect(r.weightedLength).toBe(280);
  });

  it('shortens a long title with "…" at a word boundary, never the URL', () => {
    const title = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    const r = renderAnnouncement('{title} {url}', input({ title }));
    expectPostable(r.text);
    expect(r.weightedLength).toBeGreaterThan(260);
    const shown = r.text.slice(0, -URL.length - 1);
    expect(shown.endsWith('…')).toBe(true);
    expect(title.startsWith(shown.slice(0, -1))).toBe(true);
    expect(title[shown.length - 1]).toBe(' '); // cut where a word ended
  });

  it('shortens a CJK title by its weight (2 each)', () => {
    const title = '日本語のタイトル'.repeat(30);
    const r = renderAnnouncement('{title} {url}', input({ title }));
    expectPostable(r.text);
    const shown = r.text.slice(0, -URL.length - 1);
    // 280 − 24 for " " + URL leaves 256 = 127 CJK characters + "…" (2)
    expect(shown).toBe(`${title.slice(0, 127)}…`);
    expect(r.weightedLength).toBe(280);
  });

  it('never splits an emoji sequence (ZWJ families, flags, skin tones)', () => {
    const title = '👩‍👩‍👧‍👦🇫🇷👍🏽'.repeat(80);
    const r = renderAnnouncement('{title} {url}', input({ title }));
    expectPostable(r.text);
    const shown = graphemes(r.text.slice(0, -URL.length - 2));
    const allowed = new Set(['👩‍👩‍👧‍👦', '🇫🇷', '👍🏽']);
    expect(shown.every((g) => allowed.has(g)), shown.join('|')).toBe(true);
    expect(shown.length).toBeGreaterThan(100);
  });

  it('normalises to NFC: a decomposed accent counts 1', () => {
    const r = renderAnnouncement('{title} {url}', input({ title: 'Cafe\u0301 crème' }));
    expect(r.text.startsWith('Café crème')).toBe(true);
    expect(r.weightedLength).toBe(10 + 1 + 23);
  });

  it('counts a bare domain in the title as a link, as X does (README.md is 23)', () => {
    const title = `Edit README.md ${'x'.repeat(300)}`;
    const r = renderAnnouncement('{title} {url}', input({ title }));
    expectPostable(r.text);
    expect(r.weightedLength).toBe(twitter.parseTweet(r.text).weightedLength);
  });

  it('turns tags into hashtags X recognises, dropping what cannot be one', () => {
    expect(toHashtag('Node.js')).toBe('#Nodejs');
    expect(toHashtag('Web Development')).toBe('#WebDevelopment');
    expect(toHashtag('C++')).toBe('#C');
    expect(toHashtag('snake_case')).toBe('#snake_case');
    expect(toHashtag('日本語')).toBe('#日本語');
    expect(toHashtag('2024')).toBeNull();
    expect(toHashtag('---')).toBeNull();
    const r = renderAnnouncement(
      '{title} {tags} {url}',
      input({ tags: [{ name: 'Node.js' }, { name: 'nodejs' }, { name: '2024' }, { name: 'Café au lait' }] }),
    );
    expect(r.text).toBe(`Hello #Nodejs #Caféaulait ${URL}`);
    expect(twitter.extractHashtags(r.text)).toEqual(['Nodejs', 'Caféaulait']);
  });

  it('fills excerpt and author, and leaves no double spaces when one is empty', () => {
    const r = renderAnnouncement('New: {title} by {author} — {excerpt} {url}', input({ author: { name: 'Ada  Lovelace' }, excerpt: 'Short.\nTwo lines.' }));
    expect(r.text).toBe(`New: Hello by Ada Lovelace — Short. Two lines. ${URL}`);
    const empty = renderAnnouncement('{title} {excerpt} {url}', input());
    expect(empty.text).toBe(`Hello ${URL}`);
  });

  it('gives way in order: excerpt first, then hashtags, and the title last', () => {
    const tags = Array.from({ length: 12 }, (_, i) => ({ name: `topic${i}` }));
    const title = 'A title that should survive whole';
    const longExcerpt = 'lorem ipsum '.repeat(40);
    const r1 = renderAnnouncement('{title}: {excerpt} {tags} {url}', input({ title, excerpt: longExcerpt, tags: tags.slice(0, 2) }));
    expectPostable(r1.text);
    expect(r1.text.startsWith(`${title}: lorem ipsum`)).toBe(true);
    expect(r1.text).toContain('… #topic0 #topic1 ');

    const manyTags = Array.from({ length: 40 }, (_, i) => ({ name: `topic${i}` }));
    const r2 = renderAnnouncement('{title} {tags} {url}', input({ title, tags: manyTags }));
    expectPostable(r2.text);
    expect(r2.text.startsWith(`${title} #topic0 #topic1`)).toBe(true);
    expect(r2.text).not.toContain('#topic39');

    const r3 = renderAnnouncement('{title} {tags} {url}', input({ title: 'x'.repeat(400), tags: manyTags }));
    expectPostable(r3.text);
    expect(r3.text).not.toContain('#'); // every hashtag went before the title was cut
    expect(r3.text).toContain('…');
  });

  it('refuses, with the reason, a template whose fixed text alone is too long', () => {
    const r = renderAnnouncement(`${'Read this! '.repeat(30)}{title} {url}`, input());
    expect(r.valid).toBe(false);
    if (!r.valid) expect(r.problem).toMatch(/X_TEMPLATE \(or ANNOUNCE_TEMPLATE\) leaves no room: .* take \d+ of 280 weighted characters/);
  });
});
