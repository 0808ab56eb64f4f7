// The editor's desk in a real browser (Debian's chromium through playwright-core), against
// the app listening on 127.0.0.1 after a first start, as `npm start` does it: sign in with
// the first-start token, write, preview, publish, see it on the reference frontend, a lost
// update shown as a conflict, moderate, what went out, a scoped token, forged posts
// refused, sign out. axe-core checks each page. UPDATE_SCREENSHOTS=1 writes
// docs/desk-articles.png, docs/desk-editor.png and docs/desk-moderation.png for the README.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import { firstStart } from '../../src/site/first-start.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort, ROOT } from '../helpers/process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'inkwell-desk-shots-'));
mkdirSync(SHOTS, { recursive: true });
const AXE = readFileSync(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');

describe.skipIf(!existsSync(CHROMIUM))('the editor’s desk in Chromium', () => {
  let database: Database;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  /** another origin on the same host: a page there posts a form to the desk */
  let evil: Server;
  let evilBase: string;
  let desk: Page;
  const problems: string[] = [];

  async function newContext(opts: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
    context.setDefaultTimeout(10_000);
    await context.route('**/*', (route) => {
      const origin = new URL(route.request().url()).origin;
      return origin === base || origin === evilBase ? route.continue() : route.abort();
    });
    return context;
  }
  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      // refusals (401, 403) are on purpose here; anything else (a CSP violation) is not
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    return page;
  }
  const admin = async <T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.status === 204 ? (null as T) : ((await res.json()) as T) };
  };
  async function signIn(page: Page, secret: string) {
    await page.goto(`${base}/desk/`);
    await page.getByLabel('Admin token').fill(secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  /** axe-core's violations on the page as it is (in a copy that ignores the CSP, which would refuse the injected script) */
  async function axeViolations(cookiesFrom: BrowserContext, url: string): Promise<string[]> {
    const context = await newContext({ bypassCSP: true });
    await context.addCookies(await cookiesFrom.cookies());
    const page = await context.newPage();
    await page.goto(url);
    await page.addScriptTag({ content: AXE });
    const result = await page.evaluate<{ id: string; nodes: { target: string[] }[] }[]>(
      "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => ({ target: n.target })) })))",
    );
    await context.close();
    return result.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    database = await createTestDatabase({ kind: 'pglite' });
    const config = testConfig({ port, apiUrl: base, siteUrl: base, commentMinIntervalSeconds: 0, outboundAllowPrivate: true });
    const services = compose(config, database, pino({ level: 'silent' }));
    app = await buildApp(services);
    token = (await firstStart(services)).adminToken!;
    await app.listen({ port, host: '127.0.0.1' });
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>Win a prize</title><form method="post" action="${base}/desk/articles"><input name="title" value="Forged"><input name="action" value="publish"><button>Claim</button></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilBase = `http://127.0.0.1:${(evil.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    desk = await newPage(await newContext());
  });

  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await app?.close();
    await database?.close();
  });

  it('signs in with the first-start token: an HttpOnly, SameSite=Strict session cookie, and the token nowhere after', async () => {
    await desk.goto(`${base}/desk/`);
    expect(await desk.title()).toBe('Sign in – Inkwell desk');
    // a wrong token: refused, and not shown back
    await desk.getByLabel('Admin token').fill('iw_not-a-real-token');
    await desk.getByRole('button', { name: 'Sign in' }).click();
    expect(await desk.getByRole('alert').textContent()).toMatch(/unknown or revoked/);
    expect(await desk.content()).not.toContain('iw_not-a-real-token');

    await signIn(desk, token);
    await desk.waitForURL(`${base}/desk/articles`);
    await expect(desk.locator('h1').textContent()).resolves.toBe('Articles');
    expect(await desk.getByRole('link', { name: 'Welcome to Inkwell' }).count()).toBe(1);
    const [cookie] = (await desk.context().cookies()).filter((c) => c.name === 'inkwell_desk');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/desk' });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000);
    expect(cookie.value).not.toContain(token);
    expect(await desk.content()).not.toContain(token);
    // the session row names the token's id, not the token
    const rows = await database.db.execute<{ data: unknown }>('select data from desk_sessions' as never);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  let articleId: number;

  it('writes, previews (rendered and on the site), publishes, and the reference frontend shows it', async () => {
    await desk.getByRole('link', { name: 'Write an article' }).click();
    await desk.getByLabel('Title').fill('Notes from the desk');
    await desk.getByLabel('Body (Markdown)').fill(`Written in *the desk*.\n\n- one\n- two\n\nSee [a neighbour](${evilBase}/a-post).`);
    await desk.getByLabel('Tags').fill('Desk, Notes');
    await desk.getByRole('button', { name: 'Preview', exact: true }).click();
    await expect(desk.locator('#preview em').textContent()).resolves.toBe('the desk');
    expect(await desk.locator('#preview li').count()).toBe(2);
    // the preview kept what was typed, and saved nothing
    expect(await desk.getByLabel('Title').inputValue()).toBe('Notes from the desk');
    expect((await admin<{ data: unknown[] }>('GET', '/v1/admin/articles?q=desk')).body.data).toHaveLength(0);

    await desk.getByRole('button', { name: 'Save draft' }).click();
    await desk.waitForURL(/\/desk\/articles\/\d+$/);
    articleId = Number(desk.url().split('/').pop());
    expect(await desk.getByRole('status').textContent()).toBe('Saved.');
    await desk.getByRole('button', { name: 'Preview', exact: true }).click();
    await desk.screenshot({ path: join(SHOTS, 'desk-editor.png'), fullPage: true });

    // the site's own preview of the draft
    await desk.getByRole('button', { name: 'Open the site preview' }).click();
    await desk.waitForURL(/\/preview\/[\w-]+\/$/);
    await expect(desk.locator('h1').textContent()).resolves.toBe('Notes from the desk');
    expect(await desk.locator('.preview-banner').textContent()).toMatch(/Preview/);
    await desk.goBack();
    await desk.goto(`${base}/desk/articles/${articleId}`);

    await desk.getByRole('button', { name: 'Publish' }).click();
    await desk.waitForURL(`${base}/desk/articles/${articleId}`);
    expect(await desk.getByRole('status').textContent()).toBe('Published.');
    const url = await desk.getByRole('link', { name: 'View on the site' }).getAttribute('href');
    await desk.goto(`${base}/`);
    await desk.getByRole('link', { name: 'Notes from the desk' }).click();
    await desk.waitForURL(url!);
    await expect(desk.locator('article em').first().textContent()).resolves.toBe('the desk');
  });

  it('schedules in the editor’s time zone and stores UTC', async () => {
    const context = await newContext({ timezoneId: 'Europe/Berlin' });
    await context.addCookies(await desk.context().cookies());
    const page = await newPage(context);
    await page.goto(`${base}/desk/articles/new`);
    // the script picked the browser's zone
    expect(await page.getByLabel('Time zone').inputValue()).toBe('Europe/Berlin');
    await page.getByLabel('Title').fill('Due in summer');
    await page.getByLabel('Body (Markdown)').fill('Later.');
    await page.getByLabel('Publish at').fill('2030-06-01T10:00');
    await page.getByRole('button', { name: 'Schedule' }).click();
    await page.waitForURL(/\/desk\/articles\/\d+$/);
    expect(await page.getByRole('status').textContent()).toMatch(/^Scheduled for 1 Jun 2030, 10:00/);
    const id = Number(page.url().split('/').pop());
    const { body } = await admin<{ status: string; publishAt: string }>('GET', `/v1/admin/articles/${id}`);
    expect(body).toMatchObject({ status: 'scheduled', publishAt: '2030-06-01T08:00:00.000Z' });
    // shown again in the editor's zone, which the session now keeps
    expect(await page.getByLabel('Publish at').inputValue()).toBe('2030-06-01T10:00');
    await context.close();
  });

  it('a lost update shows both versions; nothing is overwritten until the editor chooses', async () => {
    await desk.goto(`${base}/desk/articles/${articleId}`);
    await desk.getByLabel('Body (Markdown)').fill('My rewrite of the body.');
    // meanwhile, someone else saves a new title
    expect((await admin('PATCH', `/v1/admin/articles/${articleId}`, { title: 'Their better title' })).status).toBe(200);
    const answer = desk.waitForResponse((r) => r.request().method() === 'POST');
    await desk.getByRole('button', { name: 'Update' }).click();
    expect((await answer).status()).toBe(412);
    await expect(desk.locator('h1').textContent()).resolves.toBe('“Their better title” changed while you were editing');
    const versions = desk.locator('.version');
    expect(await versions.nth(0).textContent()).toContain('My rewrite of the body.');
    expect(await versions.nth(1).textContent()).toContain('Their better title');
    let saved = (await admin<{ title: string; markdown: string }>('GET', `/v1/admin/articles/${articleId}`)).body;
    expect(saved).toMatchObject({ title: 'Their better title', markdown: expect.stringContaining('Written in *the desk*') });

    await desk.getByRole('button', { name: /Keep mine/ }).click();
    await desk.waitForURL(`${base}/desk/articles/${articleId}`);
    saved = (await admin<{ title: string; markdown: string }>('GET', `/v1/admin/articles/${articleId}`)).body;
    expect(saved).toMatchObject({ title: 'Notes from the desk', markdown: 'My rewrite of the body.' });
  });

  it('moderates: the queue with the article and the author’s history; approve one, spam in bulk', async () => {
    const post = (body: string) =>
      fetch(`${base}/v1/articles/notes-from-the-desk/comments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ authorName: 'Ada', authorEmail: 'ada@example.com', body }),
      });
    expect((await post('A first thought.')).status).toBe(201);
    const { body: queue } = await admin<{ data: { id: number }[] }>('GET', '/v1/admin/responses?status=pending');
    const [first] = queue.data;
    expect((await admin('PATCH', `/v1/admin/responses/${first.id}`, { status: 'approved' })).status).toBe(200);
    expect((await post('Second thought, held: first-time moderation lets it through, so hold it by hand.')).status).toBe(201);
    expect((await post('Buy cheap watches at three links.')).status).toBe(201);
    for (const r of (await admin<{ data: { id: number; status: string }[] }>('GET', '/v1/admin/responses?article=notes-from-the-desk')).body.data) {
      if (r.id !== first.id) await admin('PATCH', `/v1/admin/responses/${r.id}`, { status: 'pending' });
    }

    // (the list, now with a draft, a scheduled and a published article, for the README)
    await desk.goto(`${base}/desk/articles`);
    await desk.screenshot({ path: join(SHOTS, 'desk-articles.png'), fullPage: true });
    await desk.goto(`${base}/desk/moderation`);
    const items = desk.locator('.queue > li');
    expect(await items.count()).toBe(2);
    // newest first, with the article and the author's history
    expect(await items.nth(0).textContent()).toContain('Buy cheap watches');
    expect(await items.nth(0).textContent()).toContain('1 response approved before');
    expect(await items.nth(0).getByRole('link', { name: 'Notes from the desk' }).count()).toBe(1);
    await desk.screenshot({ path: join(SHOTS, 'desk-moderation.png'), fullPage: true });

    await items.nth(1).getByRole('button', { name: /^Approve/ }).click();
    await desk.waitForURL(`${base}/desk/moderation`);
    expect(await desk.getByRole('status').textContent()).toBe('Approved: 1 response.');
    await desk.getByRole('checkbox').first().check();
    await desk.getByRole('button', { name: 'Spam selected' }).click();
    expect(await desk.getByRole('status').textContent()).toBe('Marked as spam: 1 response.');
    expect(await desk.locator('.queue > li').count()).toBe(0);
    await desk.getByRole('link', { name: 'Spam' }).click();
    expect(await desk.locator('.queue > li').textContent()).toContain('Buy cheap watches');

    // the approved comment is on the article page
    await desk.goto(`${base}/notes-from-the-desk/`);
    expect(await desk.locator('.response').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('Second thought')]));
  });

  it('shows what went out: announcements, pings with their state, webhooks and deliveries', async () => {
    const hook = await admin<{ id: number }>('POST', '/v1/admin/webhooks', { url: 'https://hooks.example/inkwell', events: ['article.published'] });
    expect(hook.status).toBe(201);
    await desk.goto(`${base}/desk/outbox`);
    await expect(desk.locator('h1').textContent()).resolves.toBe('What went out');
    // the published article links to another blog (on loopback): an outgoing ping was queued
    const pings = desk.locator('section[aria-labelledby="ping-title"] tbody tr');
    expect(await pings.count()).toBe(1);
    expect(await pings.textContent()).toContain(`${evilBase}/a-post`);
    await pings.getByRole('button', { name: /Retry/ }).click();
    expect(await desk.getByRole('status').textContent()).toBe('The ping is queued again.');
    await desk.getByRole('link', { name: 'https://hooks.example/inkwell' }).click();
    await expect(desk.locator('h1').textContent()).resolves.toBe('Deliveries to https://hooks.example/inkwell');
  });

  it('refuses a form without its CSRF token and a form posted from another origin (403 pages, nothing done)', async () => {
    const cookie = (await desk.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const noCsrf = await fetch(`${base}/desk/articles`, {
      method: 'POST',
      headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'title=Forged&action=publish',
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.headers.get('content-type')).toMatch(/text\/html/);
    expect(await noCsrf.text()).toContain('did not come from the desk');

    // in the browser: a page on another origin posts to the desk (the cookie is same-site there: ports do not count)
    const page = await newPage(desk.context());
    await page.goto(evilBase);
    const answer = page.waitForResponse((r) => r.url() === `${base}/desk/articles`);
    await page.getByRole('button', { name: 'Claim' }).click();
    expect((await answer).status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('Refused');
    await page.close();
    expect((await admin<{ data: unknown[] }>('GET', '/v1/admin/articles?q=Forged')).body.data).toHaveLength(0);
  });

  it('a token of scope moderation sees moderation only', async () => {
    const { token: moderator } = await createToken(database.db, 'moderator', { scope: 'moderation' });
    const page = await newPage(await newContext());
    await signIn(page, moderator);
    await page.waitForURL(`${base}/desk/moderation`);
    expect(await page.getByRole('navigation', { name: 'Desk' }).getByRole('link').allTextContents()).toEqual(['Moderation']);
    const res = await page.goto(`${base}/desk/articles`);
    expect(res!.status()).toBe(403);
    await page.context().close();
  });

  it('is accessible (axe-core) and fits a phone', async () => {
    const pages = ['/desk/articles', `/desk/articles/${articleId}`, '/desk/moderation', '/desk/outbox'];
    for (const path of pages.slice(0, 3)) expect(await axeViolations(desk.context(), base + path), path).toEqual([]);
    const signedOut = await newContext();
    expect(await axeViolations(signedOut, `${base}/desk/`)).toEqual([]);
    await signedOut.close();

    const phone = await newContext({ viewport: { width: 360, height: 740 } });
    await phone.addCookies(await desk.context().cookies());
    const page = await newPage(phone);
    for (const path of pages) {
      await page.goto(base + path);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(360);
    }
    await phone.close();
    // keyboard: the skip link comes first
    await desk.goto(`${base}/desk/articles`);
    await desk.keyboard.press('Tab');
    expect(await desk.evaluate('document.activeElement.className')).toBe('skip-link');
  }, 180_000);

  it('signs out: the session is gone, and its cookie opens nothing', async () => {
    const cookie = (await desk.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await desk.goto(`${base}/desk/articles`);
    await desk.getByRole('button', { name: 'Sign out' }).click();
    await desk.waitForURL(`${base}/desk/`);
    expect(await desk.getByLabel('Admin token').count()).toBe(1);
    const replay = await fetch(`${base}/desk/articles`, { headers: { cookie }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/desk/');
    expect(problems, 'console errors and CSP violations').toEqual([]);
  });
});
