// npm run soak [-- --duration 60 --connections 100]
//
// Sustained mixed traffic against a real Inkwell process: reads (articles, lists,
// search, responses, feeds), comments, pingbacks against a local source page, and
// editors publishing. Passes when no answer is a 5xx and the server's memory does
// not keep growing (RSS sampled every 2 s; the last third compared with the middle).
// Bounded in time; everything stays on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import net from 'node:net';

interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}
// autocannon ships no types; a specifier typed as string keeps tsc out of it
const autocannon = ((await import('autocannon' as string)) as { default: (o: unknown) => Promise<CannonResult> }).default;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: { duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '100' } },
});
const duration = Number(opt.duration);
const connections = Number(opt.connections);

const freePort = () =>
  new Promise<number>((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });

const port = await freePort();
const base = `http://127.0.0.1:${port}`;

// a remote blog whose post links to our first article (pingback sources)
const blogPort = await freePort();
const blog = createServer((req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>Soak source ${req.url}</title><p>I liked <a href="${base}/welcome-to-inkwell/">this post</a> a lot.</p>`);
}).listen(blogPort, '127.0.0.1');

// what `npm start` runs: the bundle, built now from the working tree
if (spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.js'], {
  cwd: ROOT,
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: process.env.DATABASE_URL ?? 'memory://',
    LOG_LEVEL: 'error',
    OUTBOUND_ALLOW_PRIVATE: 'true',
    COMMENT_MIN_INTERVAL: '0',
    RATE_LIMIT_WRITES: '1000000/minute',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout!.on('data', (d) => (out += d));
for (let i = 0; i < 600 && !/API docs:/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
const token = /Admin token: (\S+)/.exec(out)?.[1];
if (!token) {
  console.error('soak: the server did not print an admin token (use an embedded or memory database, or set SOAK_TOKEN)');
  child.kill('SIGKILL');
  process.exit(2);
}
const admin = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const first = (await (await fetch(`${base}/v1/articles?limit=1`)).json()) as { data: { slug: string }[] };
const slug = first.data[0]?.slug ?? 'welcome-to-inkwell';

const rss: number[] = [];
const sampler = setInterval(() => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (m) rss.push(Number(m[1]) / 1024);
  } catch {
    /* not on Linux */
  }
}, 2000);

let n = 0;
const xml = (i: number) =>
  `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><string>http://127.0.0.1:${blogPort}/post-${i}</string></value></param><param><value><string>${base}/${slug}/</string></value></param></params></methodCall>`;
const requests = [
  { method: 'GET', path: `/v1/articles/${slug}` },
  { method: 'GET', path: '/v1/articles?limit=20' },
  { method: 'GET', path: '/v1/articles?q=inkwell' },
  { method: 'GET', path: `/v1/articles/${slug}/responses` },
  { method: 'GET', path: '/feed.xml' },
  { method: 'GET', path: '/' },
  { setupRequest: (r: Record<string, unknown>) => ({ ...r, method: 'POST', path: `/v1/articles/${slug}/comments`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authorName: 'Soak', authorEmail: `soak${++n}@example.com`, body: `Comment number ${n}` }) }) },
  { setupRequest: (r: Record<string, unknown>) => ({ ...r, method: 'POST', path: '/xmlrpc', headers: { 'content-type': 'text/xml' }, body: xml(++n) }) },
  { setupRequest: (r: Record<string, unknown>) => ({ ...r, method: 'POST', path: '/v1/admin/articles', headers: admin, body: JSON.stringify({ title: `Soak article ${++n}`, markdown: `Body ${n} with a [link](http://127.0.0.1:${blogPort}/linked).`, status: 'published' }) }) },
];

console.log(`soak: ${duration} s at ${connections} connections of mixed traffic against ${base} …`);
const result = await autocannon({ url: base, connections, duration, requests });
clearInterval(sampler);

const codes = result.statusCodeStats ?? {};
const fiveXX = Object.entries(codes).filter(([c]) => c.startsWith('5')).reduce((s, [, v]) => s + v.count, 0);
const third = Math.max(1, Math.floor(rss.length / 3));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const middle = avg(rss.slice(third, 2 * third));
const last = avg(rss.slice(2 * third));
const growth = middle ? (last - middle) / middle : 0;

console.log(`requests: ${result.requests.total} (${Math.round(result.requests.average)}/s), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
console.log(`status codes: ${Object.entries(codes).map(([c, v]) => `${c}×${v.count}`).join(' ')}; errors ${result.errors}, timeouts ${result.timeouts}`);
console.log(`RSS MB: start ${rss[0]?.toFixed(0)}, middle third ${middle.toFixed(0)}, last third ${last.toFixed(0)}, max ${Math.max(...rss).toFixed(0)} (growth ${(growth * 100).toFixed(1)}%)`);

child.kill('SIGTERM');
const code = await new Promise<number | null>((r) => child.on('exit', r));
blog.close();
const ok = fiveXX === 0 && result.errors === 0 && growth < 0.1 && code === 0;
console.log(ok ? 'soak: PASS' : `soak: FAIL (5xx ${fiveXX}, errors ${result.errors}, growth ${(growth * 100).toFixed(1)}%, exit ${code})`);
process.exit(ok ? 0 : 1);
