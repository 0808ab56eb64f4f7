import { createReadStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.ts';
import { importWordPress, type ImportDeps, type ImportOptions } from '../../src/importers/wordpress/wordpress.importer.ts';
import type { TestApp } from '../helpers/app.ts';

export const FIXTURE = fileURLToPath(new URL('../fixtures/wordpress/careerspace.xml', import.meta.url));
export const fixtureText = () => readFileSync(FIXTURE, 'utf8');

/** Imports a file, or XML text, into the app's database the way the CLI does; counts the cache signals. */
export async function importInto(t: TestApp, source: string | { text: string } | { bytes: Buffer }, opts: ImportOptions = {}, media?: ImportDeps['media']) {
  let changes = 0;
  const report = await importWordPress(
    { db: t.database.db, config: t.config, media, onChange: (since) => (changes++, t.services.events.emit(t.database.db, { type: 'articles.imported', data: { since: since.toISOString() } })) },
    typeof source === 'string' ? () => createReadStream(source, { highWaterMark: 4096 }) : () => chunks('bytes' in source ? source.bytes : Buffer.from(source.text, 'utf8')),
    opts,
  );
  return { report, changes };
}

async function* chunks(buf: Buffer, size = 1000) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Every row of the tables an import may touch, to compare before and after. */
export async function snapshot(t: TestApp) {
  const tables = ['articles', 'responses', 'authors', 'tags', 'article_tags', 'slug_redirects', 'redirects', 'wordpress_imports', 'jobs', 'announcements', 'outgoing_pings', 'media', 'wordpress_media'];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = await queryRows(t.database.db, sql.raw(`select * from ${table} order by 1, 2`));
  return out;
}
