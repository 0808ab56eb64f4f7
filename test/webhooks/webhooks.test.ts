// Webhooks end to end: a real receiver on 127.0.0.1 checks every delivery with the
// `standardwebhooks` package (an independent implementation of the signature scheme).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { JobRunner } from '../../src/jobs/kernel.ts';
import { WebhooksService } from '../../src/webhooks/webhooks.service.ts';
import { ContentEvents } from '../../src/events/content-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { adminRequest, createArticle } from '../helpers/factories.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let t: TestApp;
let server: Server;
let base = '';
let received: Received[] = [];
/** what the receiver answers next (then 204) */
let answers: number[] = [];

beforeAll(async () => {
  t = await createTestApp({ commentModeration: 'open', commentMinIntervalSeconds: 0 });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answers.shift() ?? 204;
      if (status >= 300 && status < 400) res.setHeader('location', `${base}/elsewhere`);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
  await new Promise((r) => server.close(r));
});
beforeEach(async () => {
  received = [];
  answers = [];
  await t.database.db.execute(sql`delete from webhooks`);
});

async function subscribe(path: string, events = ['article.published', 'article.updated', 'article.unpublished', 'article.deleted', 'response.published', 'response.removed']) {
  const res = await adminRequest(t, 'POST', '/v1/admin/webhooks', { url: `${base}${path}`, events });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; secret: string; url: string };
}
const deliveries = async (id: number) => (await adminRequest(t, 'GET', `/v1/admin/webhooks/${id}/deliveries`)).json().data as { id: string; status: string; attempts: number; lastStatusCode: number | null; lastError: string | null; eventType: string; nextAttemptAt: string | null }[];
/** the retry schedule's wait, skipped: due now */
const makeDue = () => t.database.db.execute(sql`update jobs set run_at = now() where kind = 'webhook.deliver' and status = 'queued'`);

describe('subscriptions', () => {
  it('answers the secret once, and refuses bad input naming the field', async () => {
    const hook = await subscribe('/a', ['article.published']);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const got = await adminRequest(t, 'GET', `/v1/admin/webhooks/${hook.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json().secret).toBeUndefined();
    expect((await adminRequest(t, 'GET', '/v1/admin/webhooks')).json().data.map((w: { id: number }) => w.id)).toEqual([hook.id]);

    const unknown = await adminRequest(t, 'POST', '/v1/admin/webhooks', { url: `${base}/b`, events: ['article.published', 'article.exploded'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].pointer).toBe('/body/events');
    expect(unknown.json().errors[0].message).toContain('article.exploded');
    for (const url of ['ftp://127.0.0.1/x', 'javascript:alert(1)', 'not a url', 'http://user:pw@127.0.0.1/']) {
      const bad = await adminRequest(t, 'POST', '/v1/admin/webhooks', { url, events: ['article.published'] });
      expect(bad.statusCode, url).toBe(400);
      expect(bad.json().errors[0].pointer).toBe('/body/url');
    }
    const dup = await adminRequest(t, 'POST', '/v1/admin/webhooks', { url: hook.url, events: ['article.updated'] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].pointer).toBe('/body/url');
    const badPatch = await adminRequest(t, 'PATCH', `/v1/admin/webhooks/${hook.id}`, { events: ['nope'] });
    expect(badPatch.statusCode).toBe(400);
    expect((await adminRequest(t, 'GET', '/v1/admin/webhooks/999999')).statusCode).toBe(404);
    expect((await adminRequest(t, 'DELETE', `/v1/admin/webhooks/${hook.id}`)).statusCode).toBe(204);
    expect((await adminRequest(t, 'GET', `/v1/admin/webhooks/${hook.id}`)).statusCode).toBe(404);
  });
});

describe('deliveries', () => {
  it('queues in the transaction of the change and signs what the receiver verifies; a tampered body fails', async () => {
    const hook = await subscribe('/signed');
    const article = await createArticle(t, { title: 'Signed news' });
    // committed with the publish: there as soon as the publish answered (a runner nudged by the
    // commit may already be sending it)
    const queued = await deliveries(hook.id);
    expect(queued.map((d) => d.eventType)).toEqual(['article.published']);

    await t.services.jobs.drainDue();
    expect(received).toHaveLength(1);
    const [r] = received;
    const payload = new Webhook(hook.secret).verify(r.body, r.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(payload.type).toBe('article.published');
    expect(payload.data).toEqual({ id: article.id, slug: article.slug, url: article.url });
    expect(r.headers['webhook-id']).toBe(queued[0].id);
    expect(r.headers['content-type']).toBe('application/json');
    expect(() => new Webhook(hook.secret).verify(r.body.replace(`"id":${article.id}`, `"id":${article.id + 1}`), r.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.from('another secret, 32 bytes long!!').toString('base64')}`).verify(r.body, r.headers as Record<string, string>)).toThrow();
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null });

    // a renamed published article: article.updated with previousSlug
    await adminRequest(t, 'PATCH', `/v1/admin/articles/${article.id}`, { slug: 'signed-news-renamed' });
    await t.services.jobs.drainDue();
    const updated = JSON.parse(received[1].body);
    expect(updated.type).toBe('article.updated');
    expect(updated.data).toMatchObject({ id: article.id, slug: 'signed-news-renamed', previousSlug: article.slug });
  });

  it('a failed write queues nothing', async () => {
    const hook = await subscribe('/rollback');
    const taken = await createArticle(t, { title: 'Taken', slug: 'taken-slug', status: 'draft' });
    const res = await adminRequest(t, 'POST', '/v1/admin/articles', { title: 'Clash', slug: 'taken-slug', status: 'published' });
    expect(res.statusCode).toBe(409);
    expect(await deliveries(hook.id)).toEqual([]);
    expect(taken.status).toBe('draft');
  });

  it('retries on the schedule with the same webhook-id and body, then is delivered; a 3xx is a failure', async () => {
    const hook = await subscribe('/flaky', ['article.published']);
    answers = [500, 302];
    const started = Date.now();
    await createArticle(t, { title: 'Flaky receiver' });
    await t.services.jobs.drainDue();
    let [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'queued', attempts: 1, lastStatusCode: 500 });
    const wait = new Date(d.nextAttemptAt!).getTime() - started;
    expect(wait).toBeGreaterThanOrEqual(4_000);
    expect(wait).toBeLessThan(60_000);

    await makeDue();
    await t.services.jobs.drainDue();
    [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'queued', attempts: 2, lastStatusCode: 302 });
    expect(d.lastError).toMatch(/redirect/i);
    expect(new Date(d.nextAttemptAt!).getTime() - Date.now()).toBeGreaterThan(4 * 60_000); // the second wait: ~5 min
    expect(received.filter((r) => r.headers['webhook-id'] === d.id)).toHaveLength(2);

    await makeDue();
    await t.services.jobs.drainDue();
    [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204 });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    // nothing is requested behind the redirect
    expect(received.every((r) => !r.headers.host?.includes('elsewhere'))).toBe(true);
  });

  it('gives up after the last attempt of the schedule', async () => {
    const hook = await subscribe('/down', ['article.published']);
    answers = Array(8).fill(503);
    await createArticle(t, { title: 'Nobody home' });
    for (let i = 0; i < 8; i++) {
      await makeDue();
      await t.services.jobs.drainDue();
    }
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 8, lastStatusCode: 503, nextAttemptAt: null });
    expect(received).toHaveLength(8);
    // the editor's retry: one more attempt now, same id
    const retried = await adminRequest(t, 'POST', `/v1/admin/webhooks/${hook.id}/deliveries/${d.id}/retry`);
    expect(retried.statusCode).toBe(202);
    await t.services.jobs.drainDue();
    expect((await deliveries(hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 9 });
    expect(received.at(-1)!.headers['webhook-id']).toBe(d.id);
    expect((await adminRequest(t, 'POST', `/v1/admin/webhooks/${hook.id}/deliveries/msg_nope/retry`)).statusCode).toBe(404);
  });

  it('a 410 disables the webhook', async () => {
    const hook = await subscribe('/gone', ['article.published']);
    answers = [410];
    await createArticle(t, { title: 'Gone receiver' });
    await t.services.jobs.drainDue();
    const [d] = await deliveries(hook.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
    const after = (await adminRequest(t, 'GET', `/v1/admin/webhooks/${hook.id}`)).json();
    expect(after.enabled).toBe(false);
    expect(after.disabledReason).toMatch(/410/);
    await createArticle(t, { title: 'Not sent' });
    await t.services.jobs.drainDue();
    expect(received).toHaveLength(1);
    expect(await deliveries(hook.id)).toHaveLength(1);
  });

  it('during a rotation sends both signatures, each verifiable with its secret', async () => {
    const hook = await subscribe('/rotate', ['article.published']);
    const rotated = await adminRequest(t, 'PATCH', `/v1/admin/webhooks/${hook.id}`, { rotateSecret: true });
    expect(rotated.statusCode).toBe(200);
    const { secret, previousSecretUntil } = rotated.json();
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.secret);
    expect(new Date(previousSecretUntil).getTime()).toBeGreaterThan(Date.now());
    await createArticle(t, { title: 'Rotated' });
    await t.services.jobs.drainDue();
    const [r] = received;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'article.published' });
    expect(new Webhook(hook.secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'article.published' });
  });

  it('sends a test event, response events, and nothing for events not subscribed', async () => {
    const hook = await subscribe('/responses', ['response.published', 'response.removed']);
    const test = await adminRequest(t, 'POST', `/v1/admin/webhooks/${hook.id}/test`);
    expect(test.statusCode).toBe(202);
    const article = await createArticle(t, { title: 'Talked about' });
    const posted = await t.app.inject({ method: 'POST', url: `/v1/articles/${article.slug}/comments`, payload: { authorName: 'Ann', authorEmail: 'ann@example.com', body: 'Nice.' } });
    expect(posted.statusCode).toBe(201);
    await adminRequest(t, 'DELETE', `/v1/admin/responses/${posted.json().id}`);
    await t.services.jobs.drainDue();
    const types = received.map((r) => JSON.parse(r.body).type).sort();
    expect(types).toEqual(['response.published', 'response.removed', 'webhook.test']);
    const pub = received.map((r) => JSON.parse(r.body)).find((b) => b.type === 'response.published');
    expect(pub.data).toEqual({ id: posted.json().id, articleId: article.id, articleSlug: article.slug, type: 'comment' });
  });

  it('two processes send each delivery once', async () => {
    const hook = await subscribe('/once', ['article.published']);
    for (let i = 0; i < 6; i++) await createArticle(t, { title: `Once ${i}` });
    const log = pino({ level: 'silent' });
    // a second process: its own runner and webhooks service on the same database
    const other = new JobRunner({ db: t.database.db, log, owner: 'other-process' });
    new WebhooksService({ db: t.database.db, jobs: other, events: new ContentEvents() });
    await Promise.all([t.services.jobs.drainDue(), other.drainDue(), t.services.jobs.drainDue()]);
    const ids = received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    const rows = await queryRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${hook.id} and status = 'delivered' and attempts = 1`);
    expect(rows[0].n).toBe(6);
    await other.stop(1000);
  });
});
