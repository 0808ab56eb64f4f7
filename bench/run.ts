// npm run bench [-- --articles 1000 --duration 3 --rounds 3 --connections 50]
//
// Inkwell side by side with its ceiling. One run:
//  1. seeds the database in a child process (bench/seed.ts) BEFORE the server starts
//     (PGlite is one process's database), and EXPLAINs the public queries;
//  2. starts Inkwell as a real child process (dist/server.js as `npm start` builds it, LOG_LEVEL=warn, generous
//     write limits so the POST scenarios measure the work and not the 429 path);
//  3. captures each scenario's answer once from Inkwell and starts a bare Fastify
//     server (bench/bare.ts) that answers those very bytes from memory;
//  4. drives both with autocannon (bench/load.ts, a process of its own: the load
//     generator and the servers share the machine's cores) in --rounds rounds of
//     --duration seconds, Inkwell and bare back to back, alternating which goes first;
//     reports medians, and as the ratio the median of the per-round ratios (robust on
//     a shared machine); samples each server's RSS and CPU time while it is under load;
//  5. prints a table and writes bench/results/<date>-<database>-<articles>.json.
//
// DATABASE_URL=postgres://… benchmarks on that server (it seeds up to --articles
// published articles, and reuses what is there); without it, PGlite in a temp dir
// (or --data-dir DIR, kept between runs).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BareAnswer } from './bare.ts';
import type { LoadResult, LoadSpec } from './load.ts';
import type { UploadResult, UploadSpec } from './upload.ts';
import { MISS_FIELDS, draw, randomPages, seeded, shuffle, twoWordQueries } from './requests.ts';
import { probeWordPress, wordpressRequests } from './wordpress-peer.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    articles: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    'no-explain': { type: 'boolean', default: false },
    identity: { type: 'boolean', default: false },
    uploads: { type: 'string', default: '12' },
    'upload-concurrency': { type: 'string', default: '4' },
    'peer-wordpress': { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(`npm run bench -- [--articles N] [--duration S] [--rounds R] [--warmup S] [--connections C] [--only id,id] [--data-dir DIR] [--out FILE] [--no-explain] [--identity] [--uploads N] [--upload-concurrency C] [--peer-wordpress URL] [--profile DIR]
  DATABASE_URL=postgres://… to benchmark on PostgreSQL (default: PGlite in a temp dir)`);
  process.exit(0);
}
const ARTICLES = Number(opt.articles);
const DURATION = Number(opt.duration);
const WARMUP = Number(opt.warmup);
const ROUNDS = Math.max(1, Number(opt.rounds));
const CONNECTIONS = Number(opt.connections);
const ONLY = opt.only ? new Set(opt.only.split(',')) : null;
const PG_URL = process.env.DATABASE_URL && /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined;
const DB_KIND = PG_URL ? 'postgres' : 'pglite';

const work = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
const dataDir = opt['data-dir'] ? resolve(opt['data-dir']) : join(work, 'data');
const children: ChildProcess[] = [];
let sourceServer: Server | undefined;

const say = (s: string) => process.stdout.write(`${s}\n`);
const status = (s: string) => (process.stdout.isTTY ? process.stdout.write(`\r\x1b[2K${s}`) : undefined);
const clearStatus = () => (process.stdout.isTTY ? process.stdout.write('\r\x1b[2K') : undefined);

async function cleanup() {
  // stopped as `stop` does (a profiled process writes its profile as it exits)
  await Promise.all(children.map(stop));
  sourceServer?.close();
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

/** Environment for our children: no X credentials (nothing must leave the machine), UTC. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // uploads go to the run's own folder (with PostgreSQL there is no DATA_DIR to hold them)
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', MEDIA_DIR: join(work, 'media'), ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('TWITTER_')) delete env[k];
  if (PG_URL) env.DATABASE_URL = PG_URL;
  else {
    delete env.DATABASE_URL;
    env.DATA_DIR = dataDir;
  }
  return env;
}

function run(args: string[], env: NodeJS.ProcessEnv, onStderr?: (line: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      if (onStderr) for (const line of String(d).split('\n')) if (line.trim()) onStderr(line);
    });
    child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${args.join(' ')} exited ${code}\n${err.slice(-3000)}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function rssMB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** user + system CPU seconds the process has used (from /proc, 1/100 s ticks) */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Starts `dist/server.js` (what `npm start` runs) on `port` and waits until it is ready. */
async function startInkwell(port: number, extra: Record<string, string>, log: NodeJS.WritableStream): Promise<ChildProcess> {
  // --profile DIR: each Inkwell process writes a V8 CPU profile there when it stops (open it in Chrome's DevTools)
  const profile = opt.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opt.profile)}`] : [];
  const child = spawn(process.execPath, ['--enable-source-maps', ...profile, 'dist/server.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // the POST scenarios come from one client at thousands a second: measure the work, not the 429 path
      RATE_LIMIT_WRITES: '1000000/second',
      COMMENT_MIN_INTERVAL: '0',
      // pingback.ping verifies a source page served by this process on 127.0.0.1
      OUTBOUND_ALLOW_PRIVATE: 'true',
      // as `npm start` and the Dockerfile set it: glibc's per-thread arenas fragment under sharp's threads
      MALLOC_ARENA_MAX: '2',
      ...extra,
    }),
  });
  children.push(child);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Inkwell exited ${child.exitCode}:\n${readFileSync(join(work, 'inkwell.log'), 'utf8')}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) return child;
    if (i > 600) throw new Error('Inkwell did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A bare server's port, once it prints `listening <port>` (it is stopped with the other children). */
function listening(child: ChildProcess): Promise<number> {
  children.push(child);
  return new Promise<number>((res, rej) => {
    child.stdout!.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) res(Number(m[1]));
    });
    child.on('exit', (c) => rej(new Error(`bare server exited ${c}`)));
  });
}

/** Stops a child and waits for it to exit (PGlite: the next process opens the same data directory). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Captured {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const ACCEPT_ENCODING = 'gzip, deflate, br';
const PER_EXCHANGE = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** One exchange, the body as sent on the wire (never decoded: the bare server replays these bytes). */
function request(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !PER_EXCHANGE.has(k)) out[k] = v;
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Up to 2,000 slugs of published articles, from pages spread over the whole list. */
async function sampleSlugs(base: string, total: number): Promise<string[]> {
  const slugs: string[] = [];
  for (const p of new Set(randomPages(Math.ceil(total / 100), 20, seeded(3)))) {
    const res = await request(base, 'GET', `/v1/articles?limit=100&page=${p}&fields=slug`);
    if (res.status !== 200) throw new Error(`listing slugs: ${res.status} ${res.body.toString().slice(0, 300)}`);
    slugs.push(...(JSON.parse(res.body.toString()) as { data: { slug: string }[] }).data.map((a) => a.slug));
  }
  return slugs;
}

interface Scenario {
  id: string;
  label: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  idReplacement?: boolean;
  expect: number;
  failIfBodyContains?: string;
  /** rotate through these (every request a different URL: cache misses); measured on Inkwell only */
  paths?: string[];
  /** the bare figure a rotating scenario is compared with */
  ceilingOf?: string;
  /** measured on a process that caches nothing (RESPONSE_CACHE_MB=0): every read a miss */
  uncached?: boolean;
  /** on PostgreSQL, compared round by round with bench/bare-miss.ts (a cold page's least work) instead of `ceilingOf` */
  coldCeiling?: boolean;
  /** `paths` walked once, in order, by each target (Inkwell first): a crawler's first walk; it runs before the other miss rows whenever one of them does */
  crawl?: boolean;
  /** while it is measured, readers' comments arrive at this rate (published at once), each on a random article */
  commentsPerSecond?: number;
  /** while it is measured, an editor edits a published article's title at this rate (restored after) */
  editsPerSecond?: number;
  skipped?: string;
}

interface Measured extends LoadResult {
  /** comments published while it ran (commentsPerSecond) */
  commentsPublished?: number;
  /** edits published while it ran (editsPerSecond) */
  editsPublished?: number;
  rssMB: number;
  /** server CPU time per request (µs): what a request costs, whatever else runs on the machine */
  cpuUsPerRequest: number;
  unexpected: number;
  tooMany: number;
}

let loads = 0;
/** what the cache-miss process (section 6) ran with besides the others' environment */
let missServerEnv: Record<string, string> | undefined;
async function load(spec: LoadSpec, pid: number | undefined, label: string): Promise<Measured> {
  let peak = rssMB(pid);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB(pid));
    status(`  ${label} ${((Date.now() - t0) / 1000).toFixed(0)}/${spec.duration} s  rss ${peak} MB`);
  }, 250);
  try {
    const specFile = join(work, `load-${++loads}.json`);
    writeFileSync(specFile, JSON.stringify(spec));
    const out = await run(['bench/load.ts', specFile], process.env);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
    const cpuUsPerRequest = r.requests ? Math.round(((cpuSeconds(pid) - cpu0) * 1e6) / r.requests) : 0;
    return { ...r, rssMB: peak, cpuUsPerRequest, unexpected: 0, tooMany: r.statusCodes['429'] ?? 0 };
  } finally {
    clearInterval(timer);
    clearStatus();
  }
}

// ---------------------------------------------------------------------------
const started = new Date();
say(`Inkwell bench — ${ARTICLES} articles on ${DB_KIND}, ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s per target, alternating (+${WARMUP} s warm-up)`);
const loadAtStart = loadavg();
say(`machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

let manifest: Record<string, unknown>;
let inkwell: ChildProcess;
let bare: ChildProcess;
/** the cold-page ceiling (section 6, PostgreSQL) */
let cold: { base: string; proc: ChildProcess } | undefined;
/** per round: Inkwell's req/s over the bare server's in the run right next to it */
const results: { scenario: Scenario; inkwell?: Measured; bare?: Measured; ratio?: number; rounds?: number[]; wordpress?: Measured; vsWordpress?: number }[] = [];
try {
  // 1. seed (+ EXPLAIN)
  say(`\n1. seeding (${PG_URL ? new URL(PG_URL).host : `PGlite in ${dataDir}`})`);
  const manifestFile = join(work, 'manifest.json');
  await run(
    ['bench/seed.ts', '--articles', String(ARTICLES), '--manifest', manifestFile, ...(opt['no-explain'] ? [] : ['--explain'])],
    childEnv({ LOG_LEVEL: 'silent' }),
    (line) => say(line),
  );
  manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const plans = (manifest.explain ?? []) as { name: string; ms: number; nodes: string[]; seqScans: string[] }[];
  if (plans.length) {
    say(`   EXPLAIN ANALYZE at ${manifest.articles} articles (execution time, sequential scans):`);
    for (const p of plans) say(`     ${p.name.padEnd(44)} ${p.ms.toFixed(2).padStart(8)} ms  ${p.seqScans.length ? `seq scan: ${p.seqScans.join(', ')}` : 'indexes only'}`);
  }

  // 2. Inkwell
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  say(`\n2. starting Inkwell on ${base}`);
  const log = createWriteStream(join(work, 'inkwell.log'));
  // what `npm start` runs: the bundle, built now from the working tree
  const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  inkwell = await startInkwell(port, {}, log);
  // the local blog that links to us, for pingback.ping
  const sourcePort = await freePort();
  const slug = String(manifest.slug);
  const article = JSON.parse((await request(base, 'GET', `/v1/articles/${slug}`)).body.toString()) as { url: string };
  sourceServer = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><title>A reader's blog ${req.url}</title></head><body><article><p>Some thoughts on <a href="${article.url}">this article</a>, which I enjoyed reading.</p></article></body></html>`);
  });
  await new Promise<void>((r) => sourceServer!.listen(sourcePort, '127.0.0.1', r));

  // 3. scenarios
  const limit = 20;
  const deep = Math.max(2, Math.floor(Number(manifest.articles) / limit / 2));
  const before = JSON.parse((await request(base, 'GET', `/v1/articles?page=${deep - 1}`)).body.toString());
  const cursor = before.meta.pagination.nextCursor as string;
  const etag = String((await request(base, 'GET', `/v1/articles/${slug}`)).headers.etag);
  const q = encodeURIComponent(String(manifest.search)).replace(/%20/g, '+');
  const hasResponses = (await request(base, 'GET', `/v1/articles/${slug}/responses`)).status === 200;
  const probeComment = await request(base, 'POST', `/v1/articles/${slug}/comments`, { 'content-type': 'application/json' }, '{}');
  const hasComments = probeComment.status !== 404 || !/No route/.test(probeComment.body.toString());
  const probeXmlrpc = await request(base, 'POST', '/xmlrpc', { 'content-type': 'text/xml' }, '<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName><params></params></methodCall>');
  const hasPingback = probeXmlrpc.status === 200 && probeXmlrpc.body.toString().includes('pingback.ping');
  const pingXml = (source: string) =>
    `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value><string>${source}</string></value></param><param><value><string>${article.url}</string></value></param></params></methodCall>`;

  // cache-busting sets: every request a URL not asked before (the SQL behind a miss)
  const total = Number(manifest.articles);
  const listPaths: string[] = [];
  // the first ten pages at every page size: what readers and crawlers ask (deep OFFSET pages are the EXPLAIN's business)
  for (let l = 5; l <= 100; l++) for (let p = 1; p <= Math.min(10, Math.ceil(total / l)); p++) listPaths.push(`/v1/articles?limit=${l}&page=${p}`);
  const queries = twoWordQueries();
  const searchPaths = queries.map((q) => `/v1/articles?q=${q}`);

  // the cache-miss rows (issue 23): run on a process whose response cache keeps nothing
  // (RESPONSE_CACHE_MB=0, section 6), so every request is computed, tagged, compressed and
  // stored as a first read is, then dropped; each a URL drawn at random too
  const N = 20_000;
  const pages = randomPages(Math.ceil(total / limit), N);
  const slugs = await sampleSlugs(base, total);
  const randomSlugs = draw(slugs, N);
  /** readers' comments on random articles, `perSecond`, while a row is measured (published at once: the miss process runs with COMMENT_MODERATION=open) */
  const comment = (url: string, perSecond: number) => {
    const pick = draw(slugs, 100_000, seeded(13));
    // a text of its own on every run: the same comment twice is refused as a duplicate
    const run = Date.now().toString(36);
    let sent = 0;
    let published = 0;
    const timer = setInterval(() => {
      const n = sent++;
      const body = JSON.stringify({ authorName: 'Bench reader', authorEmail: `reader-${run}-${n}@example.com`, body: `Comment ${run}-${n}, posted while pages are read.` });
      fetch(`${url}/v1/articles/${pick[n % pick.length]}/comments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => (r.status === 201 ? published++ : say(`  comment refused: ${r.status} ${(await r.text()).slice(0, 200)}`)))
        .catch((err: Error) => say(`  comment failed: ${err.message}`));
    }, 1000 / perSecond);
    return { stop: () => clearInterval(timer), published: () => published };
  };
  /** An editor at work: `perSecond` edits of one published article's title, each a publish of a new version; its title restored on stop. */
  const edit = async (url: string, perSecond: number) => {
    const admin = { authorization: `Bearer ${String(manifest.adminToken)}`, 'content-type': 'application/json' };
    const article = (await (await fetch(`${url}/v1/articles/${slugs[Math.floor(slugs.length / 2)]}`)).json()) as { id: number; title: string };
    const patch = (title: string) => fetch(`${url}/v1/admin/articles/${article.id}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ title }) });
    let sent = 0;
    let published = 0;
    const timer = setInterval(() => {
      patch(`${article.title} (edit ${++sent})`)
        .then(async (r) => (r.status === 200 ? published++ : say(`  edit refused: ${r.status} ${(await r.text()).slice(0, 200)}`)))
        .catch((err: Error) => say(`  edit failed: ${err.message}`));
    }, 1000 / perSecond);
    return {
      stop: async () => {
        clearInterval(timer);
        await patch(article.title);
      },
      published: () => published,
    };
  };

  const scenarios: Scenario[] = [
    { id: 'slug', label: 'article by slug', method: 'GET', path: `/v1/articles/${slug}`, expect: 200 },
    { id: 'list', label: 'list, page 1', method: 'GET', path: '/v1/articles', expect: 200 },
    { id: 'deep', label: `list, page ${deep} (offset)`, method: 'GET', path: `/v1/articles?page=${deep}`, expect: 200 },
    { id: 'cursor', label: `list, same page by cursor`, method: 'GET', path: `/v1/articles?after=${cursor}`, expect: 200 },
    { id: 'tag', label: `tag filter (${manifest.tag})`, method: 'GET', path: `/v1/articles?tag=${manifest.tag}`, expect: 200 },
    { id: 'search', label: `search "${manifest.search}"`, method: 'GET', path: `/v1/articles?q=${q}`, expect: 200 },
    {
      id: 'responses', label: 'responses list', method: 'GET', path: `/v1/articles/${slug}/responses`, expect: 200,
      skipped: hasResponses ? undefined : 'GET /v1/articles/{slug}/responses is not there yet',
    },
    { id: 'feed', label: 'feed.xml', method: 'GET', path: '/feed.xml', expect: 200 },
    { id: 'revalidate', label: '304 revalidation (If-None-Match)', method: 'GET', path: `/v1/articles/${slug}`, headers: { 'if-none-match': etag }, expect: 304 },
    {
      id: 'comment', label: 'comment POST', method: 'POST', path: `/v1/articles/${slug}/comments`, expect: 201, idReplacement: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ authorName: 'Bench Reader', authorEmail: 'reader-[<id>]@example.org', body: 'Thanks for writing this up; it helped me [<id>].' }),
      skipped: hasComments ? undefined : 'POST /v1/articles/{slug}/comments is not there yet',
    },
    {
      id: 'pingback', label: 'pingback.ping (verifies a local page)', method: 'POST', path: '/xmlrpc', expect: 200, idReplacement: true,
      headers: { 'content-type': 'text/xml' }, body: pingXml(`http://127.0.0.1:${sourcePort}/posts/[<id>]`), failIfBodyContains: 'faultCode',
      skipped: hasPingback ? undefined : 'POST /xmlrpc pingback.ping is not there yet',
    },
    { id: 'list-miss', label: 'list, every URL new (cache miss)', method: 'GET', path: listPaths[0], paths: shuffle(listPaths).slice(0, 20_000), ceilingOf: 'list', expect: 200 },
    ...(
      [
        // every page once, in order, before the rows below: what they measure is a running site, whose articles have been read
        {
          id: 'list-crawl', label: 'every page of 20 once, in order (first reads)', paths: Array.from({ length: Math.ceil(total / limit) }, (_, i) => `/v1/articles?page=${i + 1}`),
          ceilingOf: 'list', coldCeiling: true, crawl: true,
        },
        { id: 'list-miss-20', label: 'list of 20, random page (miss)', paths: pages.map((p) => `/v1/articles?page=${p}`), ceilingOf: 'list', coldCeiling: true },
        { id: 'list-miss-fields', label: 'the same, fields=title,slug,excerpt,url,publishedAt (miss)', paths: pages.map((p) => `/v1/articles?page=${p}&fields=${MISS_FIELDS}`), ceilingOf: 'list' },
        // the same while readers comment: each published comment changes one article (its counts)
        {
          id: 'list-miss-comments', label: 'list of 20, random page, 10 comments/s (miss)', paths: pages.map((p) => `/v1/articles?page=${p}`), ceilingOf: 'list',
          commentsPerSecond: 10,
        },
        // the same while an editor publishes: each edit is a new version of one article
        { id: 'list-miss-edits', label: 'list of 20, random page, 2 edits/s (miss)', paths: pages.map((p) => `/v1/articles?page=${p}`), ceilingOf: 'list', editsPerSecond: 2 },
        { id: 'search-miss', label: 'search, two new words (miss)', paths: searchPaths, ceilingOf: 'search', coldCeiling: true },
        { id: 'article-miss', label: 'article, random (miss)', paths: randomSlugs.map((x) => `/v1/articles/${x}`), ceilingOf: 'slug' },
        {
          id: 'responses-miss', label: 'responses, random article (miss)', paths: randomSlugs.map((x) => `/v1/articles/${x}/responses`), ceilingOf: 'responses',
          skipped: hasResponses ? undefined : 'GET /v1/articles/{slug}/responses is not there yet',
        },
        // one URL (a feed has no other), through the same rotation as the rows above
        { id: 'feed-miss', label: 'feed.xml (miss)', paths: ['/feed.xml'], ceilingOf: 'feed' },
      ] as Partial<Scenario>[]
    ).map((x) => ({ method: 'GET', path: x.paths?.[0], expect: 200, uncached: true, ...x }) as Scenario),
  ]
    .filter((s, _, all) => !ONLY || ONLY.has(s.id) || ((s as Scenario).crawl && (all as Scenario[]).some((x) => x.uncached && ONLY.has(x.id))))
    // reads ask for compression as browsers and fetch() do (--identity: as curl does)
    .map((s) => (s.method === 'GET' && !opt.identity ? { ...s, headers: { 'accept-encoding': ACCEPT_ENCODING, ...s.headers } } : s)) as Scenario[];

  // capture Inkwell's answers once: the bare server replays these bytes
  const answers: BareAnswer[] = [];
  for (const s of scenarios) {
    if (s.skipped || s.paths || s.uncached) continue;
    const body = s.body?.replace(/\[<id>\]/g, `capture-${Date.now()}`);
    let got = await request(base, s.method, s.path, s.headers, body);
    // what the load gets is a hit: capture one (a miss may be sent gzip stitched from pieces, a hit is compressed whole)
    if (s.method === 'GET' && got.status === 200) got = await request(base, s.method, s.path, s.headers, body);
    // the cache makes an encoding off the event loop after the first hit: capture the encoded answer
    for (let i = 0; i < 50 && s.method === 'GET' && s.headers?.['accept-encoding'] && got.status === 200 && !got.headers['content-encoding'] && got.body.length >= 1024; i++) {
      await new Promise((r) => setTimeout(r, 20));
      got = await request(base, s.method, s.path, s.headers, body);
    }
    if (got.status !== s.expect) throw new Error(`${s.label}: Inkwell answered ${got.status}, expected ${s.expect}: ${got.body.toString().slice(0, 500)}`);
    if (s.failIfBodyContains && got.body.toString().includes(s.failIfBodyContains)) throw new Error(`${s.label}: ${got.body.toString().slice(0, 500)}`);
    answers.push({ method: s.method, url: s.path, conditional: Boolean(s.headers?.['if-none-match']), status: got.status, headers: got.headers, body: got.body.toString('base64') });
  }
  const answersFile = join(work, 'answers.json');
  writeFileSync(answersFile, JSON.stringify(answers));
  bare = spawn(process.execPath, ['--import', 'tsx', 'bench/bare.ts', answersFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const bareBase = `http://127.0.0.1:${await listening(bare)}`;

  const cached = scenarios.filter((s) => !s.uncached);
  say(`\n3. load: ${cached.length} scenarios, Inkwell (pid ${inkwell.pid}) vs bare Fastify (pid ${bare.pid}), alternating`);
  /** --rounds rounds of one scenario, Inkwell and (unless it has no ceiling of its own) the bare server back to back */
  const measure = async (i: number, s: Scenario, inkBase: string, ink: ChildProcess) => {
    if (s.skipped) {
      say(`  - ${s.label}: skipped (${s.skipped})`);
      results.push({ scenario: s });
      return;
    }
    // a miss row is compared with the cold-page ceiling when it has one running, else with no bare run (its ratio: to `ceilingOf`)
    const coldCeiling = s.coldCeiling ? cold : undefined;
    const targets: ['inkwell' | 'bare', string, ChildProcess][] = [
      ['inkwell', inkBase, ink],
      coldCeiling ? ['bare', coldCeiling.base, coldCeiling.proc] : ['bare', bareBase, bare],
    ];
    const row: (typeof results)[number] = { scenario: s, rounds: [] };
    const runs: Record<'inkwell' | 'bare', Measured[]> = { inkwell: [], bare: [] };
    for (let round = 0; round < (s.crawl ? 1 : ROUNDS); round++) {
      // A B, B A, A B…: neither server always runs first, and each round's pair runs back to back (a crawl: Inkwell first, on what nobody read)
      const order = (i + round) % 2 === 1 && !s.crawl ? [...targets].reverse() : targets;
      for (const [name, url, proc] of order) {
        if ((s.paths || s.uncached) && name === 'bare' && !coldCeiling) continue;
        const spec: LoadSpec = {
          url: url + s.path,
          method: s.method,
          headers: s.headers,
          body: s.body,
          idReplacement: s.idReplacement,
          paths: s.paths,
          // each round starts further along the rotation: its URLs are new to the cache too
          pathOffset: s.paths ? Math.floor((round * s.paths.length) / ROUNDS) : undefined,
          amount: s.crawl ? s.paths?.length : undefined,
          failIfBodyContains: s.failIfBodyContains,
          connections: CONNECTIONS,
          duration: WARMUP,
        };
        if (round === 0 && WARMUP > 0 && (!s.paths || s.uncached) && !s.crawl) await load(spec, proc.pid, `${s.label} · ${name} · warm-up`);
        const commenting = s.commentsPerSecond ? comment(url, s.commentsPerSecond) : undefined;
        const editing = s.editsPerSecond ? await edit(url, s.editsPerSecond) : undefined;
        const m = await load({ ...spec, duration: DURATION }, proc.pid, `${s.label} · ${name} · round ${round + 1}/${ROUNDS}`).finally(async () => {
          commenting?.stop();
          await editing?.stop();
        });
        if (commenting) m.commentsPublished = commenting.published();
        if (editing) m.editsPublished = editing.published();
        m.unexpected = Object.entries(m.statusCodes).reduce((n, [code, c]) => n + (Number(code) === s.expect || code === '429' ? 0 : c), 0) + m.mismatches;
        runs[name].push(m);
      }
      if (runs.inkwell[round] && runs.bare[round]) row.rounds!.push(runs.inkwell[round].rps / runs.bare[round].rps);
    }
    if (runs.inkwell.length) row.inkwell = combine(runs.inkwell);
    if (row.inkwell && s.commentsPerSecond) row.inkwell.commentsPublished = runs.inkwell.reduce((n, m) => n + (m.commentsPublished ?? 0), 0);
    if (row.inkwell && s.editsPerSecond) row.inkwell.editsPublished = runs.inkwell.reduce((n, m) => n + (m.editsPublished ?? 0), 0);
    if (runs.bare.length) row.bare = combine(runs.bare);
    results.push(row);
    const ceiling = s.ceilingOf ? results.find((r) => r.scenario.id === s.ceilingOf)?.bare : undefined;
    if (row.rounds!.length) row.ratio = median(row.rounds!);
    else if (row.inkwell && ceiling) row.ratio = row.inkwell.rps / ceiling.rps;
    const ink1 = row.inkwell!;
    say(
      `  ✓ ${s.label.padEnd(40)} ${fmt(ink1.rps).padStart(7)} req/s  ${row.bare ? `bare ${fmt(row.bare.rps).padStart(7)}` : '             '}  ${row.ratio !== undefined ? `${row.ratio.toFixed(2)}×` : ''}  p99 ${ink1.p99} ms${ink1.commentsPublished !== undefined ? `  (${ink1.commentsPublished} comments published meanwhile)` : ''}${ink1.editsPublished !== undefined ? `  (${ink1.editsPublished} edits published meanwhile)` : ''}`,
    );
  };
  for (const [i, s] of cached.entries()) await measure(i, s, base, inkwell);

  // 4. uploads: a 12-megapixel JPEG, --upload-concurrency at a time (Inkwell only: a bare server has no images to make)
  if (!ONLY || ONLY.has('upload')) {
    const scenario: Scenario = { id: 'upload', label: `upload 12 MP JPEG (${opt['upload-concurrency']} at once)`, method: 'POST', path: '/v1/admin/media', expect: 201 };
    const spec: UploadSpec = { url: `${base}/v1/admin/media`, token: String(manifest.adminToken), concurrency: Number(opt['upload-concurrency']), uploads: Number(opt.uploads) };
    let peak = rssMB(inkwell.pid);
    const cpu0 = cpuSeconds(inkwell.pid);
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMB(inkwell.pid));
      status(`  ${scenario.label}  rss ${peak} MB`);
    }, 100);
    const specFile = join(work, 'upload.json');
    writeFileSync(specFile, JSON.stringify(spec));
    let r: UploadResult;
    try {
      r = JSON.parse((await run(['bench/upload.ts', specFile], process.env)).trim().split('\n').at(-1)!) as UploadResult;
    } finally {
      clearInterval(timer);
      clearStatus();
    }
    const unexpected = Object.entries(r.statusCodes).reduce((n, [code, c]) => n + (code === '201' ? 0 : c), 0);
    const m: Measured = {
      requests: r.uploads, rps: r.uploadsPerSec, p50: r.p50, p99: r.max, max: r.max, errors: 0, timeouts: 0, mismatches: 0,
      statusCodes: r.statusCodes, bytesPerSec: 0, rssMB: peak, cpuUsPerRequest: Math.round(((cpuSeconds(inkwell.pid) - cpu0) * 1e6) / r.uploads), unexpected, tooMany: 0,
    };
    results.push({ scenario, inkwell: m });
    say(`  ✓ ${scenario.label.padEnd(40)} ${r.uploadsPerSec.toFixed(2)} uploads/s  (${r.uploads} in ${r.seconds} s, ${Math.round(r.bytes / 1e6 * 10) / 10} MB each)  p50 ${r.p50} ms  peak RSS ${peak} MB`);
  }
  // 5. several processes, one site (PostgreSQL): a second Inkwell on the same database, the
  // same load split over the two; the ratio is to the one-process row above
  if (PG_URL) {
    const port2 = await freePort();
    const base2 = `http://127.0.0.1:${port2}`;
    const second = await startInkwell(port2, {}, log);
    say(`\n5. two processes on one PostgreSQL (pid ${inkwell.pid} and ${second.pid}), ${CONNECTIONS} connections split over them`);
    for (const id of ['slug', 'comment']) {
      const s = scenarios.find((x) => x.id === id);
      const one = results.find((r) => r.scenario.id === id)?.inkwell;
      if (!s || s.skipped || !one) continue;
      const rounds: number[] = [];
      const runs: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const spec = (url: string): LoadSpec => ({
          url: url + s.path, method: s.method, headers: s.headers, body: s.body, idReplacement: s.idReplacement,
          failIfBodyContains: s.failIfBodyContains, connections: Math.ceil(CONNECTIONS / 2), duration: DURATION,
        });
        const [a, b] = await Promise.all([load(spec(base), inkwell.pid, `${s.label} · process 1`), load(spec(base2), second.pid, `${s.label} · process 2`)]);
        const both = combine([a, b]);
        both.rps = a.rps + b.rps;
        both.unexpected = Object.entries(both.statusCodes).reduce((n, [code, c]) => n + (Number(code) === s.expect ? 0 : c), 0) + both.mismatches;
        runs.push(both);
        rounds.push(both.rps / one.rps);
      }
      const row = { scenario: { ...s, id: `${id}-2p`, label: `${s.label}, two processes (ratio: to one)` }, inkwell: combine(runs), ratio: median(rounds), rounds };
      row.inkwell.rps = median(runs.map((m) => m.rps));
      results.push(row);
      say(`  ✓ ${row.scenario.label.padEnd(40)} ${fmt(row.inkwell.rps).padStart(7)} req/s  ${row.ratio.toFixed(2)}× one process  p99 ${row.inkwell.p99} ms`);
    }
    await stop(second);
  }

  // 6. cache misses: the same database, a process whose response cache keeps nothing
  const uncached = scenarios.filter((s) => s.uncached);
  if (uncached.length) {
    await stop(inkwell);
    const port3 = await freePort();
    const base3 = `http://127.0.0.1:${port3}`;
    // the article read cache sized to hold the site, as the README advises a site crawlers walk (~5.2 kB an article)
    const articleCacheMB = process.env.ARTICLE_CACHE_MB ?? String(Math.max(32, Math.ceil((total * 6) / 1024)));
    missServerEnv = { RESPONSE_CACHE_MB: '0', ARTICLE_CACHE_MB: articleCacheMB, COMMENT_MODERATION: 'open' };
    inkwell = await startInkwell(port3, missServerEnv, log);
    if (PG_URL && uncached.some((s) => s.coldCeiling)) {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-miss.ts'], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'inherit'] });
      cold = { proc, base: `http://127.0.0.1:${await listening(proc)}` };
    }
    say(`\n6. cache misses: Inkwell restarted with RESPONSE_CACHE_MB=0 (pid ${inkwell.pid}): every read is computed, tagged, compressed and stored as a first read is, then dropped; its article read cache ${articleCacheMB} MB; ratio to the bare row named${cold ? `, or (list of 20) round by round to a bare server reading the cold page from PostgreSQL (pid ${cold.proc.pid}, bench/bare-miss.ts)` : ''}`);
    for (const [i, s] of uncached.entries()) await measure(i, s, base3, inkwell);

    // 7. the same reads asked of a WordPress site
    if (opt['peer-wordpress']) {
      const site = await probeWordPress(opt['peer-wordpress']);
      const peer = wordpressRequests(site, queries, N);
      say(`\n7. WordPress at ${site.origin}${site.prefix} (${site.totalPages} pages of 20, ${site.ids.length} post ids read): the same reads, Inkwell ÷ WordPress`);
      for (const [kind, id] of [['list', 'list-miss-20'], ['article', 'article-miss'], ['search', 'search-miss']] as const) {
        const row = results.find((r) => r.scenario.id === id);
        if (!row?.inkwell) continue;
        const paths = peer[kind];
        const runs: Measured[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const spec: LoadSpec = {
            url: site.origin + paths[0], method: 'GET', headers: row.scenario.headers, paths, connections: CONNECTIONS, duration: DURATION,
            pathOffset: Math.floor((round * paths.length) / ROUNDS),
          };
          const m = await load(spec, undefined, `WordPress ${kind} · round ${round + 1}/${ROUNDS}`);
          m.unexpected = Object.entries(m.statusCodes).reduce((n, [code, c]) => n + (code === '200' ? 0 : c), 0) + m.mismatches;
          runs.push(m);
        }
        row.wordpress = combine(runs);
        row.vsWordpress = row.inkwell.rps / row.wordpress.rps;
        say(`  ✓ ${`WordPress ${kind}`.padEnd(40)} ${fmt(row.wordpress.rps).padStart(7)} req/s  Inkwell ${fmt(row.inkwell.rps)}: ${row.vsWordpress.toFixed(2)}×  p99 ${row.wordpress.p99} ms (Inkwell ${row.inkwell.p99})`);
      }
    }
  }
} catch (e) {
  clearStatus();
  console.error(`\nbench failed: ${(e as Error).message}`);
  await cleanup();
  process.exit(1);
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Several rounds of one target: medians of the rates and percentiles, sums of the counts, the peak RSS. */
function combine(ms: Measured[]): Measured {
  const requests = ms.reduce((n, m) => n + m.requests, 0);
  const statusCodes: Record<string, number> = {};
  for (const m of ms) for (const [k, v] of Object.entries(m.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
  const sum = (f: (m: Measured) => number) => ms.reduce((n, m) => n + f(m), 0);
  return {
    requests,
    rps: median(ms.map((m) => m.rps)),
    p50: median(ms.map((m) => m.p50)),
    p99: median(ms.map((m) => m.p99)),
    max: Math.max(...ms.map((m) => m.max)),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    mismatches: sum((m) => m.mismatches),
    statusCodes,
    bytesPerSec: median(ms.map((m) => m.bytesPerSec)),
    rssMB: Math.max(...ms.map((m) => m.rssMB)),
    cpuUsPerRequest: requests ? Math.round(sum((m) => m.cpuUsPerRequest * m.requests) / requests) : 0,
    unexpected: sum((m) => m.unexpected),
    tooMany: sum((m) => m.tooMany),
  };
}

function fmt(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n < 10 ? n.toFixed(2) : n.toFixed(0);
}

// ---- report -----------------------------------------------------------------
const head = ['scenario', 'Inkwell req/s', 'bare req/s', 'ratio', 'p50 ms', 'p99 ms', 'bare p99', 'CPU µs/req (bare)', 'errors / unexpected', '429', 'RSS MB'];
const peerColumns = results.some((r) => r.wordpress);
if (peerColumns) head.push('WordPress req/s', 'Inkwell ÷ WordPress', 'WordPress p99');
const rows = results.map(({ scenario: s, inkwell: i, bare: b, ratio, wordpress: w, vsWordpress }) =>
  s.skipped
    ? [s.label, `skipped: ${s.skipped}`, '', '', '', '', '', '', '', '', '', ...(peerColumns ? ['', '', ''] : [])]
    : [
        s.label,
        fmt(i!.rps),
        b ? fmt(b.rps) : s.ceilingOf ? `(${s.ceilingOf})` : '',
        ratio !== undefined ? `${ratio.toFixed(2)}×` : '',
        String(i!.p50),
        String(i!.p99),
        b ? String(b.p99) : '',
        `${i!.cpuUsPerRequest}${b ? ` (${b.cpuUsPerRequest})` : ''}`,
        `${i!.errors + i!.timeouts} / ${i!.unexpected}`,
        String(i!.tooMany),
        String(i!.rssMB),
        ...(peerColumns ? [w ? fmt(w.rps) : '', vsWordpress !== undefined ? `${vsWordpress.toFixed(2)}×` : '', w ? String(w.p99) : ''] : []),
      ],
);
const table = [head, head.map((h) => '-'.repeat(Math.max(3, h.length))), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
say(`\n${table}\n`);

const machine = { cpus: cpus().length, model: cpus()[0]?.model.trim(), memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outFile = opt.out ? resolve(opt.out) : join(ROOT, 'bench', 'results', `${stamp}-${DB_KIND}-${ARTICLES}.json`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      date: started.toISOString(),
      machine,
      loadAverage: { start: loadAtStart, end: loadavg() },
      options: { articles: ARTICLES, duration: DURATION, rounds: ROUNDS, warmup: WARMUP, connections: CONNECTIONS, database: DB_KIND, acceptEncoding: opt.identity ? 'identity' : ACCEPT_ENCODING },
      serverEnv: { LOG_LEVEL: 'warn', RATE_LIMIT_WRITES: '1000000/second', COMMENT_MIN_INTERVAL: '0', OUTBOUND_ALLOW_PRIVATE: 'true' },
      missServerEnv,
      seed: manifest!,
      peerWordpress: opt['peer-wordpress'],
      scenarios: results.map(({ scenario: s, inkwell: i, bare: b, ratio, rounds, wordpress, vsWordpress }) => ({
        id: s.id,
        label: s.label,
        method: s.method,
        path: s.paths ? `${s.paths.length} rotating URLs like ${s.paths[0]}` : s.path,
        expect: s.expect,
        skipped: s.skipped,
        ratio,
        roundRatios: rounds,
        uncached: s.uncached,
        ceiling: b && s.uncached ? 'bench/bare-miss.ts' : undefined,
        inkwell: i,
        bare: b,
        wordpress,
        vsWordpress,
      })),
      markdownTable: table,
    },
    null,
    2,
  )}\n`,
);
say(`results: ${outFile.replace(`${ROOT}/`, '')}`);
await cleanup();
process.exit(0);
