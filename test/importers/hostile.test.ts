// Exports that are not what they should be: known slips repaired and reported; a file
// that cannot be read stops with its line and reason before anything is written; a stop
// in the middle leaves whole batches, and the same command again finishes the job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.ts';
import { WxrError } from '../../src/importers/wordpress/wordpress.importer.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { FIXTURE, fixtureText, importInto, snapshot } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** The import's error; the database as it was. */
async function stops(source: { text: string } | { bytes: Buffer }) {
  const before = await snapshot(t);
  const error = await importInto(t, source).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WxrError);
  expect(await snapshot(t)).toEqual(before);
  return error as WxrError;
}

describe('refused with the line and the reason, nothing written', () => {
  it('a DOCTYPE with entity declarations (the "billion laughs")', async () => {
    const bomb = fixtureText().replace(
      '<rss version="2.0"',
      `<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<rss version="2.0"`,
    );
    const e = await stops({ text: bomb.replace('<![CDATA[Why Send a Thank You Note After a Job Interview?]]></title>', '<![CDATA[x]]>&c;</title>') });
    expect(e.message).toMatch(/^line 20: a DOCTYPE is not accepted/);
  });

  it('invalid UTF-8', async () => {
    const bytes = Buffer.from(fixtureText(), 'utf8');
    const at = bytes.indexOf('Maria Lopez');
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe]), bytes.subarray(at)]);
    const e = await stops({ bytes: broken });
    expect(e.message).toBe('line 359: invalid UTF-8 (WordPress exports are UTF-8)');
  });

  it('a truncated file', async () => {
    const text = fixtureText();
    const e = await stops({ text: text.slice(0, text.indexOf('Dress one step above')) });
    expect(e.message).toBe('line 318: the file ends inside <content:encoded> (truncated?)');
  });

  it('malformed XML', async () => {
    const e = await stops({ text: fixtureText().replace('<wp:comment_parent>3</wp:comment_parent>', '<wp:comment_parent>3</wp:comment_parnet>') });
    expect(e.message).toMatch(/^line 382: unexpected close tag/);
  });

  it('not a WordPress export: another document, an RSS feed, an empty file', async () => {
    expect((await stops({ text: '<?xml version="1.0"?>\n<html><body><p>hello</p></body></html>' })).message).toBe('line 2: not a WordPress export (WXR): the document is <html>, not <rss>');
    const feed = '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>A feed</title>\n<item><title>Post</title></item></channel></rss>';
    expect((await stops({ text: feed })).message).toBe('line 3: not a WordPress export (WXR): no <wp:wxr_version> in the channel before the first item');
    expect((await stops({ text: '' })).message).toBe('the file is empty: not a WordPress export');
  });
});

describe('known slips, repaired and reported', () => {
  it("a raw & in comment_author_url (older WordPress wrote it so), and a reply whose parent is not in the export", async () => {
    const text = fixtureText()
      .replace('<wp:comment_author_url>http://kevinobrien.example.net/</wp:comment_author_url>', '<wp:comment_author_url>http://kevinobrien.example.net/?from=blog&ref=comment</wp:comment_author_url>')
      .replace('<wp:comment_parent>3</wp:comment_parent>', '<wp:comment_parent>7</wp:comment_parent>');
    const { report } = await importInto(t, { text });
    expect(report.notes.map((n) => `${n.line} ${n.category}`)).toEqual(['389 repaired', '307 parent']);
    expect(report.notes[1].text).toBe('comment 4 on post 7: its parent 7 is not in the export (spam is never exported); imported at the top level');
    expect(report.format()).toContain('line 389: a raw "&" escaped as "&amp;"');
    const rows = await queryRows<{ author_name: string; author_url: string | null; parent_id: number | null; depth: number }>(
      t.database.db,
      sql`select author_name, author_url, parent_id, depth from responses where author_name in ('Kevin O''Brien', 'Dana Whitfield') order by author_name`,
    );
    expect(rows).toEqual([
      { author_name: 'Dana Whitfield', author_url: null, parent_id: null, depth: 0 },
      { author_name: "Kevin O'Brien", author_url: 'http://kevinobrien.example.net/?from=blog&ref=comment', parent_id: null, depth: 0 },
    ]);
  });
});

describe('a stop in the middle', () => {
  it('leaves whole batches committed, and the same import again finishes without duplicates', async () => {
    const fresh = await createTestApp();
    try {
      let seen = 0;
      const stopped = await importInto(fresh, FIXTURE, {
        batchSize: 2,
        onProgress: () => {
          if (++seen === 5) throw new Error('the machine went down');
        },
      }).catch((e: Error) => e);
      expect(stopped).toBeInstanceOf(Error);
      const count = async (table: string) => Number((await queryRows<{ n: number }>(fresh.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0].n);
      // batch 1 (an attachment and the seed's post) and batch 2 (an attachment and the post with six comments) are in; batch 3 is not
      expect(await count('articles')).toBe(2);
      expect(await count('responses')).toBe(7);
      expect(await count('wordpress_imports')).toBe(2 + 7);

      const { report } = await importInto(fresh, FIXTURE);
      expect(report.kinds.posts).toMatchObject({ imported: 3, unchanged: 2 });
      expect(report.kinds.comments).toMatchObject({ imported: 1, unchanged: 5 });
      expect(await count('articles')).toBe(5);
      expect(await count('responses')).toBe(8);
    } finally {
      await fresh.close();
    }
  });

  it('an interrupted import (Ctrl-C in the CLI) stops once the batch it is writing commits, and says so', async () => {
    const fresh = await createTestApp();
    try {
      const stop = new AbortController();
      const { report } = await importInto(fresh, FIXTURE, { batchSize: 2, signal: stop.signal, onProgress: () => stop.abort() });
      expect(report.stoppedAt).toEqual({ done: 3, total: 16 });
      expect(report.format()).toContain('Interrupted after 3 of 16 items');
      expect(report.kinds.posts).toMatchObject({ imported: 1, skipped: 1 });
      const again = await importInto(fresh, FIXTURE);
      expect(again.report.kinds.posts).toMatchObject({ imported: 4, unchanged: 1 });
      expect(again.report.stoppedAt).toBeNull();
    } finally {
      await fresh.close();
    }
  });
});
