// The composition root: services are built once here and handed to routes, workers
// and the CLI alike. A new network or protocol is a new folder and a line here.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { JobRunner, type Logger } from './jobs/kernel.ts';

export interface Services {
  config: Config;
  database: Database;
  jobs: JobRunner;
}

export function compose(config: Config, database: Database, log: Logger): Services {
  const jobs = new JobRunner({ db: database.db, log });
  return { config, database, jobs };
}
