// The import reads its file as a stream: a generated export far larger than anything the
// reader keeps goes through in flat memory, and a few thousand items import in one run.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.ts';
import { importWordPress } from '../../src/importers/wordpress/wordpress.importer.ts';
import { readWxr } from '../../src/importers/wordpress/wxr.reader.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { wxrBytes } from '../helpers/wxr-generate.ts';

describe('streaming', () => {
  it('reads a ~30 MB export keeping a small fraction of it in memory', async () => {
    const opts = { posts: 2000, commentsPerPost: 20, words: 1500 };
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let bytes = 0;
    let items = 0;
    let comments = 0;
    async function* counted() {
      for await (const chunk of wxrBytes(opts)) {
        bytes += chunk.length;
        yield chunk;
      }
    }
    for await (const e of readWxr(counted())) {
      if (e.kind !== 'item') continue;
      items++;
      comments += e.item.comments.length;
      if (items % 250 === 0) {
        gc(); // what is kept, not what waits for collection
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    expect(items).toBe(2000);
    expect(comments).toBe(40_000);
    expect(bytes).toBeGreaterThan(30 * 1024 * 1024);
    // a DOM of the file would hold several times its size; the stream holds a chunk and an item
    expect(peak).toBeLessThan(bytes / 10);
  });

  describe('a generated export of a few thousand items', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('imports every post and comment, threaded, with progress and the raw & in every author URL repaired', async () => {
      const opts = { posts: 200, commentsPerPost: 12, words: 200 };
      const progress: number[] = [];
      const report = await importWordPress({ db: t.database.db, config: t.config }, () => wxrBytes(opts, 64 * 1024), {
        onProgress: (done, total) => {
          expect(total).toBe(200 * 13);
          if (done % 1000 < 13) progress.push(done);
        },
      });
      expect(report.kinds.posts.imported).toBe(200);
      expect(report.kinds.comments.imported).toBe(2400);
      expect(report.noteCounts.repaired).toBe(2400);
      expect(progress.length).toBeGreaterThanOrEqual(2);
      const [row] = await queryRows<{ replies: number; pending: number; urls: number }>(
        t.database.db,
        sql`select count(*) filter (where parent_id is not null)::int as replies, count(*) filter (where status = 'pending')::int as pending,
                   count(*) filter (where author_url like '%?a=1&b=2')::int as urls from responses`,
      );
      expect(row).toEqual({ replies: 800, pending: 200, urls: 2400 });
      const again = await importWordPress({ db: t.database.db, config: t.config }, () => wxrBytes(opts));
      expect(again.kinds.comments).toMatchObject({ imported: 0, updated: 0, unchanged: 2400 });
    });
  });
});
