// SPEC §11 in a real browser: a page served from a second loopback origin posts a comment
// to the API with fetch() and reads the answers: the 201, and a 400's errors[].
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!existsSync(CHROMIUM))('a frontend on another origin, in Chromium', () => {
  let database: Database;
  let app: FastifyInstance;
  let frontend: Server;
  let browser: Browser;
  let api: string;
  let page: string;
  let slug: string;

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    database = await createTestDatabase({ kind: 'pglite' });
    const config = testConfig({ port, apiUrl: api, siteUrl: api, commentMinIntervalSeconds: 0, commentModeration: 'open' });
    const services = compose(config, database, pino({ level: 'silent' }));
    app = await buildApp(services);
    await app.listen({ port, host: '127.0.0.1' });
    const { token } = await createToken(database.db, 'test');
    const created = await fetch(`${api}/v1/admin/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Comments from elsewhere', markdown: 'Hello.', status: 'published' }),
    });
    slug = ((await created.json()) as { slug: string }).slug;
    // the second origin: another port on loopback serving a blank page
    frontend = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Elsewhere</title><p>A frontend'));
    await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', resolve));
    page = `http://127.0.0.1:${(frontend.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    frontend?.close();
    await app?.close();
    await database?.close();
  });

  it('posts a comment with fetch and reads the 201, then a 400 and its errors[]', async () => {
    const tab = await (await browser.newContext()).newPage();
    await tab.goto(page);
    expect(new URL(tab.url()).origin).not.toBe(api);
    const post = (body: unknown) =>
      tab.evaluate<string>(`(async () => {
        const res = await fetch(${JSON.stringify(`${api}/v1/articles/${slug}/comments`)}, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(JSON.stringify(body))},
        });
        return JSON.stringify({ status: res.status, location: res.headers.get('location'), requestId: res.headers.get('x-request-id'), body: await res.json() });
      })()`);
    const created = JSON.parse(await post({ authorName: 'Ada', authorEmail: 'ada@example.com', body: 'Posted from another origin.' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'approved', authorName: 'Ada' });
    expect(created.requestId).toBeTruthy();
    const refused = JSON.parse(await post({ authorName: 'Ada', authorEmail: 'not an email' }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/body/authorEmail', '/body/body']);
    // and the conversation reads back, cache hit or not
    const list = JSON.parse(await tab.evaluate<string>(`fetch(${JSON.stringify(`${api}/v1/articles/${slug}/responses`)}).then((r) => r.text())`));
    expect(list.data.map((r: { authorName: string }) => r.authorName)).toEqual(['Ada']);
  });
});
