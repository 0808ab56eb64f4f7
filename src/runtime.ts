// Opening the database the way both the server and the CLI need it: lock the
// embedded directory, open, migrate. One place, so they cannot drift apart.
import type { Config } from './config.ts';
import { openDatabase, type Database } from './db/client.ts';
import { lockDataDir } from './db/lock.ts';
import { migrate } from './db/migrate.ts';

export async function openAndMigrate(config: Config): Promise<Database> {
  const embeddedDir = config.databaseUrl === undefined ? config.dataDir : undefined;
  const unlock = embeddedDir ? lockDataDir(embeddedDir) : () => {};
  try {
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await migrate(database);
    const close = database.close;
    return {
      ...database,
      close: async () => {
        try {
          await close();
        } finally {
          unlock();
        }
      },
    };
  } catch (e) {
    unlock();
    throw e;
  }
}
