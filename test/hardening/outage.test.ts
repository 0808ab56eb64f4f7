// A real PostgreSQL goes away under a running Inkwell and comes back: answers stay
// quick and honest (503 problem+json, /readyz fails, /healthz stays up), nothing
// hangs, and Inkwell recovers by itself. Then SIGTERM under load: in-flight
// requests finish and the process exits 0.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/client.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import { freePort, ROOT, runNode, type Proc } from '../helpers/process.ts';

const pgBin = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().map((v) => `/usr/lib/postgresql/${v}/bin`).at(-1) : undefined;
const hasPg = Boolean(pgBin && existsSync(`${pgBin}/pg_ctl`));
const asPg = (cmd: string, args: string[]) =>
  process.getuid?.() === 0 ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });

let dir = '';
let port = 0;
let server: Proc;
let base = '';
let auth = {};

function pgStart() {
  asPg(`${pgBin}/pg_ctl`, ['-D', `${dir}/data`, '-l', `${dir}/server.log`, '-w', '-t', '30', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start']);
}
function pgStop() {
  // a fast stop: connections are cut like in a crash, but the throwaway server's asynchronous commits (fsync off) are kept
  asPg(`${pgBin}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'fast', '-w', 'stop']);
}

async function timed(url: string, init: RequestInit = {}) {
  const started = Date.now();
  const res = await fetch(base + url, { ...init, signal: AbortSignal.timeout(15_000) });
  const body = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, ms: Date.now() - started };
}

describe.skipIf(!hasPg)('database outage and shutdown on a real PostgreSQL', () => {
  beforeAll(async () => {
    [dir, port] = ((s) => [s[0], Number(s[1])] as const)(execFileSync('bash', ['scripts/pg-up.sh'], { cwd: ROOT, encoding: 'utf8' }).trim().split(' '));
    const url = `postgres://postgres@127.0.0.1:${port}/inkwell`;
    const apiPort = await freePort();
    server = runNode('src/server.ts', [], { DATABASE_URL: url, PORT: String(apiPort), LOG_LEVEL: 'info', COMMENT_MIN_INTERVAL: '0', COMMENT_MODERATION: 'open' });
    await server.waitFor(/API docs:/);
    base = `http://127.0.0.1:${apiPort}`;
    const db = await openDatabase({ url, dataDir: '', poolSize: 1 });
    auth = { authorization: `Bearer ${(await createToken(db.db, 'outage')).token}`, 'content-type': 'application/json' };
    await db.close();
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    if (dir) execFileSync('bash', ['scripts/pg-down.sh', dir], { cwd: ROOT });
  });

  it('answers 503 quickly while the database is down, keeps queued work, and recovers by itself', { timeout: 180_000 }, async () => {
    const created = await timed('/v1/admin/articles', { method: 'POST', headers: auth, body: JSON.stringify({ title: 'Before the outage', markdown: 'Hello.', status: 'published' }) });
    expect(created.status).toBe(201);
    const dueAt = Date.now() + 1200;
    const scheduled = await timed('/v1/admin/articles', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ title: 'Due during the outage', markdown: 'Later.', status: 'scheduled', publishAt: new Date(dueAt).toISOString() }),
    });
    expect(scheduled.status).toBe(201);

    pgStop();
    expect(Date.now(), 'the database is away before the article is due').toBeLessThan(dueAt);
    const outageLog = server.output().length;
    const probes = [
      timed('/v1/articles?q=outage'),
      timed('/v1/articles/before-the-outage/responses?limit=3'),
      timed('/v1/articles/before-the-outage/comments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authorName: 'A', authorEmail: 'a@example.com', body: 'During the outage' }) }),
      timed('/v1/admin/articles?limit=7', { headers: auth }),
      timed('/readyz'),
    ];
    for (const r of await Promise.all(probes)) {
      expect(r.status, r.body).toBe(503);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.ms).toBeLessThan(8000);
      expect(r.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
    }
    const health = await timed('/healthz');
    expect(health.status).toBe(200);
    // the scheduled article comes due while the database is away: the runner wakes for it and cannot claim it
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now())));
    for (let i = 0; i < 300 && !/job runner: claim failed/.test(server.output().slice(outageLog)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(server.output().slice(outageLog)).toMatch(/job runner: claim failed/);

    pgStart();
    let ready = 0;
    for (let i = 0; i < 60 && ready !== 200; i++) {
      ready = (await timed('/readyz')).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(ready).toBe(200);
    expect((await timed('/v1/articles/before-the-outage')).status).toBe(200);
    const comment = await timed('/v1/articles/before-the-outage/comments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authorName: 'A', authorEmail: 'a@example.com', body: 'After the outage' }) });
    expect(comment.status).toBe(201);
    // the job that was due during the outage still runs
    let status = 404;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await timed('/v1/articles/due-during-the-outage')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });

  it('SIGTERM under load: in-flight requests finish, then the process exits 0 within 10 s', { timeout: 180_000 }, async () => {
    // a fresh process, so that what the outage left behind (broken pool connections…) does not blur the result
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const apiPort = await freePort();
    server = runNode('src/server.ts', [], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/inkwell`, PORT: String(apiPort), LOG_LEVEL: 'info' });
    await server.waitFor(/API docs:/);
    base = `http://127.0.0.1:${apiPort}`;
    // requests that are in flight for sure when the signal arrives: their bodies are still being uploaded
    const body = (i: number) => JSON.stringify({ title: `Shutdown ${i}`, markdown: 'In flight. '.repeat(2000) });
    const requests = Array.from({ length: 8 }, (_v, i) => {
      const payload = Buffer.from(body(i));
      const req = http.request(`${base}/v1/admin/articles`, { method: 'POST', agent: false, headers: { ...auth, 'content-length': payload.length } });
      const answered = new Promise<number>((resolve) => {
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? -1));
        });
        req.on('error', () => resolve(-1));
      });
      req.write(payload.subarray(0, 1000));
      return { req, payload, answered };
    });
    // wait until the server has received all eight (its request log says so), however loaded the machine is
    const received = () => (server.output().match(/"method":"POST","url":"\/v1\/admin\/articles"/g) ?? []).length;
    const before = 0;
    for (let i = 0; i < 200 && received() < before + 8; i++) await new Promise((r) => setTimeout(r, 50));
    expect(received()).toBe(before + 8);
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const { req, payload } of requests) req.end(payload.subarray(1000));
    const statuses = await Promise.all(requests.map((r) => r.answered));
    expect(statuses).toEqual(statuses.map(() => 201));
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    // new connections are refused once it has stopped
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const db = await openDatabase({ url: `postgres://postgres@127.0.0.1:${port}/inkwell`, dataDir: '', poolSize: 1 });
    const rows = await db.db.execute(sql`select count(*)::int as n from articles where title like 'Shutdown %'`);
    await db.close();
    expect((rows as unknown as { n: number }[])[0].n).toBe(8);
  });
});
