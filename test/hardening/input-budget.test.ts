// Every public input at the largest size Inkwell accepts costs well under 100 ms of
// event-loop time: no one request can freeze the server for everybody else. Measured as
// the CPU time of the event-loop thread while the request ran (process.threadCpuUsage:
// what the request would block an idle machine for; on a loaded one, wall-clock figures
// grow with everybody else's work), best of three. The longest event-loop block seen
// (perf_hooks.monitorEventLoopDelay, wall clock) is printed beside it, not asserted.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commentToHtml } from '../../src/comments/comment-html.ts';
import { MAX_URL_LENGTH } from '../../src/lib/external-url.ts';
import { XMLRPC_BODY_LIMIT } from '../../src/linkbacks/pingback/xmlrpc.routes.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';
import { NO_LIMIT, pingCall, postXml } from '../linkbacks/support.ts';

const BUDGET_MS = 100;
const COMMENT_MAX = 10_000;

let t: TestApp;
let slug: string;
let permalink: string;
const figures: [string, number, number][] = [];

beforeAll(async () => {
  // the guard is closed as in production: nothing here may reach a socket anyway
  t = await createTestApp({ commentMinIntervalSeconds: 0, rateLimitWrites: NO_LIMIT, commentModeration: 'manual' });
  const a = await createArticle(t, { title: 'Budget target' });
  slug = a.slug;
  permalink = a.url;
});
afterAll(async () => {
  const row = ([what, cpu, block]: [string, number, number]) => `  ${cpu.toFixed(1).padStart(7)}  ${block.toFixed(1).padStart(7)}  ${what}`;
  console.info(`event-loop thread CPU ms · longest block ms (wall clock), best of 3:\n${figures.map(row).join('\n')}`);
  await t.close();
});

/** CPU time of the event-loop thread while `run` ran, in ms: the best of three runs. */
async function blocked(what: string, run: (i: number) => Promise<unknown> | unknown): Promise<number> {
  let cpu = Infinity;
  let block = Infinity;
  for (let i = 0; i < 3; i++) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    // give the monitor's timer a first tick, so a block at the very start is seen
    await new Promise((r) => setTimeout(r, 10));
    const before = process.threadCpuUsage();
    await run(i);
    const used = process.threadCpuUsage(before);
    await new Promise((r) => setTimeout(r, 10));
    h.disable();
    cpu = Math.min(cpu, (used.user + used.system) / 1000);
    block = Math.min(block, h.max / 1e6);
  }
  figures.push([what, cpu, block]);
  return cpu;
}

/** `length` characters: `unit` repeated, cut to size. */
const sized = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
/** A URL of exactly `length` characters whose host is a run of dots (the pattern that froze the server). */
const dottedUrl = (length: number) => `http://a${'.'.repeat(length - 'http://a'.length - 3)}b/x`;
/** A URL of exactly `length` characters with a long path. */
const longUrl = (base: string, length: number) => `${base}?${'x'.repeat(length - base.length - 1)}`;

// adversarial comment bodies: runs that make link finders backtrack
const BODIES: Record<string, string> = {
  '"a." × 5,000': sized('a.', COMMENT_MAX),
  '"a-" × 5,000': sized('a-', COMMENT_MAX),
  '"1." × 5,000': sized('1.', COMMENT_MAX),
  '"a/" × 5,000': sized('a/', COMMENT_MAX),
  '"a@" × 5,000': sized('a@', COMMENT_MAX),
  '"a.-" × 3,333': sized('a.-', COMMENT_MAX),
  '"http://a." …': `http://${sized('a.', COMMENT_MAX - 7)}`,
  'one 10,000-character link': `https://example.com/${'x'.repeat(COMMENT_MAX - 20)}`,
  'dots only': '.'.repeat(COMMENT_MAX),
};

describe('event-loop time of the largest inputs', () => {
  it.each(Object.entries(BODIES))('comment body %s: rendering', async (what, body) => {
    expect(await blocked(`commentToHtml(${what})`, () => commentToHtml(body))).toBeLessThan(BUDGET_MS);
  });

  it.each(Object.entries(BODIES))('comment body %s: POST /v1/articles/{slug}/comments', async (what, body) => {
    const ms = await blocked(`POST comment, body ${what}`, async (i) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/articles/${slug}/comments`,
        remoteAddress: `10.9.${Object.keys(BODIES).indexOf(what)}.${i + 1}`,
        payload: { authorName: sized('N', 100), authorEmail: `r${i}@example.com`, authorUrl: dottedUrl(MAX_URL_LENGTH), body: `${body.slice(0, COMMENT_MAX - 1)}${i}` },
      });
      expect(res.statusCode, res.body).toBe(201);
    });
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('comment authorName, authorUrl and body at their schema maximum (refused as too long, cheaply)', async () => {
    const ms = await blocked('POST comment, every field at its schema maximum', async (i) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/articles/${slug}/comments`,
        remoteAddress: `10.8.0.${i + 1}`,
        payload: { authorName: sized('a.', 200), authorEmail: 'x@example.com', authorUrl: dottedUrl(MAX_URL_LENGTH + 1), body: sized('a.', 20_000) },
      });
      expect(res.statusCode, res.body).toBe(400);
    });
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('pingback.ping with the 63,000-dot source that filled the XML-RPC body', async () => {
    const source = `http://a${'.'.repeat(XMLRPC_BODY_LIMIT - 2_600)}b/x`;
    const body = pingCall(source, permalink);
    expect(body.length).toBeLessThanOrEqual(XMLRPC_BODY_LIMIT);
    const ms = await blocked(`pingback.ping, ${source.length.toLocaleString('en')}-character dotted source`, async () => {
      const res = await postXml(t, body);
      expect(res.body).toContain('<name>faultCode</name><value><int>16</int>');
    });
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('pingback.ping with source and target at 2,048 characters, and with a 60 KB target', async () => {
    const ms = await blocked('pingback.ping, dotted source and target of 2,048 characters', () => postXml(t, pingCall(dottedUrl(MAX_URL_LENGTH), longUrl(permalink, MAX_URL_LENGTH))));
    expect(ms).toBeLessThan(BUDGET_MS);
    const target = await blocked('pingback.ping, 60,000-character target', () => postXml(t, pingCall('http://example.com/', `${permalink}${'.'.repeat(60_000)}`)));
    expect(target).toBeLessThan(BUDGET_MS);
  });

  it('an XML-RPC body of 64 KB of nested values', async () => {
    const nested = `<?xml version="1.0"?><methodCall><methodName>pingback.ping</methodName><params><param><value>${'<array><data><value>'.repeat(1500)}`;
    const ms = await blocked('XML-RPC, 64 KB of nested arrays', () => postXml(t, sized(nested, XMLRPC_BODY_LIMIT)));
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('POST /webmention with source and target at 2,048 characters', async () => {
    const ms = await blocked('webmention, dotted source and long target of 2,048 characters', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/webmention',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ source: dottedUrl(MAX_URL_LENGTH), target: longUrl(permalink, MAX_URL_LENGTH) }).toString(),
      });
      expect(res.statusCode, res.body).toBeLessThan(500);
    });
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  it('query strings at their maximum', async () => {
    const urls = [
      `/v1/articles?q=${encodeURIComponent(sized('a. -"or ', 200))}`,
      `/v1/articles?after=${sized('a.', 512)}&tag=${sized('a-', 120)}&author=${sized('a-', 120)}`,
      `/v1/articles?${sized('x=a.&', 8000)}`,
      `/${sized('a./', 2000)}`,
    ];
    for (const url of urls) {
      const ms = await blocked(`GET ${url.slice(0, 40)}… (${url.length} characters)`, async () => {
        const res = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        expect(res.statusCode, res.body.slice(0, 200)).toBeLessThan(500);
      });
      expect(ms, url.slice(0, 60)).toBeLessThan(BUDGET_MS);
    }
  });
});
