// `npm run cli -- import wordpress FILE.xml [--dry-run]` as an operator runs it, on an
// embedded database of its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/process.ts';
import { photo } from '../media/support.ts';
import { FIXTURE, fixtureText } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'inkwell-wp-cli-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const p = runNode('src/cli/main.ts', args, { DATA_DIR: dataDir, OUTBOUND_ALLOW_PRIVATE: 'true' });
  return { code: await p.exited, out: p.output() };
};

describe('import wordpress on the command line', () => {
  it('a dry run prints the report and writes nothing; the import prints the same; progress without a terminal is plain lines', { timeout: 300_000 }, async () => {
    const dry = await cli('import', 'wordpress', FIXTURE, '--dry-run');
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain('WordPress import from myonlinecareerspace.com (WXR 1.2): dry run, nothing was written');
    expect(dry.out).toMatch(/posts\s+5\s+0\s+0\s+3/);
    expect(dry.out).toContain('16/16 items');

    const real = await cli('import', 'wordpress', FIXTURE);
    expect(real.code, real.out).toBe(0);
    expect(real.out).toMatch(/posts\s+5\s+0\s+0\s+3/);
    expect(real.out).toMatch(/comments\s+6\s+0\s+0\s+0/);
    expect(real.out).toMatch(/pingbacks\s+2\s+0\s+0\s+0/);
    expect(real.out).toContain('page type (not a post)');
  });

  it('a malformed file stops with its line and reason, and exit code 1', { timeout: 300_000 }, async () => {
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, fixtureText().replace('<wp:comment_parent>3</wp:comment_parent>', '<wp:comment_parent>3</wp:comment_parnet>'));
    const res = await cli('import', 'wordpress', bad);
    expect(res.code).toBe(1);
    expect(res.out).toContain('Import stopped: bad.xml, line 382: unexpected close tag.');
    expect(res.out).toContain('Nothing was written');
    const missing = await cli('import', 'wordpress', join(dir, 'nope.xml'));
    expect(missing.code).toBe(2);
    expect(missing.out).toContain('No such file');
  });

  it('--media brings a post’s image over from the old site (loopback allowed by OUTBOUND_ALLOW_PRIVATE)', { timeout: 300_000 }, async () => {
    const jpeg = await photo(400, 300, 'jpeg');
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const file = join(dir, 'with-image.xml');
      writeFileSync(
        file,
        `<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Old</title><link>${site}</link><wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>${site}</wp:base_site_url>
<item><title>With an image</title><link>${site}/with-an-image/</link><dc:creator>w</dc:creator>
<content:encoded><![CDATA[Look: <img src="/wp-content/uploads/look.jpg" alt="Look" />]]></content:encoded>
<wp:post_id>77</wp:post_id><wp:post_date_gmt>2024-01-02 03:04:05</wp:post_date_gmt><wp:post_name>with-an-image</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
</channel></rss>`,
      );
      const res = await cli('import', 'wordpress', file, '--media');
      expect(res.code, res.out).toBe(0);
      expect(res.out).toMatch(/images\s+1\s+0\s+0\s+0/);
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
