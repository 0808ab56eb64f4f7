// Two Inkwell blogs on 127.0.0.1 talking to each other through their public faces only:
// the article page of one (reference frontend, discovery headers) is what the other
// discovers, pings and verifies. Every hop crosses a real socket.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responses } from '../../../src/comments/responses.table.ts';
import { createTestApp, type TestApp } from '../../helpers/app.ts';
import { pythonXmlRpc } from '../../helpers/fake-blogs.ts';
import { freePort } from '../../helpers/process.ts';
import { NO_LIMIT, publish } from '../support.ts';

let alice: TestApp;
let bob: TestApp;

async function blogOnItsOwnPort(): Promise<TestApp> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ siteUrl: origin, apiUrl: origin, frontend: true, outboundAllowPrivate: true, commentModeration: 'open', rateLimitWrites: NO_LIMIT });
  await t.app.listen({ port, host: '127.0.0.1' });
  return t;
}

const mentionsOf = (t: TestApp, articleId: number, source: string) =>
  t.database.db.select().from(responses).where(and(eq(responses.articleId, articleId), eq(responses.sourceUrl, source)));

beforeAll(async () => {
  [alice, bob] = await Promise.all([blogOnItsOwnPort(), blogOnItsOwnPort()]);
});
afterAll(async () => {
  await Promise.all([alice?.close(), bob?.close()]);
});

describe('Inkwell to Inkwell', () => {
  it('publishing a link sends a Webmention that the other blog verifies against the article page, and an edit withdraws it', async () => {
    const target = await publish(bob, { title: "Bob's essay" });
    const page = await fetch(target.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('link')).toContain('rel="webmention"');

    const source = await publish(alice, { title: "Alice's answer", markdown: `I disagree with [Bob's essay](${target.url}) on one point.` });
    await alice.services.jobs.drainDue();
    const sent = (await alice.app.inject({ method: 'GET', url: `/v1/admin/pings?article=${source.id}`, headers: alice.auth })).json().data;
    expect(sent).toEqual([expect.objectContaining({ status: 'sent', protocol: 'webmention', endpoint: `${new URL(target.url).origin}/webmention`, target: target.url })]);

    await bob.services.jobs.drainDue();
    const [mention] = await mentionsOf(bob, target.id, source.url);
    expect(mention).toMatchObject({ type: 'webmention', status: 'approved', authorUrl: source.url });
    expect(mention.authorName).toContain("Alice's answer");
    expect(mention.html).toContain('I disagree with Bob&#39;s essay on one point.');
    const shown = await bob.app.inject({ method: 'GET', url: `/v1/articles/${target.slug}/responses` });
    expect(shown.json().data.map((r: { type: string }) => r.type)).toEqual(['webmention']);

    const edit = await alice.app.inject({ method: 'PATCH', url: `/v1/admin/articles/${source.id}`, headers: alice.auth, payload: { markdown: 'On reflection, I agree.' } });
    expect(edit.statusCode).toBe(200);
    await alice.services.jobs.drainDue();
    await bob.services.jobs.drainDue();
    expect(await mentionsOf(bob, target.id, source.url)).toHaveLength(0);
  });

  it("a pingback sent by Python's xmlrpc.client is verified against the other blog's article page", async () => {
    const target = await publish(bob, { title: 'Pinged by Python' });
    const source = await publish(alice, { title: 'The source', markdown: `Read [this](${target.url}).`, pingsOpen: false });
    const endpoint = (await fetch(target.url, { method: 'HEAD' })).headers.get('x-pingback')!;
    expect(endpoint).toBe(`${new URL(target.url).origin}/xmlrpc`);
    const [answer, again] = await pythonXmlRpc(endpoint, [
      ['pingback.ping', [source.url, target.url]],
      ['pingback.ping', [source.url, target.url]],
    ]);
    expect(answer.ok).toMatch(/registered/);
    expect(again.fault?.code).toBe(0x30);
    const [mention] = await mentionsOf(bob, target.id, source.url);
    expect(mention).toMatchObject({ type: 'pingback', status: 'approved' });
    expect(mention.html).toContain('Read this.');
  });
});
