// /docs (Swagger UI) carries a Content-Security-Policy that allows exactly what the page
// loads: Chromium renders the whole reference under it with no violation and no request
// to anywhere but this server.
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { DOCS_CSP } from '../../src/http/openapi.plugin.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let database: Database;
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  database = await createTestDatabase({ kind: 'pglite' });
  const services = compose(testConfig({ port, apiUrl: base, siteUrl: base }), database, pino({ level: 'silent' }));
  app = await buildApp(services);
  await app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe('the API reference at /docs', () => {
  it('the page and its assets carry the CSP', async () => {
    for (const path of ['/docs', '/docs/', '/docs/static/index.html']) {
      const res = await app.inject({ method: 'GET', url: path });
      if (res.statusCode >= 300 && res.statusCode < 400) continue;
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-security-policy'], path).toBe(DOCS_CSP);
    }
  });

  it.skipIf(!existsSync(CHROMIUM))('renders in Chromium under that CSP: no violation, nothing loaded from elsewhere', { timeout: 120_000 }, async () => {
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const context = await browser.newContext();
      const elsewhere: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || new URL(url).origin === base) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));" });
      await page.goto(`${base}/docs`);
      await page.locator('.opblock').first().waitFor({ timeout: 60_000 });
      expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
      // open one operation: its schemas render too
      await page.locator('.opblock-summary').first().click();
      await page.locator('.opblock-body').first().waitFor({ timeout: 30_000 });
      expect(problems).toEqual([]);
      expect(elsewhere).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
