// /docs (the Scalar API reference) carries a Content-Security-Policy that allows exactly what the
// page loads (scripts only from this server or by hash, no eval), and it passes an axe-core check
// of WCAG 2.1 AA with no violation: Chromium renders the whole reference under that CSP with no
// violation report and no request to anywhere but this server.
import { existsSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import axe from 'axe-core';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { docsCsp, inlineScripts } from '../../src/http/openapi.plugin.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/process.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

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
  it('the page and its assets carry the CSP: scripts from here or by hash, no eval, no inline script unhashed', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<html lang="en">');
    const scripts = inlineScripts(page.body);
    expect(scripts.length).toBeGreaterThan(0);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(docsCsp(scripts));
    const scriptSrc = csp.split('; ').find((d) => d.startsWith('script-src '));
    expect(scriptSrc).toMatch(/^script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+$/);
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");

    const bundle = await app.inject({ method: 'GET', url: '/docs/js/scalar.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.headers['content-security-policy']).toBe(docsCsp());

    // ~5 MB of script: compressed for browsers that accept it, revalidated with a 304
    const br = await app.inject({ method: 'GET', url: '/docs/js/scalar.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(br.rawPayload.length).toBeLessThan(bundle.rawPayload.length / 3);
    expect(brotliDecompressSync(br.rawPayload).toString('utf8')).toBe(bundle.body);
    expect(br.headers.etag).toBe(`W/${bundle.headers.etag}`);
    const again = await app.inject({ method: 'GET', url: '/docs/js/scalar.js', headers: { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    const gz = await app.inject({ method: 'GET', url: '/docs/js/scalar.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gunzipSync(gz.rawPayload).toString('utf8')).toBe(bundle.body);

    const bare = await app.inject({ method: 'GET', url: '/docs' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/docs/');
  });

  describe.skipIf(!existsSync(CHROMIUM))('in Chromium', () => {
    let browser: Browser;
    let page: Page;
    const elsewhere: string[] = [];
    const problems: string[] = [];

    async function axeViolations(): Promise<string[]> {
      await page.evaluate(axe.source);
      const result = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG21AA)} } })`)) as {
        violations: { id: string; nodes: { target: string[] }[] }[];
      };
      return result.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    }

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || new URL(url).origin === base) return route.continue();
        elsewhere.push(url);
        return route.abort();
      });
      page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
      await page.addInitScript({
        content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));",
      });
      await page.goto(`${base}/docs`);
      // rendered: the first tag's operations are on the page
      await page.locator('.endpoint-path', { hasText: '/v1/site' }).first().waitFor({ timeout: 90_000 });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });

    // one axe run (about 10 s on this page), once every tag has rendered: scrolled to the end
    it('axe-core finds no WCAG 2.1 AA violation on the rendered reference', { timeout: 90_000 }, async () => {
      await expect
        .poll(
          async () => {
            await page.mouse.wheel(0, 4000);
            return page.locator('.endpoint-path', { hasText: '/v1/admin/responses/{id}' }).count();
          },
          { timeout: 60_000, interval: 200 },
        )
        .toBeGreaterThan(0);
      expect(await page.locator('section[id*="tag/"]').count()).toBeGreaterThan(10);
      expect(await axeViolations()).toEqual([]);
    });

    it('loads nothing from outside this server and violates no CSP directive', () => {
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
    });
  });
});
