// RFC 9112 §3.2.2: a server must accept a request target in absolute form
// (`GET http://host/path HTTP/1.1`). inject() normalises targets, so these requests go
// over a raw socket to a listening app.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

// with a port, `origin + target` does not even parse (the 500 this guards against)
const SITE = 'http://blog.test:8080';
let t: TestApp;
let port: number;
let permalink: string;
beforeAll(async () => {
  t = await createTestApp({ apiUrl: SITE, siteUrl: SITE });
  permalink = new URL((await createArticle(t, { title: 'Welcome to Inkwell' })).url).pathname;
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

/** Sends one raw request line and returns the status code and the head of the answer. */
function raw(target: string, accept = 'text/html'): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => (data += d));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), head: data.split('\r\n\r\n')[0] }));
    socket.on('error', reject);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: blog.test:8080\r\nAccept: ${accept}\r\nConnection: close\r\n\r\n`);
  });
}

describe('absolute-form request targets on frontend pages', () => {
  it('an article asked for in absolute form is the article (the path is used, the named host ignored)', async () => {
    const res = await raw(`http://evil.example${permalink}`);
    expect(res.status, res.head).toBe(200);
  });

  it('a wrong path in absolute form redirects to the permalink on our own origin, never the named host', async () => {
    const res = await raw(`http://evil.example${permalink.replace(/\/$/, '')}?x=1`);
    expect(res.status, res.head).toBe(301);
    expect(res.head).toMatch(new RegExp(`\\r\\nlocation: ${SITE}${permalink}\\?x=1\\r\\n`, 'i'));
  });

  it('unknown paths in absolute form are 404s, not 500s', async () => {
    for (const target of ['http://evil.example/no-such-page/', 'https://blog.test/nothing/here', 'http://evil.example:99/x?y=1']) {
      const res = await raw(target);
      expect(res.status, `${target}\n${res.head}`).toBe(404);
      const api = await raw(target, 'application/json');
      expect(api.status, `${target}\n${api.head}`).toBe(404);
    }
  });
});
