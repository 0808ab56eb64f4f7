// Backups of the embedded database: a populated site backed up through the CLI and
// restored into a fresh DATA_DIR has the same articles, responses, tokens, queued jobs
// and media files; a backup while a server holds the database is refused clearly.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { testConfig } from '../../src/config.ts';
import { openAndMigrate } from '../../src/runtime.ts';
import { queryRows } from '../../src/db/client.ts';
import { enqueue } from '../../src/jobs/kernel.ts';
import { BackupError, backupEmbedded, restoreEmbedded } from '../../src/db/backup.ts';
import { verifyToken } from '../../src/auth/tokens.service.ts';
import { createTestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';
import { runNode } from '../helpers/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'inkwell-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SLOW = { timeout: 240_000 };

const siteState = async (config: ReturnType<typeof testConfig>) => {
  const database = await openAndMigrate(config);
  try {
    const q = <T>(s: ReturnType<typeof sql>) => queryRows<T>(database.db, s);
    return {
      articles: await q<{ slug: string; status: string }>(sql`select slug, status from articles order by id`),
      responses: await q<{ type: string; author_name: string; status: string }>(sql`select type, author_name, status from responses order by id`),
      tokens: await q<{ name: string; scope: string }>(sql`select name, scope from api_tokens order by id`),
      jobs: await q<{ kind: string; status: string }>(sql`select kind, status from jobs where status = 'queued' order by id`),
      database,
    };
  } catch (e) {
    await database.close();
    throw e;
  }
};

describe('backup and restore of the embedded database', () => {
  const source = testConfig({ databaseUrl: undefined, dataDir: join(dir, 'site') });
  const file = join(dir, 'site.backup.tar.gz');
  let token = '';

  it('backs up a populated site (CLI) and restores it into a fresh DATA_DIR with the same content, tokens, queued jobs and media', SLOW, async () => {
    const database = await openAndMigrate(source);
    const t = await createTestApp({ commentModeration: 'open', commentMinIntervalSeconds: 0 }, { database });
    token = t.token;
    await createArticle(t, { title: 'Kept safe', markdown: 'Words worth keeping.' });
    await createArticle(t, { title: 'A draft', markdown: 'Not yet.', status: 'draft' });
    const c = await t.app.inject({ method: 'POST', url: '/v1/articles/kept-safe/comments', payload: { authorName: 'Reader', authorEmail: 'r@example.org', body: 'Nice.' } });
    expect(c.statusCode).toBe(201);
    await enqueue(database.db, { kind: 'later', runAt: new Date(Date.now() + 86_400_000) });
    await t.close();
    await database.close();
    mkdirSync(join(source.dataDir, 'media', 'ab12'), { recursive: true });
    writeFileSync(join(source.dataDir, 'media', 'ab12', '640.webp'), 'image bytes');

    const before = await siteState(source);
    await before.database.close();
    expect(before.articles.map((a) => a.slug)).toEqual(expect.arrayContaining(['kept-safe', 'a-draft']));
    expect(before.jobs).toContainEqual({ kind: 'later', status: 'queued' });

    const cli = runNode('src/cli/main.ts', ['backup', file], { DATA_DIR: source.dataDir });
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toMatch(/Backed up .* \(\d+ bytes, 1 media file in .*\.media\/\)/);

    const fresh = testConfig({ databaseUrl: undefined, dataDir: join(dir, 'restored') });
    const restored = await restoreEmbedded(fresh, file);
    expect(restored.mediaFiles).toBe(1);
    const after = await siteState(fresh);
    try {
      expect(after.articles).toEqual(before.articles);
      expect(after.responses).toEqual(before.responses);
      expect(after.tokens).toEqual(before.tokens);
      expect(after.jobs).toEqual(before.jobs);
      expect(await verifyToken(after.database.db, token)).toMatchObject({ name: 'test', scope: 'admin', expired: false });
    } finally {
      await after.database.close();
    }
    expect(readFileSync(join(fresh.dataDir, 'media', 'ab12', '640.webp'), 'utf8')).toBe('image bytes');
  });

  it('refuses to restore over an existing database', SLOW, async () => {
    await expect(restoreEmbedded(source, file)).rejects.toThrow(/already holds a database/);
  });

  it('refuses clearly while a server holds the database, and for PostgreSQL points to pg_dump', SLOW, async () => {
    // another live process holds the data directory, as a running server does
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    writeFileSync(join(source.dataDir, 'inkwell.pid'), String(holder.pid));
    try {
      await expect(backupEmbedded(source, join(dir, 'x.tar.gz'))).rejects.toThrow(new RegExp(`in use by another Inkwell process \\(pid ${holder.pid}\\).*stop the server`));
      expect(existsSync(join(dir, 'x.tar.gz'))).toBe(false);
    } finally {
      holder.kill();
      rmSync(join(source.dataDir, 'inkwell.pid'), { force: true });
    }
    await expect(backupEmbedded(testConfig({ databaseUrl: 'postgres://u@127.0.0.1/db' }), join(dir, 'y'))).rejects.toThrow(/pg_dump/);
    await expect(backupEmbedded(testConfig(), join(dir, 'y'))).rejects.toBeInstanceOf(BackupError);
  });
});
