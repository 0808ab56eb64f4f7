// Runs once per `vitest run`: migrates one template database so every test file
// starts from a copy instead of migrating again.
//  - PGlite: a migrated instance dumped to a gzip file; files load it (~0.3 s).
//  - PostgreSQL (TEST_DATABASE_URL): a migrated template database; files CREATE DATABASE … TEMPLATE it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplateDb: string;
    /** a folder of this run's own (the bundle's build lock) */
    testRunDir: string;
  }
}

export const PG_TEMPLATE = 'inkwell_test_template';

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-test-'));
  project.provide('testRunDir', dir);
  const pg = process.env.TEST_DATABASE_URL;
  if (pg) {
    const admin = postgres(pg, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${PG_TEMPLATE} WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE ${PG_TEMPLATE}`);
    await admin.end();
    const url = new URL(pg);
    url.pathname = `/${PG_TEMPLATE}`;
    const tpl = await openDatabase({ url: url.href, dataDir: '', poolSize: 2 });
    await migrate(tpl);
    await tpl.close();
    project.provide('pgTemplateDb', PG_TEMPLATE);
  } else {
    project.provide('pgTemplateDb', '');
  }
  const db = await openDatabase({ url: 'memory://', dataDir: '' });
  await migrate(db);
  const client = (db.db as unknown as { $client: { dumpDataDir(c: 'gzip'): Promise<Blob> } }).$client;
  const blob = await client.dumpDataDir('gzip');
  const file = join(dir, 'template.tar.gz');
  writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  await db.close();
  project.provide('pgliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
