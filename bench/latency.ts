// npm run bench:latency [-- --processes 2 --samples 20]
//
// How long after an editor publishes does the first outgoing webmention arrive?
// Starts --processes Inkwell processes (the bundle `npm start` runs) on one database
// and a local blog that accepts webmentions; publishes --samples articles, each
// linking to a new post of that blog, through the first process (at random moments,
// so the runner's polling phase is not in step with them), and measures from the
// publish request to the webmention's arrival. Several processes need PostgreSQL
// (DATABASE_URL=postgres://…); one process runs on memory:// otherwise.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import net from 'node:net';
import { openDatabase } from '../src/db/client.ts';
import { createToken } from '../src/auth/tokens.service.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({ options: { processes: { type: 'string', default: '1' }, samples: { type: 'string', default: '20' } } });
const PROCESSES = Number(opt.processes);
const SAMPLES = Number(opt.samples);
const PG_URL = process.env.DATABASE_URL && /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined;
if (PROCESSES > 1 && !PG_URL) throw new Error('several processes need DATABASE_URL=postgres://…');

const freePort = () =>
  new Promise<number>((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    });
  });

// the blog we link to: a page advertising its webmention endpoint, and the endpoint
const arrived = new Map<string, number>();
const blogPort = await freePort();
const blog = createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const target = new URLSearchParams(body).get('target');
      if (target && !arrived.has(target)) arrived.set(target, performance.now());
      res.writeHead(202).end();
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html', link: `<http://127.0.0.1:${blogPort}/webmention>; rel="webmention"` });
  res.end('<!doctype html><title>A post</title><p>Hello.</p>');
}).listen(blogPort, '127.0.0.1');

if (spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
const children: ChildProcess[] = [];
// never leave a server behind, whatever fails
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
const bases: string[] = [];
let token: string | undefined;
for (let i = 0; i < PROCESSES; i++) {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'error', OUTBOUND_ALLOW_PRIVATE: 'true', DATABASE_URL: PG_URL ?? 'memory://' };
  for (const k of Object.keys(env)) if (k.startsWith('TWITTER_')) delete env[k];
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let n = 0; n < 3000 && !/API docs:/.test(out) && child.exitCode === null; n++) await new Promise((r) => setTimeout(r, 100));
  if (!/API docs:/.test(out)) throw new Error(`Inkwell did not start:\n${out}`);
  token ??= /Admin token: (\S+)/.exec(out)?.[1];
  bases.push(`http://127.0.0.1:${port}`);
}
if (!token && PG_URL) {
  const database = await openDatabase({ url: PG_URL, dataDir: '', poolSize: 1 });
  token = (await createToken(database.db, `latency bench ${Date.now()}`)).token;
  await database.close();
}
const admin = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const latencies: number[] = [];
const run = Date.now();
for (let i = 0; i < SAMPLES; i++) {
  await new Promise((r) => setTimeout(r, 100 + Math.random() * 900));
  const target = `http://127.0.0.1:${blogPort}/post-${run}-${i}`;
  const t0 = performance.now();
  const res = await fetch(`${bases[0]}/v1/admin/articles`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ title: `Latency ${run} ${i}`, markdown: `I read [this post](${target}).`, status: 'published' }),
  });
  if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
  for (let n = 0; n < 5000 && !arrived.has(target); n++) await new Promise((r) => setTimeout(r, 2));
  const t1 = arrived.get(target);
  if (t1 === undefined) throw new Error(`no webmention for ${target} within 10 s`);
  latencies.push(t1 - t0);
}

for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))));
blog.close();
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(0);
console.log(
  `publish → webmention received, ${PROCESSES} process${PROCESSES > 1 ? 'es' : ''} on ${PG_URL ? 'PostgreSQL' : 'PGlite (memory://)'}, ${SAMPLES} samples: ` +
    `min ${q(0)} ms, median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
);
