import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client.ts';

/** The database a test file runs on: `pglite` by default, `postgres` with TEST_DATABASE_URL. */
export const testDatabaseKind = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

/** A fresh, migrated database of its own: a copy of the template made by global-setup. */
export async function createTestDatabase(opts: { kind?: 'pglite' | 'postgres'; poolSize?: number } = {}): Promise<Database> {
  const kind = opts.kind ?? testDatabaseKind;
  if (kind === 'postgres') {
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
    const name = `inkwell_t_${randomBytes(6).toString('hex')}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    for (let i = 0; ; i++) {
      try {
        await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplateDb')}`);
        break;
      } catch (e) {
        // two files copying the template at the same instant: PostgreSQL refuses one; try again
        if (i >= 20) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ url: url.href, dataDir: '', poolSize: opts.poolSize ?? 5 });
    const close = database.close;
    return {
      ...database,
      close: async () => {
        await close();
        const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        await a.end();
      },
      location: url.href,
    };
  }
  const tpl = readFileSync(inject('pgliteTemplate'));
  return openDatabase({ url: 'memory://', dataDir: '', loadDataDir: new Blob([tpl]) });
}
