import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo, LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound, OutboundError, firstHeader } from '../../src/lib/outbound.ts';
import { html, startFakeBlog, type FakeBlog } from '../helpers/fake-blogs.ts';

let blog: FakeBlog;
beforeAll(async () => {
  blog = await startFakeBlog();
  blog.page('/hello', { body: html('<p>hello</p>', { title: 'Hello' }), headers: { 'x-pingback': 'http://example.com/xmlrpc' } });
  blog.page('/to-hello', { status: 302, headers: { location: '/hello' } });
  blog.page('/loop', { status: 302, headers: { location: '/loop' } });
  blog.page('/slow', { delayMs: 3000, body: 'late' });
  blog.page('/drip', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('a');
    const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('a')), 50);
  });
  blog.page('/big', { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(3 * 1024 * 1024) });
  blog.page('/bomb', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)) });
  blog.page('/gzip', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync('<p>zipped</p>') });
  blog.page('/png', { headers: { 'content-type': 'image/png', 'x-pingback': 'http://example.com/xmlrpc' }, body: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  blog.page('/latin1', { headers: { 'content-type': 'text/plain; charset=iso-8859-1' }, body: Buffer.from([0x63, 0x61, 0x66, 0xe9]) });
  blog.page('/post-redirect', { status: 307, headers: { location: '/hello' } });
});
afterAll(() => blog.close());

const open = (extra: Partial<ConstructorParameters<typeof Outbound>[0]> = {}) =>
  new Outbound({ allowPrivate: true, userAgent: 'Inkwell/test (+http://blog.test)', ...extra });
const closed = (extra: Partial<ConstructorParameters<typeof Outbound>[0]> = {}) =>
  new Outbound({ allowPrivate: false, userAgent: 'Inkwell/test (+http://blog.test)', ...extra });

async function refusal(p: Promise<unknown>): Promise<OutboundError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected the guard to refuse').toBeInstanceOf(OutboundError);
  return err as OutboundError;
}

describe('the guard with OUTBOUND_ALLOW_PRIVATE off', () => {
  it('refuses every spelling of loopback, private, link-local and metadata addresses without connecting', async () => {
    const p = blog.port;
    const forms = [
      `http://127.0.0.1:${p}/hello`,
      `http://127.1:${p}/hello`, // short form
      `http://2130706433:${p}/hello`, // decimal
      `http://0x7f000001:${p}/hello`, // hex
      `http://0177.0.0.1:${p}/hello`, // octal
      `http://017700000001:${p}/hello`, // octal, one number
      `http://127.000.000.001:${p}/hello`,
      `http://[::1]:${p}/hello`,
      `http://[::ffff:127.0.0.1]:${p}/hello`, // IPv4-mapped IPv6
      `http://[0:0:0:0:0:ffff:7f00:1]:${p}/hello`,
      `http://[::ffff:169.254.169.254]/latest/meta-data/`,
      `http://[64:ff9b::7f00:1]:${p}/hello`, // NAT64 embedding 127.0.0.1
      `http://[2002:7f00:1::]:${p}/hello`, // 6to4 embedding 127.0.0.1
      `http://[::127.0.0.1]:${p}/hello`, // IPv4-compatible IPv6 (deprecated ::/96), parsed as [::7f00:1]
      `http://[::7f00:1]:${p}/hello`,
      `http://localhost:${p}/hello`, // resolved by the hosts file, refused at connect
      `http://LocalHost:${p}/hello`,
      `http://localhost.:${p}/hello`, // trailing dot
      `http://app.localhost:${p}/hello`,
      `http://0.0.0.0:${p}/hello`,
      `http://0:${p}/hello`,
      `http://[::]:${p}/hello`,
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/', // cloud metadata
      'http://[fd00:ec2::254]/latest/meta-data/', // AWS metadata over IPv6
      'http://100.64.0.1/', // carrier-grade NAT
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://198.18.0.1/',
      'https://127.0.0.1/',
    ];
    const guard = closed();
    for (const url of forms) {
      const err = await refusal(guard.fetch(url));
      expect(err.code, url).toBe('forbidden-address');
    }
    expect(blog.connections()).toBe(0);
  });

  it('refuses every IPv6 transition range, whatever IPv4 address it embeds', async () => {
    // 8.8.8.8 is public: the ranges themselves are refused, not just private addresses inside them
    const forms = {
      'IPv4-compatible ::/96 (deprecated; ipaddr.js calls it unicast, the guard refuses it)': ['http://[::8.8.8.8]/', 'http://[::a00:1]/', 'http://[0:0:0:0:0:0:7f00:1]/'],
      'IPv4-mapped ::ffff:0:0/96': ['http://[::ffff:8.8.8.8]/'],
      'IPv4-translated ::ffff:0:0:0/96 (RFC 6145)': ['http://[::ffff:0:808:808]/'],
      'NAT64 64:ff9b::/96 and 64:ff9b:1::/48': ['http://[64:ff9b::8.8.8.8]/', 'http://[64:ff9b:1::808:808]/'],
      '6to4 2002::/16': ['http://[2002:808:808::1]/'],
      'Teredo 2001::/32': ['http://[2001:0:808:808::1]/'],
    };
    const guard = closed();
    for (const [range, urls] of Object.entries(forms)) {
      for (const url of urls) expect((await refusal(guard.fetch(url))).code, `${range}: ${url}`).toBe('forbidden-address');
    }
  });

  it('refuses a name whose DNS answer is an IPv4-compatible IPv6 address, without connecting', async () => {
    const lookup = ((_host: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) => {
      if (options.all) cb(null, [{ address: '::7f00:1', family: 6 }]);
      else cb(null, '::7f00:1', 6);
    }) as unknown as LookupFunction;
    const before = blog.connections();
    const err = await refusal(closed({ lookup }).fetch(`http://localhost:${blog.port}/hello`));
    expect(err.code).toBe('forbidden-address');
    expect(blog.connections()).toBe(before);
  });

  it('refuses other schemes and credentials before any lookup', async () => {
    const guard = closed();
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com/', 'javascript:alert(1)', 'data:text/html,hi', 'not a url', '/relative', `http://user:pw@127.0.0.1:${blog.port}/`, 'http://user@example.com/']) {
      const err = await refusal(guard.fetch(url));
      expect(err.code, url).toBe('invalid-url');
    }
    expect(open().checkUrl.bind(open(), `http://u:p@127.0.0.1/`)).toThrow(OutboundError);
  });

  it('checks every redirect hop at connect time', async () => {
    // 127.0.0.1 is let through by an allow-list so there is a first hop to redirect from
    const guard = closed({ allowAddresses: ['127.0.0.1'] });
    const targets = [`http://[::1]:${blog.port}/hello`, `http://127.0.0.2:${blog.port}/hello`, `http://2130706434:${blog.port}/hello`, 'http://169.254.169.254/', 'http://[::ffff:a00:1]/'];
    for (const [i, target] of targets.entries()) {
      blog.page(`/redirect-${i}`, { status: 301, headers: { location: target } });
      const before = blog.connections();
      const err = await refusal(guard.fetch(blog.url(`/redirect-${i}`)));
      expect(err.code, target).toBe('forbidden-address');
      expect(blog.connections() - before, 'only the first hop connected').toBe(1);
    }
    blog.page('/to-file', { status: 302, headers: { location: 'file:///etc/passwd' } });
    expect((await refusal(guard.fetch(blog.url('/to-file')))).code).toBe('invalid-url');
  });

  it('defeats DNS rebinding: each connection checks the address its own lookup returned', async () => {
    // a resolver that answers an allowed address first and a forbidden one afterwards
    const answers = ['127.0.0.1', '127.0.0.2'];
    let calls = 0;
    const lookup = ((_host: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) => {
      const address = answers[Math.min(calls++, answers.length - 1)];
      if (options.all) cb(null, [{ address, family: 4 }]);
      else cb(null, address, 4);
    }) as unknown as LookupFunction;
    const guard = closed({ allowAddresses: ['127.0.0.1'], lookup });
    // the name is "localhost" only because the test harness lets no other name reach a socket
    const name = `http://localhost:${blog.port}`;
    blog.page('/rebind', { status: 302, headers: { location: `${name}/hello` } });
    const err = await refusal(guard.fetch(`${name}/rebind`));
    expect(err.code).toBe('forbidden-address');
    expect(calls).toBe(2);
    expect(blog.requestsTo('/rebind')).toHaveLength(1);
    expect(blog.requestsTo('/hello').filter((r) => r.headers.host === `localhost:${blog.port}`)).toHaveLength(0);
  });
});

describe('caps and content rules', () => {
  it('refuses a URL longer than 2,048 characters before parsing it: the 63,000-dot host costs nothing', () => {
    const guard = closed();
    const dots = `http://a${'.'.repeat(63_000)}b/x`;
    const started = performance.now();
    expect(() => guard.checkUrl(dots)).toThrow(expect.objectContaining({ code: 'invalid-url' }));
    const ms = performance.now() - started;
    expect(ms, 'event-loop time of the check').toBeLessThan(100);
    const url = (length: number) => `http://example.com/${'x'.repeat(length - 'http://example.com/'.length)}`;
    expect(() => guard.checkUrl(url(2049))).toThrow(expect.objectContaining({ code: 'invalid-url' }));
    expect(guard.checkUrl(url(2048)).href).toHaveLength(2048);
    // trailing dots are still one name: `localhost.` and `x.localhost...` stay local
    expect(() => guard.checkUrl('http://x.localhost.../')).toThrow(expect.objectContaining({ code: 'forbidden-address' }));
  });

  it('refuses a redirect to a Location longer than 2,048 characters', async () => {
    blog.page('/to-long', { status: 302, headers: { location: `/hello?${'x'.repeat(2100)}` } });
    expect((await refusal(open().fetch(blog.url('/to-long')))).code).toBe('invalid-url');
  });

  it('fetches a page, names Inkwell in the user agent and reports headers', async () => {
    const res = await open().fetch(blog.url('/hello'));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/html');
    expect(res.body).toContain('<title>Hello</title>');
    expect(firstHeader(res, 'X-Pingback')).toBe('http://example.com/xmlrpc');
    const seen = blog.requestsTo('/hello').at(-1)!;
    expect(seen.headers['user-agent']).toMatch(/Inkwell/);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('follows redirects, reports the final URL, and stops at the redirect cap', async () => {
    const res = await open().fetch(blog.url('/to-hello'));
    expect(res.url).toBe(blog.url('/hello'));
    expect(res.redirects).toEqual([blog.url('/hello')]);
    const before = blog.requestsTo('/loop').length;
    const err = await refusal(open({ maxRedirects: 3 }).fetch(blog.url('/loop')));
    expect(err.code).toBe('too-many-redirects');
    expect(blog.requestsTo('/loop').length - before).toBe(4);
  });

  it('does not follow redirects for POST unless asked', async () => {
    const res = await open().fetch(blog.url('/post-redirect'), { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(307);
  });

  it('gives up at the deadline, for a slow answer and for a slow body', async () => {
    for (const path of ['/slow', '/drip']) {
      const started = Date.now();
      const err = await refusal(open({ timeoutMs: 300 }).fetch(blog.url(path)));
      expect(err.code, path).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(1500);
    }
  });

  it('keeps only the first maxBytes of a body, compressed or not', async () => {
    const big = await open().fetch(blog.url('/big'));
    expect(big.truncated).toBe(true);
    expect(big.body.length).toBe(1024 * 1024);
    const bomb = await open({ maxBytes: 100_000 }).fetch(blog.url('/bomb'));
    expect(bomb.truncated).toBe(true);
    expect(bomb.body.length).toBe(100_000);
    const zipped = await open().fetch(blog.url('/gzip'));
    expect(zipped.body).toBe('<p>zipped</p>');
    expect(zipped.truncated).toBe(false);
  });

  it('reads text bodies only, but still reports the headers of other types', async () => {
    const png = await open().fetch(blog.url('/png'));
    expect(png.bodyRead).toBe(false);
    expect(png.body).toBe('');
    expect(firstHeader(png, 'x-pingback')).toBe('http://example.com/xmlrpc');
    const latin1 = await open().fetch(blog.url('/latin1'));
    expect(latin1.body).toBe('café');
  });

  it('reports a refused connection as a network error', async () => {
    const gone = await startFakeBlog();
    const url = gone.url('/');
    await gone.close();
    const err = await refusal(open().fetch(url));
    expect(err.code).toBe('network');
  });
});

describe('kept-alive connections', () => {
  /** A server that keeps connections alive (5 s, Node's default) and can drop a reused one unanswered. */
  async function keepAliveServer(dropReused: boolean) {
    const perSocket = new WeakMap<object, number>();
    let connections = 0;
    const server = http.createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // what a server that timed the connection out at that very moment looks like from here
      if (dropReused && n > 1) return void req.socket.destroy();
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`answer ${req.url}`));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return {
      url: (path: string) => `http://127.0.0.1:${port}${path}`,
      connections: () => connections,
      close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
    };
  }

  it('fetches one origin over one connection', async () => {
    const server = await keepAliveServer(false);
    try {
      const outbound = open();
      for (const n of [1, 2, 3]) expect((await outbound.fetch(server.url(`/${n}`))).body).toBe(`answer /${n}`);
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('sends a GET again on a new connection when the server had closed the idle one; a POST is not resent', async () => {
    const server = await keepAliveServer(true);
    try {
      const outbound = open();
      expect((await outbound.fetch(server.url('/first'))).body).toBe('answer /first');
      expect((await outbound.fetch(server.url('/second'))).body).toBe('answer /second');
      expect(server.connections()).toBe(2);
      const err = await refusal(outbound.fetch(server.url('/third'), { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }));
      expect(err.code).toBe('network');
      expect(server.connections()).toBe(2);
    } finally {
      await server.close();
    }
  });
});
