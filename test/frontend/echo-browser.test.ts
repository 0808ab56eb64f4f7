// The social echo in a real browser (Debian's chromium through playwright-core): an
// article published through the admin API, announced on the fake Mastodon and Bluesky,
// reactions added there, one backfeed poll, then the article page shows the summary line
// of each network, the facepiles and the replies threaded with their network.
// Run with UPDATE_SCREENSHOTS=1 (it writes docs/echo.png for the README); skipped
// otherwise, to keep CI's time for tests that guard behaviour (test/social/backfeed.test.ts
// checks the same page's HTML).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFEED_JOB } from '../../src/social/backfeed/backfeed.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FakeBluesky } from '../helpers/fake-bluesky.ts';
import { FakeMastodon } from '../helpers/fake-mastodon.ts';
import { freePort, ROOT } from '../helpers/process.ts';
import { networksConfig } from '../social/networks.support.ts';
import { account, bpost, me, newBskyReactions, person, serveBskyReactions, type BskyPost } from '../social/reactions.support.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!process.env.UPDATE_SCREENSHOTS || !existsSync(CHROMIUM))('the social echo in Chromium', () => {
  let m: FakeMastodon;
  let b: FakeBluesky;
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    m = await FakeMastodon.start();
    b = await FakeBluesky.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp(networksConfig(m, b, { port, apiUrl: base, siteUrl: base, siteTitle: 'CareerSpace Notes', commentModeration: 'open' }));
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await m?.close();
    await b?.close();
  });

  it('shows the summary lines, the facepiles and the threaded replies with their network', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/articles',
      headers: t.auth,
      payload: {
        title: 'Why Send a Thank You Note After a Job Interview?',
        markdown:
          'A short note the same day tells the interviewer you listened, and gives you one more chance to say why you want the job.\n\nKeep it to three sentences: thank them, recall one thing you discussed, and say you look forward to hearing from them.',
        tags: ['careers'],
        status: 'published',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const slug = created.json().slug as string;
    await t.services.jobs.drainDue();

    // on Mastodon
    const status = m.statuses[0];
    const [ana, ben, cleo, dan, dara] = ['Ana', 'Ben', 'Cleo', 'Dan', 'Dara'].map(account);
    status.favouritedBy.push(ana, ben, cleo);
    status.rebloggedBy.push(ben, dara);
    const cleoReply = m.reply(status, cleo, 'Sent one yesterday after a panel interview. They mentioned it when they called back!');
    m.reply(cleoReply, dan, 'Same here. Short and specific works best.');

    // on Bluesky
    const ours = b.posts[0];
    const bsky = newBskyReactions();
    serveBskyReactions(b, bsky, (): BskyPost => ({ author: me, rkey: ours.rkey, text: ours.record.text, createdAt: new Date().toISOString(), replies: [] }));
    const [eve, fay, gus, hal, ivy, jo] = ['Eve', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jo'].map(person);
    bsky.likes.push(eve, fay, gus, hal, ivy);
    bsky.reposts.push(fay);
    const gusReply = bpost(gus, 'Do recruiters still read these, or only hiring managers?');
    gusReply.replies.push(bpost(hal, 'Hiring managers do. I keep every one I get.'));
    bsky.replies.push(gusReply);
    bsky.mentions.push(bpost(jo, `Good advice for anyone job hunting: ${base}/${slug}/`));

    // one poll
    await t.database.db.execute(sql`update jobs set run_at = now() where kind = ${BACKFEED_JOB} and status = 'queued'`);
    await t.services.jobs.drainDue();

    const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
    await context.route('**/*', (route) => (new URL(route.request().url()).origin === base ? route.continue() : route.abort()));
    const page = await context.newPage();
    await page.goto(`${base}/${slug}/`);
    expect(await page.locator('.echo-summary li').allTextContents()).toEqual(expect.arrayContaining(['Mentioned on Mastodon by Cleo, Dan and 3 others', 'Mentioned on Bluesky by Gus, Hal and 4 others']));
    expect(await page.locator('.facepile h3').allTextContents()).toEqual(['Likes 8', 'Reposts 3']);
    expect(await page.locator('.response.social .response-type').allTextContents()).toEqual(
      expect.arrayContaining(['Reply on Mastodon:', 'Reply on Bluesky:', 'Mention on Bluesky:']),
    );
    expect(await page.locator('.response.social .children .response-author').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Dan'), expect.stringContaining('Hal')]),
    );
    expect(await page.locator('#responses-title').textContent()).toBe('4 Responses to “Why Send a Thank You Note After a Job Interview?”');
    // the picture is about the echo: the reply form below it is left out
    await page.evaluate("document.getElementById('respond').remove()");
    await page.screenshot({ path: join(ROOT, 'docs', 'echo.png'), fullPage: true });
    await context.close();
  });
});
