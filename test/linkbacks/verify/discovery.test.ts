// Discovery both ways: finding a linked page's endpoint (every form of the Webmention
// discovery suite at webmention.rocks, rebuilt as fixtures, and the pingback forms of the
// spec and of WordPress), and advertising ours on article reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoveryHeaders, endpointIn, fetchForDiscovery } from '../../../src/linkbacks/verify/discovery.ts';
import { Outbound } from '../../../src/lib/outbound.ts';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { html, startFakeBlog, type FakeBlog } from '../../helpers/fake-blogs.ts';
import { publish } from '../support.ts';

let blog: FakeBlog;
const outbound = new Outbound({ allowPrivate: true, userAgent: 'Inkwell/test' });

// [name, path of the page, page, expected endpoint path (or null)]
type Case = [string, string, { headers?: Record<string, string | string[]>; body?: string; status?: number }, string | null];

const WM = (n: number) => `/test/${n}/webmention`;
const cases = (o: string): Case[] => [
  ['1 Link header, unquoted rel, relative URL', '/test/1', { headers: { link: `<${WM(1)}>; rel=webmention` } }, WM(1)],
  ['2 Link header, unquoted rel, absolute URL', '/test/2', { headers: { link: `<${o}${WM(2)}>; rel=webmention` } }, WM(2)],
  ['3 <link>, relative URL', '/test/3', { body: html('', { head: `<link rel="webmention" href="${WM(3)}">` }) }, WM(3)],
  ['4 <link>, absolute URL', '/test/4', { body: html('', { head: `<link rel="webmention" href="${o}${WM(4)}">` }) }, WM(4)],
  ['5 <a>, relative URL', '/test/5', { body: html(`<a rel="webmention" href="${WM(5)}">wm</a>`) }, WM(5)],
  ['6 <a>, absolute URL', '/test/6', { body: html(`<a rel="webmention" href="${o}${WM(6)}">wm</a>`) }, WM(6)],
  ['7 header name in odd casing', '/test/7', { headers: { LinK: `<${WM(7)}>; rel=webmention` } }, WM(7)],
  ['8 Link header, quoted rel', '/test/8', { headers: { link: `<${WM(8)}>; rel="webmention"` } }, WM(8)],
  ['9 multiple rel values on <link>', '/test/9', { body: html('', { head: `<link rel="webmention somethingelse" href="${WM(9)}">` }) }, WM(9)],
  ['10 multiple rel values in Link', '/test/10', { headers: { link: `<${WM(10)}>; rel="webmention somethingelse"` } }, WM(10)],
  [
    '11 Link header, <link> and <a>: the header wins',
    '/test/11',
    { headers: { link: `<${WM(11)}>; rel="webmention"` }, body: html(`<a rel="webmention" href="/test/11/error">x</a>`, { head: '<link rel="webmention" href="/test/11/error">' }) },
    WM(11),
  ],
  ['12 rel="not-webmention" does not match', '/test/12', { body: html(`<a rel="not-webmention" href="/test/12/error">x</a><a rel="webmention" href="${WM(12)}">y</a>`) }, WM(12)],
  ['13 an endpoint inside an HTML comment is not one', '/test/13', { body: html(`<!-- <a rel="webmention" href="/test/13/error">x</a> --><a rel="webmention" href="${WM(13)}">y</a>`) }, WM(13)],
  ['14 an endpoint in escaped HTML is not one', '/test/14', { body: html(`<code>&lt;a rel="webmention" href="/test/14/error"&gt;</code><a rel="webmention" href="${WM(14)}">y</a>`) }, WM(14)],
  ['15 href="" is the page itself', '/test/15', { body: html('', { head: '<link rel="webmention" href="">' }) }, '/test/15'],
  ['16 <a> before <link>: document order', '/test/16', { body: `<html><body><a rel="webmention" href="${WM(16)}">a</a><link rel="webmention" href="/test/16/error"></body></html>` }, WM(16)],
  ['17 <link> before <a>: document order', '/test/17', { body: html(`<a rel="webmention" href="/test/17/error">a</a>`, { head: `<link rel="webmention" href="${WM(17)}">` }) }, WM(17)],
  ['18 two Link headers, the first rel="other"', '/test/18', { headers: { link: ['</test/18/error>; rel="other"', `<${WM(18)}>; rel="webmention"`] } }, WM(18)],
  ['19 one Link header with comma-separated values', '/test/19', { headers: { link: `</test/19/error>; rel="other", <${WM(19)}>; rel="webmention"` } }, WM(19)],
  ['20 <link rel=webmention> without href is skipped', '/test/20', { body: html(`<a rel="webmention" href="${WM(20)}">a</a>`, { head: '<link rel="webmention">' }) }, WM(20)],
  ['21 the endpoint query string is kept', '/test/21', { body: html('', { head: `<link rel="webmention" href="${WM(21)}?query=yes">` }) }, `${WM(21)}?query=yes`],
  ['22 a path-relative endpoint', '/test/22/page', { body: html('', { head: '<link rel="webmention" href="22/webmention">' }) }, '/test/22/22/webmention'],
  // pingback, when no Webmention endpoint is advertised
  ['X-Pingback header only', '/pb/header', { headers: { 'x-pingback': `${o}/pb/xmlrpc` } }, '/pb/xmlrpc'],
  ['<link rel="pingback" href> (HTML form)', '/pb/link', { body: html('', { head: `<link rel="pingback" href="${o}/pb/xmlrpc">` }) }, '/pb/xmlrpc'],
  ['<link … /> (XHTML form)', '/pb/xhtml', { body: html('', { head: `<link rel="pingback" href="${o}/pb/xmlrpc" />` }) }, '/pb/xmlrpc'],
  ['href before rel, single quotes (WordPress finds it; so do we)', '/pb/order', { body: html('', { head: `<link href='${o}/pb/xmlrpc' rel='pingback'>` }) }, '/pb/xmlrpc'],
  ['&amp; in the href is expanded', '/pb/amp', { body: html('', { head: `<link rel="pingback" href="${o}/pb/xmlrpc?a=1&amp;b=2">` }) }, '/pb/xmlrpc?a=1&b=2'],
  ['header and <link> differ: the header wins', '/pb/both', { headers: { 'x-pingback': `${o}/pb/xmlrpc` }, body: html('', { head: `<link rel="pingback" href="${o}/pb/other">` }) }, '/pb/xmlrpc'],
  ['image/png with X-Pingback', '/pb/image.png', { headers: { 'content-type': 'image/png', 'x-pingback': `${o}/pb/xmlrpc` }, body: '\x89PNG' }, '/pb/xmlrpc'],
  ['a pingback <link> inside a comment is not one', '/pb/comment', { body: html(`<!-- <link rel="pingback" href="${o}/pb/xmlrpc"> -->`) }, null],
  ['Webmention wins over pingback', '/pb/wm-too', { headers: { 'x-pingback': `${o}/pb/xmlrpc`, link: `<${WM(99)}>; rel="webmention"` } }, WM(99)],
  ['nothing advertised', '/none', { body: html('<p>no endpoints</p>') }, null],
];

beforeAll(async () => {
  blog = await startFakeBlog();
  for (const [, path, page] of cases(blog.origin)) blog.page(path, page);
  // webmention.rocks 23: the target redirects; a relative endpoint resolves against the final URL
  blog.page('/test/23/page', { status: 302, headers: { location: '/test/23/page/final' } });
  blog.page('/test/23/page/final', { headers: { link: '<webmention-endpoint>; rel="webmention"' } });
});
afterAll(() => blog.close());

describe('finding the endpoint of a page we link to', () => {
  it.each(cases('').map((c) => [c[0], c[1], c[3]] as const))('%s', async (_name, path, expected) => {
    const page = await fetchForDiscovery(outbound, blog.url(path));
    const found = endpointIn(page);
    expect(found?.url ?? null).toBe(expected === null ? null : blog.url(expected));
    if (expected) expect(found!.protocol).toBe(path.startsWith('/pb/') && !expected.includes('webmention') ? 'pingback' : 'webmention');
  });

  it('23 resolves against the final URL after a redirect, requesting each URL once', async () => {
    const found = endpointIn(await fetchForDiscovery(outbound, blog.url('/test/23/page')));
    expect(found).toEqual({ protocol: 'webmention', url: blog.url('/test/23/page/webmention-endpoint') });
    expect(blog.requestsTo('/test/23/page')).toHaveLength(1);
    expect(blog.requestsTo('/test/23/page/final')).toHaveLength(1);
  });
});

describe('advertising ours', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ apiUrl: 'https://api.example.org' });
  });
  afterAll(() => t.close());

  it('discoveryHeaders(config) gives an absolute X-Pingback and a Webmention Link', () => {
    expect(discoveryHeaders({ apiUrl: 'https://api.example.org' })).toEqual({
      'X-Pingback': 'https://api.example.org/xmlrpc',
      Link: '<https://api.example.org/webmention>; rel="webmention"',
    });
  });

  it('article reads carry both on GET and HEAD, and a sender finds our Webmention endpoint in them', async () => {
    const a = await publish(t, { title: 'Discoverable' });
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await t.app.inject({ method, url: `/v1/articles/${a.slug}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-pingback']).toBe('https://api.example.org/xmlrpc');
      expect(res.headers.link).toContain('<https://api.example.org/webmention>; rel="webmention"');
      const found = endpointIn({ url: 'https://api.example.org/v1/articles/x', status: 200, headers: { link: [String(res.headers.link)] }, contentType: 'application/json', body: '', bodyRead: false, truncated: false, redirects: [] });
      expect(found).toEqual({ protocol: 'webmention', url: 'https://api.example.org/webmention' });
    }
  });
});
