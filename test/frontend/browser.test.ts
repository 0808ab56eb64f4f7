// The first five minutes in a real browser (Debian's chromium through playwright-core),
// against the app listening on 127.0.0.1 after a first start on a fresh embedded
// database, as `npm start` does it (in-process: a second process would double the
// start-up cost; test/site/process.test.ts covers the process itself): the welcome
// article, the reply form without JavaScript, moderation through the admin API, an
// XSS attempt, the docs. (page.evaluate gets strings: the project's TypeScript has no
// DOM library.) UPDATE_SCREENSHOTS=1 writes docs/home.png and docs/article.png for the README.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { firstStart } from '../../src/site/first-start.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort, ROOT } from '../helpers/process.ts';

const CHROMIUM = '/usr/bin/chromium';
// as root in a container: no sandbox; and nothing in the background that calls home
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'inkwell-shots-'));
mkdirSync(SHOTS, { recursive: true });

describe.skipIf(!existsSync(CHROMIUM))('the reference frontend in Chromium', () => {
  let database: Database;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  /** requests the pages tried to make to anywhere but this server (all refused) */
  const elsewhere: string[] = [];
  /** alert()/confirm()… dialogs: any one means a script ran */
  const dialogs: string[] = [];
  /** CSP violations and page errors reported on the console */
  const problems: string[] = [];

  async function newContext(opts: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...opts });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === base) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    return context;
  }
  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    return page;
  }
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  async function approveAllPending(): Promise<number[]> {
    const { data: pending } = (await (await admin('GET', '/v1/admin/responses?status=pending')).json()) as { data: { id: number }[] };
    for (const r of pending) expect((await admin('PATCH', `/v1/admin/responses/${r.id}`, { status: 'approved' })).status).toBe(200);
    return pending.map((r) => r.id);
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    database = await createTestDatabase({ kind: 'pglite' });
    const config = testConfig({ port, apiUrl: base, siteUrl: base, siteTwitter: 'inkwell', commentMinIntervalSeconds: 0 });
    const services = compose(config, database, pino({ level: 'silent' }));
    app = await buildApp(services);
    token = (await firstStart(services)).adminToken!;
    await app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });

  it('home page → the welcome article with its conversation, styled, on a laptop and on a phone', async () => {
    const context = await newContext();
    const page = await newPage(context);
    await page.goto(`${base}/`);
    expect(await page.title()).toBe('Inkwell');
    await expect(page.locator('h1').textContent()).resolves.toBe('Latest articles');
    // the stylesheet passed the CSP and applies
    expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('672px');
    await page.screenshot({ path: join(SHOTS, 'home.png'), fullPage: true });
    // keyboard users meet the skip link first, and it becomes visible
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.className')).toBe('skip-link');
    expect((await page.locator('.skip-link').boundingBox())!.x).toBeGreaterThanOrEqual(0);

    await page.getByRole('link', { name: 'Welcome to Inkwell' }).click();
    await page.waitForURL(`${base}/welcome-to-inkwell/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Welcome to Inkwell');
    await expect(page.locator('#responses-title').textContent()).resolves.toBe('3 Responses to “Welcome to Inkwell”');
    expect(await page.locator('.response.pingback .response-author a').textContent()).toBe('A neighbouring blog (sample pingback)');
    expect(await page.getByRole('link', { name: 'Follow us on Twitter' }).getAttribute('href')).toBe('https://x.com/inkwell');
    await page.screenshot({ path: join(SHOTS, 'article.png'), fullPage: true });

    // a phone: one readable column, nothing wider than the screen
    const phone = await newPage(await newContext({ viewport: { width: 360, height: 740 } }));
    for (const path of ['/', '/welcome-to-inkwell/']) {
      await phone.goto(base + path);
      expect(await phone.evaluate<number>('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(360);
    }
    expect(elsewhere, 'requests to other hosts').toEqual([]);
    expect(problems, 'console errors and CSP violations').toEqual([]);
  });

  it('the reply form works without JavaScript: post, awaiting moderation, approved through the admin API, shown', async () => {
    const page = await newPage(await newContext({ javaScriptEnabled: false }));
    await page.goto(`${base}/welcome-to-inkwell/`);
    await page.getByLabel('Name').fill('Grace');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Website').fill('https://grace.example/');
    await page.getByLabel('Comment').fill('Works with JavaScript off, too.');
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/\?comment=pending#respond$/);
    expect(await page.locator('.notice').textContent()).toMatch(/awaiting moderation/);
    expect(await page.locator('.response').count()).toBe(3);

    const [id] = await approveAllPending();
    await page.goto(`${base}/welcome-to-inkwell/`);
    const mine = page.locator(`#comment-${id}`);
    expect(await mine.locator('.response-author a').textContent()).toBe('Grace');
    expect(await mine.locator('.response-author a').getAttribute('href')).toBe('https://grace.example/');
    expect(await mine.locator('.response-body').textContent()).toBe('Works with JavaScript off, too.');
    await expect(page.locator('#responses-title').textContent()).resolves.toBe('4 Responses to “Welcome to Inkwell”');
  });

  it('a comment carrying scripts runs nothing, neither when refused nor once approved', async () => {
    const page = await newPage(await newContext());
    const evil = {
      name: '<img src=x onerror=alert("name")>',
      url: 'https://evil.example/"><script>alert("url")</script>',
      body: '<script>alert("body")</script><img src=x onerror=alert("img")> <a href="javascript:alert(1)">click</a>',
    };
    await page.goto(`${base}/welcome-to-inkwell/`);
    await page.getByLabel('Name').fill(evil.name);
    await page.getByLabel('Email').fill('mallory@example.com');
    // refused (not an http(s) site): the page comes back with the typed values, which must stay inert there too
    await page.getByLabel('Website').fill('javascript:alert("site")');
    await page.getByLabel('Comment').fill(evil.body);
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForSelector('.error-summary');
    expect(await page.getByLabel('Comment').inputValue()).toBe(evil.body);
    expect(await page.getByLabel('Name').inputValue()).toBe(evil.name);
    await page.getByLabel('Website').fill(evil.url);
    await page.getByRole('button', { name: 'Post comment' }).click();
    await page.waitForURL(/\?comment=pending/);

    await approveAllPending();
    await page.goto(`${base}/welcome-to-inkwell/`);
    const theirs = page.locator('.response.comment').last();
    expect(await theirs.locator('.response-author a').textContent()).toBe(evil.name);
    expect(await theirs.locator('.response-body').textContent()).toContain('<script>alert("body")</script>');
    expect(await page.evaluate(`document.querySelectorAll('script, img[src="x"], a[href^="javascript:"]').length`)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('/docs (the Scalar reference) lists the operations', { timeout: 120_000 }, async () => {
    const page = await newPage(await newContext());
    await page.goto(`${base}/docs/`);
    await page.locator('.endpoint-path', { hasText: '/v1/site' }).first().waitFor({ timeout: 60_000 });
    const wanted = ['/v1/site', '/v1/articles', '/v1/articles/{slug}', '/v1/articles/{slug}/comments', '/v1/admin/responses/{id}'];
    // each tag's section renders as it scrolls into view
    await expect
      .poll(
        async () => {
          await page.mouse.wheel(0, 4000);
          return page.locator('.endpoint-path').allTextContents();
        },
        { timeout: 60_000, interval: 200 },
      )
      .toEqual(expect.arrayContaining(wanted));
  });
});
