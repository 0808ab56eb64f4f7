// `npm run cli -- import wordpress FILE.xml [--dry-run]` as an operator runs it, on an
// embedded database of its own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/process.ts';
import { FIXTURE, fixtureText } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'inkwell-wp-cli-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = async (...args: string[]) => {
  const p = runNode('src/cli/main.ts', args, { DATA_DIR: dataDir });
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
});
