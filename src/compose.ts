// The composition root: services are built once here and handed to routes, workers
// and the CLI alike. A new network or protocol is a new folder and a line here.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { JobRunner, type Logger } from './jobs/kernel.ts';
import { PublishingEvents } from './articles/publishing.ts';

export interface Services {
  config: Config;
  database: Database;
  jobs: JobRunner;
  /** announcements, outgoing pings… subscribe here */
  publishing: PublishingEvents;
  log: Logger;
}

export function compose(config: Config, database: Database, log: Logger): Services {
  const jobs = new JobRunner({ db: database.db, log });
  const publishing = new PublishingEvents();
  const services: Services = { config, database, jobs, publishing, log };
  return services;
}
