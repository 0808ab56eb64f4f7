// The XML-RPC endpoint as other software sees it: Python's standard xmlrpc.client as an
// independent sender and decoder, a WordPress-style sender, and hostile input.
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responses } from '../../../src/comments/responses.table.ts';
import { FAULT } from '../../../src/linkbacks/xmlrpc/xmlrpc.codec.ts';
import { createTestApp, type TestApp, perMinute } from '../../helpers/app.ts';
import { html, pythonXmlRpc, startFakeBlog, type FakeBlog } from '../../helpers/fake-blogs.ts';
import { NO_LIMIT, pingCall, postXml, publish } from '../support.ts';

let t: TestApp;
let blog: FakeBlog;
let endpoint: string;
let article: { id: number; url: string };
let second: { id: number; url: string };
let closed: { id: number; url: string };

const linkingTo = (url: string, title = 'A remote post') =>
  html(`<article><h1>${title}</h1><p>Some preamble here. As argued in <a href="${url.replace(/&/g, '&amp;')}">this fine post</a>, pingbacks still work.</p></article>`, { title });

beforeAll(async () => {
  blog = await startFakeBlog();
  t = await createTestApp({ outboundAllowPrivate: true, commentModeration: 'open', rateLimitWrites: NO_LIMIT });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  endpoint = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/xmlrpc`;
  article = await publish(t, { title: 'Pingable' });
  second = await publish(t, { title: 'Pingable too' });
  closed = await publish(t, { title: 'Closed', pingsOpen: false });
  blog.page('/links', { body: linkingTo(article.url, 'Remote & friends') });
  blog.page('/links-closed', { body: linkingTo(closed.url) });
  blog.page('/links-second', { body: linkingTo(second.url) });
  blog.page('/nolink', { body: html('<p>Nothing to see.</p>') });
  blog.page('/broken', { status: 503, body: 'down for maintenance' });
  blog.page('/png', { headers: { 'content-type': 'image/png' }, body: Buffer.from([0x89, 0x50]) });
});
afterAll(async () => {
  await t.close();
  await blog.close();
});

describe("Python's xmlrpc.client as the sender", () => {
  it('gets a success string, then decodes every Pingback and interop fault code', async () => {
    const results = await pythonXmlRpc(endpoint, [
      ['pingback.ping', [blog.url('/links'), article.url]],
      ['pingback.ping', [blog.url('/links'), article.url]],
      ['pingback.ping', [blog.url('/missing'), article.url]],
      ['pingback.ping', [blog.url('/nolink'), article.url]],
      ['pingback.ping', [blog.url('/png'), article.url]],
      ['pingback.ping', [blog.url('/links'), 'http://blog.test/no-such-article/']],
      ['pingback.ping', [blog.url('/links'), 'http://elsewhere.test/some-post/']],
      ['pingback.ping', [blog.url('/links'), 'http://blog.test/']],
      ['pingback.ping', [blog.url('/links-closed'), closed.url]],
      ['pingback.ping', [blog.url('/broken'), second.url]],
      ['pingback.ping', [blog.url('/links')]],
      ['pingback.ping', [1, 2]],
      ['system.multicall', [[]]],
      ['wp.getUsersBlogs', ['admin', 'password']],
      ['system.listMethods', []],
      ['pingback.extensions.getPingbacks', [article.url]],
      ['pingback.extensions.getPingbacks', ['http://blog.test/no-such-article/']],
      ['__raw__', ['<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param>', 'text/xml']],
    ]);
    const codes = results.map((r) => r.fault?.code ?? (r.ok !== undefined ? 'ok' : r));
    expect(codes).toEqual([
      'ok',
      FAULT.alreadyRegistered, // 0x30
      FAULT.sourceNotFound, // 0x10
      FAULT.noLinkToTarget, // 0x11
      FAULT.noLinkToTarget, // not a text document
      FAULT.targetNotFound, // 0x20
      FAULT.targetInvalid, // 0x21: not ours
      FAULT.targetInvalid, // the home page is not a permalink
      FAULT.targetInvalid, // pings closed
      FAULT.upstream, // 0x32
      FAULT.invalidParams,
      FAULT.invalidParams,
      FAULT.methodNotFound,
      FAULT.methodNotFound,
      'ok',
      'ok',
      FAULT.targetNotFound,
      FAULT.parseError,
    ]);
    expect(results[0].ok).toMatch(/^Pingback from .* registered\. Keep the web talking! :-\)$/);
    expect(results[14].ok).toEqual(['pingback.ping', 'pingback.extensions.getPingbacks', 'system.listMethods']);
    expect(results[15].ok).toEqual([blog.url('/links')]);
    // the repeat (0x30) is known from the database before anything is fetched
    expect(blog.requestsTo('/links')).toHaveLength(1);
    expect(results[17]).toMatchObject({ status: 200, content_type: 'text/xml; charset=utf-8' });
  });

  it('decodes 0x31 (access denied) when a client exceeds the rate limit, with Retry-After', async () => {
    const limited = await createTestApp({ outboundAllowPrivate: true, rateLimitWrites: perMinute(2) });
    try {
      await limited.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(limited.app.server.address() as AddressInfo).port}/xmlrpc`;
      const results = await pythonXmlRpc(url, [
        ['system.listMethods', []],
        ['system.listMethods', []],
        ['system.listMethods', []],
      ]);
      expect(results.map((r) => r.fault?.code ?? 'ok')).toEqual(['ok', 'ok', FAULT.accessDenied]);
      const res = await postXml(limited, pingCall('http://a.example/', 'http://blog.test/x/'));
      expect(res.statusCode).toBe(200);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('answers the same fault, in the same words, for every way a source cannot be had', async () => {
    const gone = await startFakeBlog();
    const refused = gone.url('/post');
    await gone.close();
    blog.page('/slow', { delayMs: 5000, body: linkingTo(second.url) });
    const results = await pythonXmlRpc(endpoint, [
      ['pingback.ping', [blog.url('/missing'), second.url]], // 404
      ['pingback.ping', [refused, second.url]], // connection refused
      ['pingback.ping', [blog.url('/slow'), second.url]], // too slow
    ]);
    expect(results[1].fault).toEqual(results[0].fault);
    expect(results[2].fault).toEqual(results[0].fault);
    expect(results[0].fault?.code).toBe(FAULT.sourceNotFound);
  });

  it('gives up on a slow source well inside the 3 s WordPress waits for an answer', async () => {
    blog.page('/slower', { delayMs: 5000, body: linkingTo(second.url) });
    const started = Date.now();
    const res = await postXml(t, pingCall(blog.url('/slower'), second.url));
    const took = Date.now() - started;
    expect(res.body).toContain('<int>16</int>');
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(2600);
  });
});

describe('a WordPress-style sender', () => {
  it('is accepted with text/xml, application/xml and form-encoded XML bodies, raw & in URLs, padded values', async () => {
    const target = await publish(t, { title: 'For WordPress' });
    const bodies: [string, string][] = [
      [pingCall(blog.url('/wp-a?p=1&amp;x=2'), target.url, { escape: false }), 'text/xml'],
      [pingCall(blog.url('/wp-b?p=1&x=2'), target.url, { escape: false }), 'application/x-www-form-urlencoded'], // raw & as @remy/webmention sends it
      [pingCall(blog.url('/wp-c'), target.url), 'application/xml; charset=utf-8'],
      [
        `<?xml version="1.0" encoding="UTF-8"?>\n<methodCall>\n  <methodName> pingback.ping </methodName>\n  <params>\n    <param><value>\n   ${blog.url('/wp-d')}  </value></param>\n    <param><value><string>  ${target.url}\n</string></value></param>\n  </params>\n</methodCall>`,
        'text/xml',
      ], // untyped values and padding, trimmed
    ];
    for (const path of ['/wp-a', '/wp-b', '/wp-c', '/wp-d']) blog.page(path, { body: linkingTo(target.url, `Post ${path}`) });
    for (const [body, type] of bodies) {
      for (const url of ['/xmlrpc', '/xmlrpc.php']) {
        const res = await postXml(t, body, type, url);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
        expect(res.body).toMatch(url === '/xmlrpc' ? /registered/ : /<int>48<\/int>/);
      }
    }
    const stored = await t.database.db.select().from(responses).where(eq(responses.articleId, target.id)).orderBy(responses.id);
    expect(stored.map((r) => r.sourceUrl)).toEqual([blog.url('/wp-a?p=1&x=2'), blog.url('/wp-b?p=1&x=2'), blog.url('/wp-c'), blog.url('/wp-d')]);
    expect(stored.every((r) => r.type === 'pingback' && r.status === 'approved')).toBe(true);
  });

  it('stores the source title as author and "[…] the words around the link […]"', async () => {
    const [row] = await t.database.db
      .select()
      .from(responses)
      .where(and(eq(responses.articleId, article.id), eq(responses.sourceUrl, blog.url('/links'))));
    expect(row.authorName).toBe('Remote & friends');
    expect(row.authorUrl).toBe(blog.url('/links'));
    expect(row.html).toBe('<p>[…] Some preamble here. As argued in this fine post, pingbacks still work. […]</p>');
    expect(row.ip).toBe('127.0.0.1');
    const fetched = blog.requestsTo('/links')[0];
    expect(fetched.headers['user-agent']).toMatch(/^Inkwell\/.*verifying pingback from 127\.0\.0\.1$/);
    expect(fetched.headers['x-pingback-forwarded-for']).toBe('127.0.0.1');
  });
});

describe('hostile XML', () => {
  const valid = () => pingCall(blog.url('/links-second'), second.url);
  const cases: [string, string, number][] = [
    ['empty body', '', FAULT.parseError],
    ['not XML at all', 'hello world', FAULT.parseError],
    ['truncated', pingCall('http://a.example/post', 'http://blog.test/x/').slice(0, 120), FAULT.parseError],
    ['JSON', '{"methodName":"pingback.ping"}', FAULT.parseError],
    ['billion laughs', `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><methodCall><methodName>&lol2;</methodName></methodCall>`, FAULT.parseError],
    ['external entity', `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>pingback.ping</methodName><params><param><value>&xxe;</value></param></params></methodCall>`, FAULT.parseError],
    ['code point beyond Unicode', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><string>&#x110000;</string></value></param></params></methodCall>`, FAULT.invalidParams],
    ['control characters in the method name', `<?xml version="1.0"?><methodCall><methodName>evil&#1;\u0002name</methodName><params></params></methodCall>`, FAULT.methodNotFound],
    ['a struct with __proto__', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><struct><member><name>__proto__</name><value><string>x</string></value></member></struct></value></param><param><value>y</value></param></params></methodCall>`, FAULT.invalidParams],
    ['an unknown tag', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><ex:nil/></value></param></params></methodCall>`, FAULT.parseError],
    ['nesting 250 deep', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param>${'<value><array><data>'.repeat(250)}${'</data></array></value>'.repeat(250)}</param></params></methodCall>`, FAULT.invalidParams],
    ['nesting 2000 deep', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param>${'<value><array><data>'.repeat(2000)}</param></params></methodCall>`, FAULT.parseError],
    ['20,000 elements', `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params>${'<param><value>x</value></param>'.repeat(7000)}</params></methodCall>`, FAULT.parseError],
  ];
  const megabytes = `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value>${'A'.repeat(3 * 1024 * 1024)}</value></param></params></methodCall>`;

  it('answers each with an HTTP 200 XML-RPC fault that Python decodes, and keeps serving', async () => {
    const results = await pythonXmlRpc(
      endpoint,
      cases.map(([, body]) => ['__raw__', [body, 'text/xml']]),
    );
    results.forEach((r, i) => {
      expect(r, cases[i][0]).toMatchObject({ status: 200, content_type: 'text/xml; charset=utf-8', fault: { code: cases[i][2] } });
    });
    // still alive, and still verifying
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ok = await postXml(t, valid());
    expect(ok.body).toMatch(/registered/);
  });

  it('refuses megabytes without reading them all, and keeps serving', async () => {
    // (over a socket, Fastify closes the connection once it has answered, so a client that
    // writes everything before reading sees a broken pipe instead of the fault: the price of
    // not reading what nobody asked for)
    for (const body of [megabytes, 'x'.repeat(70 * 1024)]) {
      const res = await postXml(t, body);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<int>-32700</int>');
      expect(res.body).toContain('larger than 65536 bytes');
    }
    const after = await pythonXmlRpc(endpoint, [['system.listMethods', []]]);
    expect(after[0].ok).toHaveLength(3);
  });

  it('answers a fault for a body of any content type, but only POST exists', async () => {
    const json = await t.app.inject({ method: 'POST', url: '/xmlrpc', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
    expect(json.statusCode).toBe(200);
    expect(json.body).toContain('<int>-32700</int>');
    const get = await t.app.inject({ method: 'GET', url: '/xmlrpc' });
    expect(get.statusCode).toBe(404);
  });
});
