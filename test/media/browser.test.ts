// An article with a feature image in the reference frontend, in Chromium: the image is
// uploaded through the admin API, loads from /media/ under the page's CSP, is picked from
// its srcset, and has its size reserved before it loads (no layout shift). Also the README's
// screenshot: UPDATE_SCREENSHOTS=1 writes docs/article-feature-image.png.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { testConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { firstStart } from '../../src/site/first-start.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { freePort, ROOT } from '../helpers/process.ts';
import { tempDir } from './support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs') : mkdtempSync(join(tmpdir(), 'inkwell-shots-'));

/** A landscape at dusk, drawn as SVG and rendered to a JPEG by sharp: a stand-in for a photo. */
function landscape(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1600 900">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1d3557"/><stop offset=".55" stop-color="#e76f51"/><stop offset="1" stop-color="#f4a261"/></linearGradient>
    <linearGradient id="lake" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#457b9d"/><stop offset="1" stop-color="#1d3557"/></linearGradient>
    <radialGradient id="sun"><stop offset="0" stop-color="#fff3b0"/><stop offset="1" stop-color="#ffd166" stop-opacity="0"/></radialGradient>
  </defs>
  <rect width="1600" height="900" fill="url(#sky)"/>
  <circle cx="1080" cy="470" r="220" fill="url(#sun)"/><circle cx="1080" cy="470" r="70" fill="#fff3b0"/>
  <path d="M0 560 L220 330 L380 470 L560 250 L760 520 L940 380 L1120 540 L1320 300 L1600 520 L1600 620 L0 620 Z" fill="#2b2d42"/>
  <path d="M0 600 L180 480 L420 580 L640 430 L880 590 L1100 470 L1380 600 L1600 520 L1600 640 L0 640 Z" fill="#3d405b"/>
  <rect y="620" width="1600" height="280" fill="url(#lake)"/>
  <ellipse cx="1080" cy="700" rx="160" ry="10" fill="#ffd166" opacity=".6"/><ellipse cx="1080" cy="740" rx="110" ry="7" fill="#ffd166" opacity=".45"/>
  <path d="M260 780 q60 -30 120 0 l-15 12 h-90 z" fill="#1b1b1e"/><line x1="320" y1="780" x2="320" y2="700" stroke="#1b1b1e" stroke-width="4"/>
</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
}

describe.skipIf(!existsSync(CHROMIUM))('a feature image in the reference frontend (Chromium)', () => {
  let database: Database;
  let app: FastifyInstance;
  let base: string;
  let token: string;
  let browser: Browser;
  let mediaDir: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    mediaDir = tempDir();
    database = await createTestDatabase({ kind: 'pglite' });
    const config = testConfig({ port, apiUrl: base, siteUrl: base, siteTwitter: 'inkwell', media: { ...testConfig().media, dir: mediaDir } });
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
    rmSync(mediaDir, { recursive: true, force: true });
  });

  it('uploads a photo, sets it as an article’s feature image, and the page shows it from its srcset', async () => {
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await landscape(2400, 1350))], { type: 'image/jpeg' }), 'dusk.jpg');
    form.set('alt', 'Mountains at dusk, the sun low over a still lake');
    const uploaded = await fetch(`${base}/v1/admin/media`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(uploaded.status).toBe(201);
    const image = (await uploaded.json()) as { id: number; url: string };

    const created = await fetch(`${base}/v1/admin/articles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'An evening by the lake',
        featureImage: image.id,
        markdown:
          'We walked down to the water as the sun went behind the ridge. The feature image above comes from the media library: ' +
          'Inkwell made it in WebP, AVIF and JPEG at five widths, and the browser picked the one that fits this screen.\n\n' +
          'Every variant has an address of its own that never changes, so browsers and CDNs keep it for a year.',
        tags: ['Photos'],
        status: 'published',
      }),
    });
    expect(created.status).toBe(201);
    const article = (await created.json()) as { url: string };

    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const elsewhere: string[] = [];
    await context.route('**/*', (route) => {
      if (new URL(route.request().url()).origin === base) return route.continue();
      elsewhere.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    const mediaRequests: string[] = [];
    page.on('request', (r) => r.url().includes('/media/') && mediaRequests.push(r.url()));

    await page.goto(article.url);
    const img = page.locator('figure.feature-image img');
    await expect(img.getAttribute('alt')).resolves.toBe('Mountains at dusk, the sun low over a still lake');
    // room is kept before a byte arrives: width and height give the aspect ratio
    await expect(img.getAttribute('width')).resolves.toBe('2400');
    await expect(img.getAttribute('height')).resolves.toBe('1350');
    await page.waitForFunction("document.querySelector('figure.feature-image img').complete");
    expect(await page.evaluate<number>("document.querySelector('figure.feature-image img').naturalWidth")).toBeGreaterThan(0);
    // a 672 px column at 1× picks a WebP variant from srcset, not the 2400 px original
    const current = await page.evaluate<string>("document.querySelector('figure.feature-image img').currentSrc");
    expect(current).toMatch(/\/media\/[a-f0-9]{32}\/(640|960)\.webp$/);
    expect(mediaRequests.some((u) => u.endsWith('/2400.jpeg'))).toBe(false);
    const box = (await img.boundingBox())!;
    expect(Math.round(box.width / box.height * 100) / 100).toBeCloseTo(16 / 9, 1);
    await page.screenshot({ path: join(SHOTS, 'article-feature-image.png') });

    // the home page lists it with its image
    await page.goto(`${base}/`);
    expect(await page.locator('figure.summary-image img').first().getAttribute('loading')).toBe('lazy');
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    await context.close();
  }, 240_000);
});
