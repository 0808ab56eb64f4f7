// Backups of the embedded database (PGlite): `npm run cli -- backup FILE` and
// `restore FILE`. The backup is PGlite's own dump of its data directory (a gzipped
// tar: `dumpDataDir`), and the media folder, when there is one, is copied beside it
// as `FILE.media/`. A restore loads the dump into a fresh DATA_DIR (`loadDataDir`),
// applies any newer migrations, and puts the media back.
//
// Consistency: PGlite is one process's database, so a backup needs the data directory
// to itself. While a server holds it, the backup refuses (naming the server's pid)
// instead of copying files that are being written: stop the server, back up, start it
// again (a few seconds for a blog). PostgreSQL deployments use pg_dump (README).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from './client.ts';
import { DatabaseInUseError, lockDataDir } from './lock.ts';
import { migrate } from './migrate.ts';

export class BackupError extends Error {
  override name = 'BackupError';
}

/** where media files live on an embedded site (the folder storage's default) */
const mediaDirOf = (config: Config) => join(config.dataDir, 'media');
const mediaBeside = (file: string) => `${file}.media`;

function embeddedOnly(config: Config, what: string): void {
  if (config.databaseUrl === 'memory://') throw new BackupError(`DATABASE_URL=memory:// is thrown away at exit: there is nothing to ${what}.`);
  if (config.databaseUrl !== undefined) {
    throw new BackupError(
      `${what} is for the embedded database (DATA_DIR). DATABASE_URL points at PostgreSQL: use pg_dump and pg_restore (see "Backups" in the README).`,
    );
  }
}

function lock(config: Config, what: string): () => void {
  try {
    return lockDataDir(config.dataDir);
  } catch (e) {
    if (e instanceof DatabaseInUseError) {
      throw new BackupError(
        `Cannot ${what} now: the embedded database in ${config.dataDir} is in use by another Inkwell process (pid ${e.pid}). ` +
          `PGlite allows one process at a time, and copying it while it writes would give a broken backup: stop the server, run this again, then start it.`,
      );
    }
    throw e;
  }
}

export interface BackupSummary {
  file: string;
  bytes: number;
  /** media files copied beside it */
  mediaFiles: number;
}

const countFiles = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name)) : 1), 0);

export async function backupEmbedded(config: Config, file: string): Promise<BackupSummary> {
  embeddedOnly(config, 'back up');
  if (!existsSync(join(config.dataDir, 'PG_VERSION'))) throw new BackupError(`There is no embedded database in ${config.dataDir} to back up.`);
  const unlock = lock(config, 'back up');
  try {
    const database = await openDatabase({ url: undefined, dataDir: config.dataDir });
    let dump: Blob;
    try {
      const client = (database.db as unknown as { $client: { dumpDataDir(c: 'gzip'): Promise<Blob> } }).$client;
      dump = await client.dumpDataDir('gzip');
    } finally {
      await database.close();
    }
    const bytes = Buffer.from(await dump.arrayBuffer());
    writeFileSync(file, bytes);
    let mediaFiles = 0;
    if (existsSync(mediaDirOf(config))) {
      cpSync(mediaDirOf(config), mediaBeside(file), { recursive: true, force: true });
      mediaFiles = countFiles(mediaBeside(file));
    }
    return { file, bytes: bytes.length, mediaFiles };
  } finally {
    unlock();
  }
}

export async function restoreEmbedded(config: Config, file: string): Promise<BackupSummary> {
  embeddedOnly(config, 'restore');
  if (!existsSync(file)) throw new BackupError(`No backup file at ${file}.`);
  if (existsSync(join(config.dataDir, 'PG_VERSION'))) {
    throw new BackupError(`${config.dataDir} already holds a database: restore into an empty DATA_DIR (move the old one away first).`);
  }
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lock(config, 'restore');
  try {
    const bytes = readFileSync(file);
    const database = await openDatabase({ url: undefined, dataDir: config.dataDir, loadDataDir: new Blob([bytes]) });
    try {
      await migrate(database); // a backup from an older version catches up
    } finally {
      await database.close();
    }
    let mediaFiles = 0;
    if (existsSync(mediaBeside(file))) {
      cpSync(mediaBeside(file), mediaDirOf(config), { recursive: true, force: false, errorOnExist: false });
      mediaFiles = countFiles(mediaBeside(file));
    }
    return { file, bytes: bytes.length, mediaFiles };
  } finally {
    unlock();
  }
}
