// The fast path over a real socket: a hit is written by the server's own handler ahead of
// Fastify, with the access-log line Fastify would have written and the 304 a miss gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { createArticle } from '../../helpers/factories.ts';

let t: TestApp;
let base = '';
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

beforeAll(async () => {
  t = await createTestApp({}, { log: pino({ level: 'info' }, sink) });
  await createArticle(t, { title: 'Over the wire' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => t.close());

const hits = () => t.app.responseCache.snapshot().hits;
const completed = (reqId: string) => lines.filter((l) => l.msg === 'request completed' && l.reqId === reqId);

describe('the fast path over a socket', () => {
  it('writes a hit itself, with one access-log line naming the request id, status and cache hit', async () => {
    await fetch(`${base}/v1/articles?limit=3`);
    const before = hits();
    const res = await fetch(`${base}/v1/articles?limit=3`, { headers: { 'x-request-id': 'socket-hit-1' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { title: string }[] }).data[0].title).toBe('Over the wire');
    expect(hits()).toBe(before + 1);
    await new Promise((r) => setImmediate(r));
    const logged = completed('socket-hit-1');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ cache: 'hit', req: { method: 'GET', url: '/v1/articles?limit=3' }, res: { statusCode: 200 } });
  });

  it('answers a conditional request with 304 alike on a miss and on a hit, and the miss fills the cache', async () => {
    const first = await fetch(`${base}/v1/tags`);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"/);
    await t.services.events.emit(t.database.db, { type: 'taxonomy.changed', data: { kind: 'tag', slugs: [] } });
    const before = hits();
    const miss = await fetch(`${base}/v1/tags`, { headers: { 'if-none-match': etag } });
    expect(miss.status).toBe(304);
    expect(hits()).toBe(before);
    const hit = await fetch(`${base}/v1/tags`, { headers: { 'if-none-match': etag } });
    expect(hit.status).toBe(304);
    expect(hits()).toBe(before + 1);
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'));
    expect(hit.headers.get('cache-control')).toBe(miss.headers.get('cache-control'));
    const full = await fetch(`${base}/v1/tags`);
    expect(full.status).toBe(200);
    expect(full.headers.get('etag')).toBe(etag);
  });
});
